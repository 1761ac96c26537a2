"""Packaging (issue 18): the extras, the CLI without its extra, the artifact's bytecode check."""

from __future__ import annotations

import compileall
import importlib.util
import py_compile
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from rebalance_executor.cli.main import CLI_EXTRA_MODULES, INSTALL_HINT

ROOT = Path(__file__).resolve().parents[3]
PROJECT = "rebalance-executor"


def _run_cli_without(module: str) -> subprocess.CompletedProcess[str]:
    """`rebalance-executor run` in a fresh interpreter where importing ``module`` fails."""
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from rebalance_executor.cli.main import main\n"
        "raise SystemExit(main(['run']))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )


def _extra_distributions(extras: dict[str, list[str]], name: str) -> set[str]:
    """Distribution names an extra pulls in, following ``rebalance-executor[other]``."""
    found: set[str] = set()
    for requirement in extras[name]:
        dist = re.split(r"[\[<>=; ]", requirement, maxsplit=1)[0].lower()
        if dist == PROJECT:
            inner = requirement.split("[", 1)[1].split("]", 1)[0]
            found |= _extra_distributions(extras, inner)
        else:
            found.add(dist)
    return found


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_without_its_extra_names_the_extra_in_one_sentence() -> None:
    completed = _run_cli_without("rich")
    assert completed.returncode == 1
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "[cli] extra" in lines[0]
    assert "'rich'" in lines[0]
    assert lines[0].endswith(INSTALL_HINT)
    assert "Traceback" not in completed.stderr


def test_a_missing_module_that_no_extra_provides_still_raises() -> None:
    completed = _run_cli_without("alpaca_sim")
    assert completed.returncode == 1
    assert "Traceback" in completed.stderr
    assert "ModuleNotFoundError" in completed.stderr
    assert INSTALL_HINT not in completed.stderr


def test_the_cli_extra_is_what_the_missing_extra_message_recognises() -> None:
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    extras = project["optional-dependencies"]
    cli = _extra_distributions(extras, "cli")
    # Every [cli] distribution imports under its own name, so a missing one is recognised.
    assert cli <= CLI_EXTRA_MODULES
    assert _extra_distributions(extras, "sim") <= cli
    assert cli <= _extra_distributions(extras, "dev")
    runtime = {re.split(r"[\[<>=; ]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    assert not runtime & CLI_EXTRA_MODULES  # the Lambda artifact never installs them


@pytest.mark.parametrize(
    ("mode", "problem"),
    [
        (py_compile.PycInvalidationMode.UNCHECKED_HASH, None),
        (py_compile.PycInvalidationMode.TIMESTAMP, "not unchecked-hash"),
    ],
)
def test_bytecode_check_accepts_only_unchecked_hash_pycs(
    tmp_path: Path, mode: py_compile.PycInvalidationMode, problem: str | None
) -> None:
    check = _load_script("check_built_artifact")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("VALUE = 1\n", encoding="utf-8")
    (tmp_path / "pkg" / "mod.py").write_text("X = 2\n", encoding="utf-8")
    assert compileall.compile_dir(tmp_path, quiet=1, invalidation_mode=mode)
    if sys.version_info[:2] != check.RUNTIME:
        assert check.check_bytecode(tmp_path) is None  # skipped off the runtime's Python
        return
    result = check.check_bytecode(tmp_path)
    assert result is None if problem is None else problem in result


def test_bytecode_check_names_a_module_without_bytecode(tmp_path: Path) -> None:
    check = _load_script("check_built_artifact")
    (tmp_path / "handler.py").write_text("X = 1\n", encoding="utf-8")
    if sys.version_info[:2] != check.RUNTIME:
        pytest.skip("the bytecode check runs on the Lambda runtime's Python (3.13) only")
    assert check.check_bytecode(tmp_path) == (
        f"1 of 1 modules have no {sys.implementation.cache_tag} .pyc, e.g. handler.py"
    )


def _stand_in(name: str) -> ModuleType:
    path = ROOT / "packaging" / "lambda-stubs" / name / "__init__.py"
    spec = importlib.util.spec_from_file_location(f"stand_in_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_artifacts_pandas_stand_in_imports_as_alpaca_py_needs_and_fails_loudly_on_use() -> None:
    """alpaca-py does `import pandas as pd` and `from pandas import DataFrame` (annotations);
    anything that would really use pandas raises and says why it is missing."""
    pandas = _stand_in("pandas")
    assert isinstance(pandas.DataFrame, type)
    with pytest.raises(RuntimeError, match="not shipped in the rebalance-executor Lambda"):
        pandas.DataFrame([{"a": 1}])
    with pytest.raises(RuntimeError, match="not shipped"):
        pandas.Timestamp("2026-01-01")
    with pytest.raises(AttributeError, match=r"pandas\.concat"):
        _ = pandas.concat
    numpy = _stand_in("numpy")
    with pytest.raises(AttributeError, match=r"numpy\.array"):
        _ = numpy.array


def test_alpaca_py_touches_pandas_and_numpy_only_where_the_stand_ins_allow() -> None:
    """The stand-ins are safe only while alpaca-py's module-level use stays `import`, `from
    pandas import DataFrame` and calls inside helpers the handler never runs: fail when an
    alpaca-py upgrade uses them anywhere else."""
    alpaca = Path(importlib.util.find_spec("alpaca").origin or "").parent  # type: ignore[union-attr]
    uses = {}
    for source in alpaca.rglob("*.py"):
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(
                r"\b(pd|np|pandas|numpy|DataFrame)\b", line
            ) and not line.lstrip().startswith("#"):
                uses[f"{source.relative_to(alpaca)}:{number}"] = line.strip()
    expected_files = {"trading/requests.py", "data/models/base.py"}
    assert {key.split(":")[0] for key in uses} <= expected_files, uses
