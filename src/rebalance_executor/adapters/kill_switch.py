"""The kill switch (SPEC §6): the ``KILL_SWITCH`` env flag and/or an SSM parameter.

Fail closed: if the parameter is configured but cannot be read (missing, access denied, SSM
down), the switch counts as engaged. The parameter value is cached for a few seconds so the
executor can check it on every working tick at no cost: at most one SSM read per ``cache_s``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

logger = logging.getLogger(__name__)

_ON = frozenset({"true", "on", "1", "yes", "engaged"})
_OFF = frozenset({"false", "off", "0", "no", "", "disengaged"})


class EnvSsmKillSwitch:
    """Implements the executor's ``KillSwitch`` protocol (``async is_engaged() -> bool``)."""

    def __init__(
        self,
        *,
        env_flag: bool,
        ssm: SSMClient | None = None,
        parameter: str | None = None,
        cache_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if parameter and ssm is None:
            raise ValueError("an SSM client is required when a kill-switch parameter is set")
        self._env_flag = env_flag
        self._source = (ssm, parameter) if ssm is not None and parameter else None
        self._cache_s = cache_s
        self._monotonic = monotonic
        self._cached: tuple[float, bool] | None = None

    async def is_engaged(self) -> bool:
        """True when either source says stop, or the parameter cannot be read."""
        if self._env_flag:
            return True
        if self._source is None:
            return False
        now = self._monotonic()
        if self._cached is not None and now - self._cached[0] < self._cache_s:
            return self._cached[1]
        engaged = await asyncio.to_thread(self._read_parameter, *self._source)
        self._cached = (now, engaged)
        return engaged

    @staticmethod
    def _read_parameter(ssm: SSMClient, parameter: str) -> bool:
        try:
            value = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
        except (ClientError, BotoCoreError):
            logger.exception(
                "kill switch parameter unreadable; failing closed",
                extra={"parameter": parameter},
            )
            return True
        normalized = value.strip().lower()
        if normalized in _OFF:
            return False
        if normalized not in _ON:
            logger.error(
                "kill switch parameter has an unknown value; failing closed",
                extra={"parameter": parameter, "value": value[:32]},
            )
        return True
