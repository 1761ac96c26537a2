"""``rebalance-executor conformance`` against the simulator: the same probe a user points at an
Alpaca paper account. On the faithful simulator every probe behaves as Alpaca documents, and
nothing is left open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alpaca_sim.testing import RunningSimulator
from rebalance_executor.bench.invariants import TERMINAL_STATUSES
from rebalance_executor.cli.conformance import ProbeRefusedError, data_url_for
from rebalance_executor.cli.main import main

EXPECTED_PROBES = {
    "account_fields",
    "rate_limit_headers",
    "order_acknowledgement",
    "replace_while_pending",
    "replace_keeps_qty",
    "replace_noop",
    "fractional_replace",
    "cancel_window",
    "cancel_terminal",
    "duplicate_client_order_id",
    "sub_penny_price",
    "unknown_asset",
    "qty_and_notional",
    "market_data_feeds",
    "wash_trade",
}


def test_probe_on_the_simulator_finds_alpaca_behaviour(
    sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPACA_API_KEY", "PROBEKEY01")
    monkeypatch.setenv("ALPACA_SECRET_KEY", "PROBESECRET01")
    out = tmp_path / "conformance.json"
    args = ["conformance", "--base-url", sim.base_url, "--out", str(out), "--allow-fill-probes"]
    code = main(args)
    report = json.loads(out.read_text())
    verdicts = {p["name"]: p["as_documented"] for p in report["probes"]}
    assert set(verdicts) == EXPECTED_PROBES
    differs = {
        n: p["observed"] for p in report["probes"] if (n := p["name"]) and not p["as_documented"]
    }
    assert differs == {}
    assert report["left_over_orders"] == []
    assert code == 0
    # nothing the probe placed is open at the simulator either
    open_orders = [
        o for o in sim.control.orders("PROBEKEY01") if o["status"] not in TERMINAL_STATUSES
    ]
    assert open_orders == []


@pytest.mark.parametrize(
    "url",
    ["https://api.alpaca.markets", "https://broker-api.alpaca.markets", "ftp://127.0.0.1:1"],
)
def test_live_and_odd_endpoints_are_refused_before_any_request(url: str) -> None:
    with pytest.raises(ProbeRefusedError):
        data_url_for(url, None)


def test_paper_endpoint_reads_alpacas_data_host() -> None:
    assert data_url_for("https://paper-api.alpaca.markets", None) == "https://data.alpaca.markets"
    assert data_url_for("http://127.0.0.1:8765", None) == "http://127.0.0.1:8765"


def test_missing_keys_is_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ALPACA_API_KEY", raising=False)
    monkeypatch.delenv("ALPACA_SECRET_KEY", raising=False)
    out = tmp_path / "c.json"
    assert main(["conformance", "--base-url", "http://127.0.0.1:9", "--out", str(out)]) == 2
    assert not out.exists()
