"""The CLI's process-wide patches are always undone, also when the block raises."""

from __future__ import annotations

import logging
import os

import pytest

from rebalance_executor.cli.local_env import logger_levels, patched_environ


class BlockFailedError(RuntimeError):
    pass


def test_patched_environ_sets_unsets_and_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RE_TEST_KEPT", "before")
    monkeypatch.delenv("RE_TEST_NEW", raising=False)
    seen: dict[str, str | None] = {}

    def block() -> None:
        with patched_environ({"RE_TEST_KEPT": None, "RE_TEST_NEW": "during"}):
            seen.update(kept=os.environ.get("RE_TEST_KEPT"), new=os.environ.get("RE_TEST_NEW"))
            raise BlockFailedError

    with pytest.raises(BlockFailedError):
        block()
    assert seen == {"kept": None, "new": "during"}
    assert os.environ["RE_TEST_KEPT"] == "before"
    assert "RE_TEST_NEW" not in os.environ


def test_logger_levels_are_restored() -> None:
    named = logging.getLogger("re_test_logger")
    named.setLevel(logging.DEBUG)
    with logger_levels({"re_test_logger": logging.ERROR}):
        assert named.level == logging.ERROR
    assert named.level == logging.DEBUG
