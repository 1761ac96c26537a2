#!/usr/bin/env bash
# Prints the interpreter for the project venv: Python 3.12 (the Lambda runtime) from PATH, then
# from pyenv; else any python3 >= 3.11. With --require-312, prints nothing unless 3.12 is found.
set -u
works() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' >/dev/null 2>&1; }
is312() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else 1)' >/dev/null 2>&1; }
candidates=()
command -v python3.12 >/dev/null 2>&1 && candidates+=("$(command -v python3.12)")
if command -v pyenv >/dev/null 2>&1; then
  for p in "$(pyenv root)"/versions/3.12*/bin/python3.12; do [ -x "$p" ] && candidates+=("$p"); done
fi
for p in "${candidates[@]}"; do
  if is312 "$p"; then echo "$p"; exit 0; fi
done
[ "${1:-}" = "--require-312" ] && exit 0
for p in python3 python; do
  if command -v "$p" >/dev/null 2>&1 && works "$(command -v "$p")"; then command -v "$p"; exit 0; fi
done
echo "no python >= 3.11 found" >&2
exit 1
