#!/usr/bin/env bash
# Prints an interpreter. Default: the one for the project venv — Python 3.13 (the Lambda runtime,
# template.yaml) from PATH, then from pyenv; else any python3 >= 3.11.
# --require-313: prints the 3.13 interpreter or nothing (lambda-local and the artifact import
# check need it and skip without it).
set -u
works() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' >/dev/null 2>&1; }
is313() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1; }
candidates=()
command -v python3.13 >/dev/null 2>&1 && candidates+=("$(command -v python3.13)")
if command -v pyenv >/dev/null 2>&1; then
  for p in "$(pyenv root)"/versions/3.13*/bin/python3.13; do [ -x "$p" ] && candidates+=("$p"); done
fi
for p in "${candidates[@]}"; do
  # The real binary, not a pyenv shim: shims resolve per directory and break `sam build`'s PATH.
  if is313 "$p"; then "$p" -c 'import sys; print(sys.executable)'; exit 0; fi
done
[ "${1:-}" = "--require-313" ] && exit 0
for p in python3 python; do
  if command -v "$p" >/dev/null 2>&1 && works "$(command -v "$p")"; then command -v "$p"; exit 0; fi
done
echo "no python >= 3.11 found" >&2
exit 1
