"""Check the `sam build` artifact: self-contained, lean, built for the function's architecture.

Usage: check_built_artifact.py .aws-sam/build

Checks, in order (exit 1 with one line naming the problem on the first failure):
1. the handler module exists, no simulator, dev tool or handler-unused package (cli/,
   reporting/, bench/) was shipped, and pandas/numpy are the stand-ins of packaging/lambda-stubs;
2. the unzipped size is under Lambda's 250 MiB limit;
3. every native extension (ELF .so) targets the architecture declared in the built template;
4. every module has a Python 3.13 unchecked-hash .pyc beside it (Lambda's code directory is
   read-only: a missing one is recompiled at every cold start; docs/deploy.md);
5. the handler imports in a clean Python 3.13 interpreter (-I -S: no site-packages), so every
   import comes from the artifact itself.
Checks 4 and 5 are skipped with a message on another Python version, because the artifact holds
cp313 wheels and cp313 bytecode.
"""

import re
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

FUNCTION = "RebalanceExecutorFunction"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
# Top-level packages that must never ship: the simulator and development-only tooling.
FORBIDDEN = (
    "alpaca_sim",
    "pytest",
    "_pytest",
    "moto",
    "hypothesis",
    "mypy",
    "ruff",
    "checkov",
    "cfnlint",
    "fastapi",
    "uvicorn",
    "matplotlib",
    "rich",
    "mypy_boto3_dynamodb",
    "samcli",
    "awslambdaric",
    "rebalance_executor/cli",
    "rebalance_executor/reporting",
    "rebalance_executor/bench",
)
RUNTIME = (3, 13)
# alpaca-py imports these at module level for helpers the handler never calls (docs/deploy.md).
STAND_INS = ("pandas", "numpy")
# PEP 552 .pyc header flags: bit 0 = hash-based, bit 1 = check the source.
UNCHECKED_HASH = 0b01
# ELF e_machine values (offset 18, little-endian) by Lambda architecture name.
ELF_MACHINE = {"x86_64": 0x3E, "arm64": 0xB7}
PROBE = (
    "import sys; sys.path[:0] = [sys.argv[1]]; "
    "import rebalance_executor.handler as h; assert callable(h.lambda_handler); "
    "assert h.__file__.startswith(sys.argv[1]), h.__file__; print('artifact ok:', h.__file__)"
)
PROBE_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "rebalance-executor",
    "RESULTS_BUCKET": "artifact-check",
    "IDEMPOTENCY_TABLE": "artifact-check",
    "ALPACA_API_KEY": "artifact-check",
    "ALPACA_SECRET_KEY": "artifact-check",
}


def check_contents(build: Path) -> str | None:
    if not (build / "rebalance_executor" / "handler.py").is_file():
        return f"no handler in {build}"
    shipped = sorted(name for name in FORBIDDEN if (build / name).exists())
    if shipped:
        return f"must not ship in the Lambda artifact: {', '.join(shipped)}"
    for name in STAND_INS:  # the real packages would cost ~90 MiB and ~320 ms of cold start
        init = build / name / "__init__.py"
        if not init.is_file() or "rebalance-executor Lambda artifact" not in init.read_text():
            return f"{name} must be the stand-in of packaging/lambda-stubs, not the real package"
    return None


def check_size(build: Path) -> str | None:
    size = sum(p.stat().st_size for p in build.rglob("*") if p.is_file() and not p.is_symlink())
    sys.stdout.write(f"artifact size: {size / 2**20:.1f} MiB unzipped (limit 250 MiB)\n")
    if size >= LAMBDA_UNZIPPED_LIMIT:
        return f"artifact is {size / 2**20:.1f} MiB unzipped; Lambda allows 250 MiB"
    return None


def declared_architecture(built_template: Path) -> str:
    text = built_template.read_text(encoding="utf-8")
    match = re.search(r"Architectures:\s*\n\s*-\s*(\S+)", text)
    return match.group(1) if match else "x86_64"  # Lambda's default


def check_architecture(build: Path, arch: str) -> str | None:
    machine = ELF_MACHINE.get(arch)
    if machine is None:
        return f"unknown architecture {arch!r} in the built template"
    wrong = []
    count = 0
    for path in build.rglob("*.so*"):
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as f:
            header = f.read(20)
        if header[:4] != b"\x7fELF":
            continue
        count += 1
        if int.from_bytes(header[18:20], "little") != machine:
            wrong.append(str(path.relative_to(build)))
    if wrong:
        return f"{len(wrong)} of {count} native files are not {arch}, e.g. {wrong[0]}"
    sys.stdout.write(f"native files: {count}, all {arch}\n")
    return None


def _other_runtime(what: str) -> bool:
    if sys.version_info[:2] == RUNTIME:
        return False
    found = sys.version.split()[0]
    sys.stdout.write(f"artifact built; {what} check needs Python 3.13, this is {found}: SKIPPED\n")
    return True


def check_bytecode(build: Path) -> str | None:
    if _other_runtime("bytecode"):
        return None
    tag = sys.implementation.cache_tag
    sources = list(build.rglob("*.py"))
    missing, checked = [], []
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        if not pyc.is_file():
            missing.append(source)
            continue
        with pyc.open("rb") as f:
            flags = int.from_bytes(f.read(8)[4:8], "little")
        if flags != UNCHECKED_HASH:
            checked.append(pyc)
    if missing:
        example = missing[0].relative_to(build)
        return f"{len(missing)} of {len(sources)} modules have no {tag} .pyc, e.g. {example}"
    if checked:
        return f"{len(checked)} .pyc files are not unchecked-hash, e.g. {checked[0]}"
    sys.stdout.write(f"bytecode: {len(sources)} modules, all precompiled ({tag}, unchecked-hash)\n")
    return None


def check_import(build: Path) -> str | None:
    if _other_runtime("import"):
        return None
    # Absolute: the probe asserts the handler came from this path. -B: leave the artifact as built.
    command = [sys.executable, "-B", "-I", "-S", "-c", PROBE, str(build.resolve())]
    completed = subprocess.run(command, env=PROBE_ENV, check=False)
    return None if completed.returncode == 0 else "the handler does not import from the artifact"


def main(build_dir: Path) -> int:
    build = build_dir / FUNCTION
    arch = declared_architecture(build_dir / "template.yaml")
    checks: list[Callable[[], str | None]] = [
        partial(check_contents, build),
        partial(check_size, build),
        partial(check_architecture, build, arch),
        partial(check_bytecode, build),
        partial(check_import, build),
    ]
    for check in checks:
        problem = check()
        if problem:
            sys.stderr.write(f"check_built_artifact: {problem}\n")
            return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check_built_artifact.py BUILD_DIR")
    sys.exit(main(Path(sys.argv[1])))
