#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu image, to build the autograder image.
# It makes a venv at $AUTOGRADER_ROOT/venv with torch (the CPU build, unless a GPU is found)
# and this kit with its sandbox extra, and installs bubblewrap and libseccomp2 for the sandbox.
set -euo pipefail

ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="$ROOT/venv"
TORCH="${TORCH_REQUIREMENT:-torch==2.13.0}"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }
find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

PY="$(find_python || true)"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends bubblewrap libseccomp2 ca-certificates \
    || echo "setup.sh: bubblewrap/libseccomp2 not installed; the sandbox uses the layers it can" >&2
  if [ -z "$PY" ]; then  # e.g. Ubuntu 22.04 ships Python 3.10; the kit needs 3.11+
    if ! apt-get install -y -q python3.11 python3.11-venv; then
      apt-get install -y -q software-properties-common
      add-apt-repository -y ppa:deadsnakes/ppa
      apt-get update -q
      apt-get install -y -q python3.11 python3.11-venv
    fi
    PY=python3.11
  fi
  version="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  apt-get install -y -q "python$version-venv" >/dev/null 2>&1 || true  # Debian's python3 lacks ensurepip without it
fi
if [ -z "$PY" ] || ! python_ok "$PY"; then
  echo "setup.sh: the grader needs Python >= 3.11, and none was found or could be installed" >&2
  exit 1
fi

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  "$VENV/bin/python" -m pip install -q "$TORCH"
else
  "$VENV/bin/python" -m pip install -q "$TORCH" --index-url https://download.pytorch.org/whl/cpu
fi
# Editable, so that `grader` is only ever the one in $SOURCE (which the sandbox hides from submissions).
"$VENV/bin/python" -m pip install -q -e "$SOURCE[sandbox]"
# Sandbox workers run as fresh unprivileged uids: they must be able to read Python and torch.
chmod -R a+rX "$VENV" "$SOURCE"
chmod a+rx "$ROOT/run_autograder" "$SOURCE/run_autograder" 2>/dev/null || true

cd "$SOURCE"
"$VENV/bin/python" -c 'import torch, grader.frontends.grade; print("grader ready: torch", torch.__version__)'
