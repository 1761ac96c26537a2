"""A scripted kill switch (our own port) for executor unit tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FakeKillSwitch:
    """Answers ``answers`` in order, then repeats the last answer forever."""

    answers: list[bool]
    calls: int = 0

    async def is_engaged(self) -> bool:
        self.calls += 1
        return self.answers[min(self.calls - 1, len(self.answers) - 1)]
