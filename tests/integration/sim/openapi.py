"""Alpaca's published OpenAPI files (read in place, never copied) as JSON Schemas for bodies.

The files live at ``<repo>/../shared/alpaca-openapi/{trading,data}.yaml`` (alpacahq/alpaca-docs
``oas/``, 2022). ``$ref``s are inlined and OpenAPI 3.0's ``nullable: true`` becomes JSON Schema's
``null`` type, so ``jsonschema`` can validate a response body against the schema of its
path / method / status.
"""

from __future__ import annotations

import copy
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parents[3]
SPEC_DIR = REPO_ROOT.parent / "shared" / "alpaca-openapi"


def spec_dir() -> Path:
    """``<repo>/../shared/alpaca-openapi``; from a git worktree, the main checkout's ``../shared``.

    A linked worktree lives elsewhere than the repository it belongs to; git's common directory
    (``<main checkout>/.git``) names the checkout whose parent holds ``shared``.
    """
    if SPEC_DIR.is_dir():
        return SPEC_DIR
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return SPEC_DIR
    return Path(common).parent.parent / "shared" / "alpaca-openapi"


# Alpaca's error body. The 2022 files document error statuses without a body schema; this is the
# shape the API reference documents for every error ({"code": 40010001, "message": "..."}).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
    "required": ["code", "message"],
}


# Where the 2022 files are older than the live API (alpaca-behaviour.md: the live reference
# wins), the property schema is patched, with the reason.
_NULLABLE: dict[str, Any] = {"nullable": True}
SPEC_GAPS: dict[tuple[str, str, str], tuple[dict[str, Any], str]] = {
    ("trading", "Order", "trail_percent"): (_NULLABLE, "null unless trailing (alpaca-py Optional)"),
    ("trading", "Order", "trail_price"): (_NULLABLE, "null unless trailing (alpaca-py Optional)"),
    ("trading", "Order", "hwm"): (_NULLABLE, "null unless trailing (alpaca-py Optional)"),
    ("trading", "PositionClosedReponse", "status"): (
        {"type": "integer"},
        "an HTTP status number: the file's own example sends 200, alpaca-py types it int",
    ),
}


class SpecMissingError(AssertionError):
    """The shared OpenAPI file is not where CI puts it."""


@cache
def load_spec(name: str) -> dict[str, Any]:
    """``trading`` or ``data``: the parsed YAML. Raises SpecMissingError when it is absent."""
    path = spec_dir() / f"{name}.yaml"
    if not path.is_file():
        raise SpecMissingError(
            f"Alpaca's OpenAPI file {path} is missing: the conformance test reads "
            "../shared/alpaca-openapi/ next to the repository (see its README); it is never "
            "copied into the repository"
        )
    spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return spec


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    return to_json_schema({k: _convert(v) for k, v in node.items() if not k.startswith("x-")})


def to_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0 ``nullable: true`` as JSON Schema (a ``null`` type, ``None`` in an enum)."""
    if schema.pop("nullable", False) is not True:
        return schema
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    if isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


@cache
def _components(name: str) -> dict[str, Any]:
    spec = copy.deepcopy(load_spec(name))
    for (file, schema, prop), (patch, _reason) in SPEC_GAPS.items():
        if file == name:
            spec["components"]["schemas"][schema]["properties"][prop].update(patch)
    converted: dict[str, Any] = _convert(spec["components"])
    return converted


def _rooted(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """``schema`` with the file's components attached, so ``#/components/...`` refs resolve."""
    return {"allOf": [schema], "components": _components(name)}


def component(name: str, schema_name: str, *, array: bool = False) -> dict[str, Any]:
    """A ``components/schemas`` entry (or an array of it) as a self-contained JSON Schema."""
    ref = {"$ref": f"#/components/schemas/{schema_name}"}
    return _rooted({"type": "array", "items": ref} if array else ref, name)


def response_schema(name: str, path: str, method: str, status: int) -> dict[str, Any] | None:
    """The JSON body schema of a documented response, or None (undocumented body)."""
    responses = load_spec(name)["paths"][path][method]["responses"]
    response = responses.get(str(status)) or responses.get(status)
    if response is None:
        return None
    body = response.get("content", {}).get("application/json", {}).get("schema")
    return None if body is None else _rooted(_convert(copy.deepcopy(body)), name)
