#!/usr/bin/env bash
# One entry point for a fresh Debian machine with Python 3.11 (no venv needed beforehand):
#   ./run.sh demo          set everything up, then bring the whole platform up with traffic
#   ./run.sh test          set everything up (incl. Chromium for the browser test), run all tests
#   ./run.sh <anything>    set up, then run `ollive <anything>` (e.g. ./run.sh seed -n 1000000)
set -euo pipefail
cd "$(dirname "$0")"

export UV_PYTHON_DOWNLOADS=never
export UV_LINK_MODE=copy
PYTHON="${PYTHON:-python3}"

setup() {
    if ! command -v uv >/dev/null 2>&1 && ! "$PYTHON" -m uv --version >/dev/null 2>&1; then
        echo "==> installing uv (the installer that reads uv.lock)"
        "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
    fi
    UV="uv"
    command -v uv >/dev/null 2>&1 || UV="$PYTHON -m uv"
    echo "==> creating .venv from uv.lock (the versions that were tested)"
    $UV sync --frozen --extra all --extra dev --python "$PYTHON" --quiet
}

browser() {
    if [ -x /usr/bin/chromium ]; then return; fi
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing Debian's chromium (for the dashboard browser test)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
    else
        echo "==> /usr/bin/chromium missing and not root: the browser test will be skipped" >&2
    fi
}

cmd="${1:-demo}"
shift || true
case "$cmd" in
    test)
        setup
        browser
        exec .venv/bin/python -m pytest "$@"
        ;;
    *)
        setup
        exec .venv/bin/ollive "$cmd" "$@"
        ;;
esac
