"""Process-wide settings for in-process local runs (``run``, ``bench``), always restored."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def patched_environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or unset, for None) variables for the block; restore the environment after it."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            _put(name, value)
        yield
    finally:
        for name, old in saved.items():
            _put(name, old)


def _put(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@contextmanager
def logger_levels(levels: Mapping[str, int]) -> Iterator[None]:
    """Set the named loggers' levels for the block; restore them after it."""
    saved = {name: logging.getLogger(name).level for name in levels}
    try:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
