"""``rebalance-executor report RESULT.json [--html OUT]`` — human report of a stored result.

Accepts ``result.json`` as stored in S3 (or an ``attempts/<n>.json`` record), either a local file
or an ``s3://bucket/key`` URI read with the ambient AWS credentials; prints the item table and
totals to stdout and, with ``--html``, writes the self-contained chart page.
Exit codes: 0 printed; 2 the file is unreadable or not an execution result; 1 the HTML page
could not be written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from rich.console import Console

from rebalance_executor.adapters.s3_results import ResultReadError, S3ResultsStore, parse_s3_uri
from rebalance_executor.domain.result import ExecutionResult
from rebalance_executor.reporting.html import write_html
from rebalance_executor.reporting.loading import ResultLoadError, load_result, parse_result
from rebalance_executor.reporting.terminal import print_result

EXIT_OK = 0
EXIT_WRITE_FAILED = 1
EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``report`` sub-command; it sets ``func`` to :func:`run`."""
    parser = subparsers.add_parser(
        "report",
        help="print the report of a stored execution result (optionally an HTML chart page)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # str, not Path: Path("s3://b/k") would collapse the URI's double slash.
    parser.add_argument("result", metavar="RESULT.json", help="result file or s3:// URI")
    parser.add_argument("--html", type=Path, metavar="OUT", help="also write an HTML page here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    """Execute the sub-command for parsed ``args``; errors go to stderr, never a traceback."""
    out = console or Console()
    try:
        result = _load(args.result)
    except ResultLoadError as exc:
        # Plain write, not rich: paths in the message must stay unwrapped and copyable.
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    print_result(result, out)
    html_path: Path | None = args.html
    if html_path is not None:
        try:
            written = write_html(result, html_path)
        except OSError as exc:
            sys.stderr.write(f"error: cannot write {html_path}: {exc}\n")
            return EXIT_WRITE_FAILED
        out.print(f"HTML report: {written.resolve()}", highlight=False)
    return EXIT_OK


def report_response(response: Mapping[str, Any], console: Console) -> bool:
    """Print the report of the result a handler response points at (``result_uri``).

    For ``invoke``/``replay --report``. Returns False (after one line on stderr) when the
    response has no ``result_uri`` or the stored result cannot be read; never raises for that.
    """
    uri = response.get("result_uri")
    if not isinstance(uri, str) or not uri:
        sys.stderr.write("error: the response has no result_uri to report\n")
        return False
    try:
        print_result(_load(uri), console)
    except ResultLoadError as exc:
        sys.stderr.write(f"error: cannot report {uri}: {exc}\n")
        return False
    return True


def _load(source: str) -> ExecutionResult:
    """A local file or an ``s3://`` URI. Raises ResultLoadError for either failing."""
    if not source.startswith("s3://"):
        return load_result(source)
    try:
        bucket, key = parse_s3_uri(source)
        document = S3ResultsStore(boto3.client("s3"), bucket).read_json(bucket, key)
    except (ValueError, ResultReadError) as exc:
        raise ResultLoadError(str(exc)) from exc
    return parse_result(document, source=source)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: ``python -m rebalance_executor.cli.report report RESULT.json``."""
    parser = argparse.ArgumentParser(prog="rebalance-executor")
    subparsers = parser.add_subparsers(dest="command", required=True)
    register(subparsers)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
