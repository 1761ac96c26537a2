"""Shared fixtures of the contract tests."""

from __future__ import annotations

import pytest

from rebalance_executor.settings import Settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Only the variables a test sets are visible; local keys by default."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("ALPACA_API_KEY", "test-key-id")
    monkeypatch.setenv("ALPACA_SECRET_KEY", "test-secret-value")
    return monkeypatch
