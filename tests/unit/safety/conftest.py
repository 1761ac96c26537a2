"""The handler + simulator + moto rig shared with the fault suite."""

from tests.integration.faults.harness import rig

__all__ = ["rig"]
