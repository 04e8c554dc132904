#!/bin/bash
# xend-compat: run a Python 2 build-time generator under python3, converted by lib2to3 on the fly
# (Debian 12 has no Python 2). Used as make's PYTHON for libvirt releases before 4.x.
set -u
if [ $# -ge 1 ] && [ "${1%.py}" != "$1" ] && [ -f "$1" ]; then
  script=$1; shift
  d=$(mktemp -d)
  cp "$script" "$d/"
  python3 -W ignore -m lib2to3 -w -n --no-diffs "$d/$(basename "$script")" >/dev/null 2>&1
  PYTHONPATH="$(dirname "$script")${PYTHONPATH:+:$PYTHONPATH}" python3 "$d/$(basename "$script")" "$@"
  rc=$?
  rm -rf "$d"
  exit $rc
fi
exec python3 "$@"
