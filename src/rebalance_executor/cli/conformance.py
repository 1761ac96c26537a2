"""``rebalance-executor conformance --base-url URL``: what this broker really does.

A fixed, safe script of probes (cli/conformance_probes.py) against an Alpaca paper account or
the simulator: account fields, order acknowledgement, cancel and replace windows, replace qty
semantics, error codes and messages, rate-limit headers, feed differences. Paper only: a live
endpoint is refused before any request. Orders are one share at half the bid and all cancelled
at the end; the report (JSON) says what each probe saw and whether that is what Alpaca
documents, and is what settles the rows of alpaca-behaviour.md that are only reported.

Keys come from ALPACA_API_KEY / ALPACA_SECRET_KEY. Exit 0 when every probe that ran behaved as
documented, 1 when one differs, 2 for bad input (live endpoint, missing keys, no quote).
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from rebalance_executor.cli.conformance_probes import (
    AlpacaHttp,
    Observation,
    ProbeRun,
    far_price,
    probe_account,
    probe_ack_and_replace,
    probe_cancel,
    probe_errors,
    probe_feeds,
    probe_fractional_replace,
    probe_rate_limit_headers,
    probe_wash_trade,
)

PAPER_HOST = "paper-api.alpaca.markets"
PAPER_DATA_URL = "https://data.alpaca.markets"
EXIT_DIFFERS = 1
EXIT_BAD_INPUT = 2


class ProbeRefusedError(ValueError):
    """The target is not a paper endpoint, or the probe cannot start (keys, quote)."""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "conformance", help="probe a paper Alpaca endpoint (or the simulator) for its behaviour"
    )
    parser.add_argument("--base-url", required=True, help="trading API base URL (paper only)")
    parser.add_argument("--data-url", default=None, help="market-data URL (default: derived)")
    parser.add_argument("--symbol", default="SPY", help="a liquid, fractionable symbol")
    parser.add_argument("--out", type=Path, default=Path("out/conformance.json"))
    parser.add_argument(
        "--allow-fill-probes",
        action="store_true",
        help="also run probes that may fill one share on the paper account (wash trade)",
    )
    parser.set_defaults(func=run)


def data_url_for(base_url: str, explicit: str | None) -> str:
    """The market-data URL: explicit, Alpaca's data host for Alpaca's paper API, else the
    same server (the simulator serves both).

    Raises ProbeRefusedError for a URL that is not http(s) or an Alpaca host other than paper.
    """
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ProbeRefusedError(f"--base-url must be an http(s) URL, got {base_url!r}")
    host = parsed.hostname.lower()
    if host.endswith("alpaca.markets") and host != PAPER_HOST:
        raise ProbeRefusedError(f"{host} is not Alpaca's paper API; conformance is paper only")
    if explicit:
        return explicit
    return PAPER_DATA_URL if host == PAPER_HOST else base_url


def run(args: argparse.Namespace) -> int:
    try:
        report = conformance_report(
            args.base_url, args.data_url, args.symbol, allow_fills=args.allow_fill_probes
        )
    except ProbeRefusedError as exc:
        print(f"conformance: {exc}")  # noqa: T201 - the command's own output
        return EXIT_BAD_INPUT
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    for probe in report["probes"]:
        verdict = {True: "as documented", False: "DIFFERS", None: "not run"}[probe["as_documented"]]
        print(f"{probe['name']:28} rows {probe['rows']!s:10} {verdict}")  # noqa: T201
    print(f"left over orders: {len(report['left_over_orders'])}; report: {args.out}")  # noqa: T201
    differs = any(p["as_documented"] is False for p in report["probes"])
    return EXIT_DIFFERS if differs or report["left_over_orders"] else 0


def conformance_report(
    base_url: str, data_url: str | None, symbol: str, *, allow_fills: bool = False
) -> dict[str, Any]:
    """Run every probe, cancel every order they placed, return the report document.

    Raises ProbeRefusedError (live endpoint, missing keys, not a paper account, no quote).
    """
    data = data_url_for(base_url, data_url)
    key, secret = os.environ.get("ALPACA_API_KEY"), os.environ.get("ALPACA_SECRET_KEY")
    if not key or not secret:
        raise ProbeRefusedError("set ALPACA_API_KEY and ALPACA_SECRET_KEY (a paper account's)")
    http = AlpacaHttp(base_url, data, key, secret)
    account = http.trading("GET", "/v2/account")
    number = str(account.body.get("account_number", "")) if isinstance(account.body, dict) else ""
    if account.status != 200 or not number.startswith("PA"):
        raise ProbeRefusedError(f"not a paper account (HTTP {account.status}, number {number!r})")
    probes = ProbeRun(http, symbol.upper(), f"conf-{uuid.uuid4().hex[:8]}", allow_fills)
    probes.price = far_price(_bid(http, probes.symbol))
    started = datetime.now(UTC)
    observations: list[Observation] = []
    try:
        observations.append(probe_account(probes))
        observations.append(probe_rate_limit_headers(probes))
        observations.extend(probe_ack_and_replace(probes))
        observations.append(probe_fractional_replace(probes))
        observations.extend(probe_cancel(probes))
        observations.extend(probe_errors(probes))
        observations.append(probe_feeds(probes))
        observations.append(probe_wash_trade(probes))
    finally:
        left_over = _cancel_everything(probes)
    return {
        "base_url": base_url,
        "data_url": data,
        "symbol": probes.symbol,
        "limit_price": str(probes.price),
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "probes": [asdict(o) for o in observations],
        "left_over_orders": left_over,
    }


def _bid(http: AlpacaHttp, symbol: str) -> Decimal:
    for feed in ("sip", "iex"):
        got = http.data("/v2/stocks/quotes/latest", {"symbols": symbol, "feed": feed})
        quotes = got.body.get("quotes", {}) if isinstance(got.body, dict) else {}
        bid = Decimal(str(quotes.get(symbol, {}).get("bp") or 0))
        if bid > 0:
            return bid
    raise ProbeRefusedError(f"no bid for {symbol} on sip or iex: cannot price a safe order")


def _cancel_everything(probes: ProbeRun) -> list[str]:
    """Cancel every order the probes placed; the client order ids still open afterwards."""
    for order_id in probes.order_ids:
        probes.http.trading("DELETE", f"/v2/orders/{order_id}")
    for order_id in probes.order_ids:
        probes.wait_until(order_id, lambda s: s not in ("new", "pending_cancel", *_PENDING))
    listed = probes.http.trading("GET", "/v2/orders", params={"status": "open", "limit": "500"})
    open_orders = listed.body if isinstance(listed.body, list) else []
    return [
        str(o["client_order_id"])
        for o in open_orders
        if str(o.get("client_order_id", "")).startswith(probes.prefix)
    ]


_PENDING = ("pending_new", "accepted", "pending_replace", "partially_filled")
