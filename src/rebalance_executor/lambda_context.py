"""A Lambda-like context whose remaining time really counts down (for the CLI and tests).

Powertools' test context reports 0 ms remaining, which would make every deadline "too small";
this one counts down from a configured timeout on the monotonic clock, like the real runtime.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CountdownContext:
    """Quacks like ``aws_lambda_powertools.utilities.typing.LambdaContext``.

    ``get_remaining_time_in_millis`` never goes negative. ``monotonic`` is injectable so tests
    can drive the countdown without sleeping.
    """

    timeout_s: float = 60.0
    function_name: str = "rebalance-executor-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    region: str = "us-east-1"
    account_id: str = "123456789012"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    monotonic: Callable[[], float] = time.monotonic
    _started: float = field(init=False)

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self._started = self.monotonic()

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before this (simulated) invocation would time out; ≥ 0."""
        elapsed = self.monotonic() - self._started
        return max(0, int((self.timeout_s - elapsed) * 1000))
