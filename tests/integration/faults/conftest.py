"""The handler + simulator + moto rig (see harness.py)."""

from tests.integration.faults.harness import rig

__all__ = ["rig"]
