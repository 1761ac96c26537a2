"""Fail when any module under src/ exceeds the project's 400-line limit (SPEC §9)."""

import sys
from pathlib import Path

LIMIT = 400
root = Path(__file__).resolve().parent.parent / "src"
too_long = [
    (path, n)
    for path in sorted(root.rglob("*.py"))
    if (n := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
]
for path, n in too_long:
    print(f"{path.relative_to(root.parent)}: {n} lines > {LIMIT}")
sys.exit(1 if too_long else 0)
