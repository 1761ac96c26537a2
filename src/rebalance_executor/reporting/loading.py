"""Read a stored execution result from disk, tolerant of the envelope it was stored in.

The S3 document is ``ExecutionResult.model_dump(mode="json")``, possibly wrapped by the writer
(e.g. ``{"result": {...}, "event": {...}}``) or carrying extra top-level metadata keys. This
module unwraps known envelopes and ignores unknown top-level keys, but validates the result
itself strictly so a corrupt document is reported, not half-rendered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rebalance_executor.domain.result import ExecutionResult

# Keys under which a writer may nest the result document, most specific first.
_ENVELOPE_KEYS = ("result", "execution_result", "execution", "document", "detail")
_RESULT_FIELDS = frozenset(ExecutionResult.model_fields)
_SUMMARY_ONLY_KEYS = frozenset({"result_uri", "items_total", "orders_submitted"})


class ResultLoadError(ValueError):
    """The file is missing, not JSON, or holds no valid execution result."""


def load_result(path: str | Path) -> ExecutionResult:
    """Load an :class:`ExecutionResult` from a JSON file.

    Raises :class:`ResultLoadError` when the file cannot be read, is not JSON, is the handler's
    compact summary rather than the full result, or fails validation (the message names the
    failing fields).
    """
    file = Path(path)
    try:
        raw = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResultLoadError(f"cannot read {file}: {exc.strerror or exc}") from exc
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ResultLoadError(f"{file} is not JSON: {exc}") from exc
    return parse_result(document, source=str(file))


def parse_result(document: Any, *, source: str = "document") -> ExecutionResult:
    """Validate an already-decoded result document (see :func:`load_result` for failures)."""
    body = _unwrap(document, source)
    try:
        return ExecutionResult.model_validate(
            {k: v for k, v in body.items() if k in _RESULT_FIELDS}
        )
    except ValidationError as exc:
        raise ResultLoadError(f"{source} is not a valid execution result: {exc}") from exc


def _unwrap(document: Any, source: str) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise ResultLoadError(f"{source}: expected a JSON object, got {type(document).__name__}")
    if _looks_like_result(document):
        return document
    for key in _ENVELOPE_KEYS:
        nested = document.get(key)
        if isinstance(nested, Mapping) and _looks_like_result(nested):
            return nested
    if document.keys() >= _SUMMARY_ONLY_KEYS:
        uri = document.get("result_uri") or "its result_uri"
        raise ResultLoadError(
            f"{source} is the handler's summary, not the full result; download {uri} and "
            "report that file"
        )
    raise ResultLoadError(f"{source}: no execution result found (needs plan_id, status, items)")


def _looks_like_result(document: Mapping[str, Any]) -> bool:
    return {"plan_id", "status", "started_at"} <= document.keys()
