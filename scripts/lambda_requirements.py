"""Print the Lambda's runtime requirements: pyproject's [project].dependencies, one a line."""

import sys
import tomllib
from pathlib import Path

pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
with pyproject.open("rb") as f:
    sys.stdout.write("\n".join(tomllib.load(f)["project"]["dependencies"]) + "\n")
