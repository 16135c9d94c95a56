#!/usr/bin/env bash
# Build a one-folder bundle with PyInstaller (dist/backup-console/backup-console) and check that it starts:
# the CLI answers, a demo runs end to end, and the GUI stays up (offscreen) until it is stopped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
[[ -x "$VENV/bin/python" ]] || { echo "build-bundle: run ./tests/run (or installer/install.sh) first to make .venv" >&2; exit 1; }
"$VENV/bin/python" -m pip install -q --disable-pip-version-check 'pyinstaller>=6.5'
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN --distpath "$ROOT/dist" --workpath "$ROOT/build" \
    installer/backup-console.spec
APP="$ROOT/dist/backup-console/backup-console"
echo "== smoke test: $APP"
"$APP" --version
SMOKE="$(mktemp -d)"
trap 'rm -rf "$SMOKE"' EXIT
BACKUP_CONSOLE_HOME="$SMOKE/home" PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring \
    "$APP" demo --dir "$SMOKE/demo" >/dev/null
BACKUP_CONSOLE_HOME="$SMOKE/home" "$APP" points list --json | grep -q demo-offsite-copy
rc=0
QT_QPA_PLATFORM=offscreen BACKUP_CONSOLE_HOME="$SMOKE/home" timeout 8 "$APP" >"$SMOKE/gui.log" 2>&1 || rc=$?
if [[ $rc -ne 124 ]]; then
    echo "build-bundle: the GUI exited early (code $rc):" >&2
    cat "$SMOKE/gui.log" >&2
    exit 1
fi
echo "== bundle OK: $ROOT/dist/backup-console/ (CLI, demo and GUI start)"
