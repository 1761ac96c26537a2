"""Print the Lambda's runtime requirements for `sam build` (build-RebalanceExecutorFunction).

Without arguments: pyproject's [project].dependencies, one a line.
With --constraints: `name==version` for every distribution installed in the running interpreter
(the project venv the tests ran in) except the project itself, so pip installs into the artifact
exactly the versions that were tested instead of whatever is newest on the index.
Fails (exit 1) when pyproject.toml is missing or has no [project].dependencies.
"""

import sys
import tomllib
from importlib import metadata
from pathlib import Path

PROJECT = "rebalance-executor"


def requirements() -> list[str]:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    with pyproject.open("rb") as f:
        deps: list[str] = tomllib.load(f)["project"]["dependencies"]
    return deps


def constraints() -> list[str]:
    pins: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower().replace("_", "-") != PROJECT:
            pins[name.lower()] = dist.version
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def main(argv: list[str]) -> int:
    try:
        lines = constraints() if argv == ["--constraints"] else requirements()
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        sys.stderr.write(f"lambda_requirements: {exc!r}\n")
        return 1
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
