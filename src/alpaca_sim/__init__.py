"""alpaca_sim: an Alpaca-compatible market simulator for tests, the benchmark and ``make run``.

Start one in-process with :func:`alpaca_sim.testing.running_simulator`, or standalone with the
``alpaca-sim`` console script. See README.md for the fill model and the control API.
"""

from alpaca_sim.clock import SimClock
from alpaca_sim.control import AccountState, SimControl
from alpaca_sim.engine import FillRecord
from alpaca_sim.faults import FaultSpec
from alpaca_sim.market import QuoteTick
from alpaca_sim.scenario import Scenario, SymbolSpec

__all__ = [
    "AccountState",
    "FaultSpec",
    "FillRecord",
    "QuoteTick",
    "Scenario",
    "SimClock",
    "SimControl",
    "SymbolSpec",
]
