#!/usr/bin/env bash
# Install Backup Copy Console for the current user and start it (Debian/Ubuntu).
#
#   ./installer/install.sh              install (or update) and start the console
#   ./installer/install.sh --no-run     install only
#   ./installer/install.sh --uninstall  remove what this script installed (your data and catalog stay)
#
# What it installs:
#   * the system libraries Qt needs (apt, through sudo when not root; only those missing)
#   * a virtualenv at ${BACKUP_CONSOLE_PREFIX:-~/.local/share/backup-console/venv} with this checkout installed
#   * ~/.local/bin/backup-console (symlink), a desktop entry and the app icon under ~/.local/share
# Running it again updates the installation in place.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${BACKUP_CONSOLE_PREFIX:-$HOME/.local/share/backup-console/venv}"
BIN_DIR="$HOME/.local/bin"
SHARE_DIR="$HOME/.local/share"
DESKTOP_FILE="$SHARE_DIR/applications/backup-console.desktop"
ICON_FILE="$SHARE_DIR/icons/hicolor/scalable/apps/backup-console.svg"
METAINFO_FILE="$SHARE_DIR/metainfo/io.github.backupconsole.BackupConsole.metainfo.xml"
COMMANDS=(backup-console backup-console-gui)

APT_PACKAGES=(
    libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 fonts-dejavu-core
    openssh-client rsync
    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-randr0
    libxcb-render-util0 libxcb-shape0 libxkbcommon-x11-0
)

RUN=1
UNINSTALL=0
for arg in "$@"; do
    case "$arg" in
        --no-run) RUN=0 ;;
        --uninstall) UNINSTALL=1 ;;
        -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option: $arg (try --help)" >&2; exit 2 ;;
    esac
done

say() { echo "== $*"; }

refresh_desktop_caches() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$SHARE_DIR/applications" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [[ -f "$SHARE_DIR/icons/hicolor/index.theme" ]]; then
        gtk-update-icon-cache -q -t "$SHARE_DIR/icons/hicolor" 2>/dev/null || true
    fi
}

# --- uninstall ---------------------------------------------------------------------------------------
if [[ $UNINSTALL -eq 1 ]]; then
    say "uninstalling Backup Copy Console"
    for cmd in "${COMMANDS[@]}"; do
        link="$BIN_DIR/$cmd"
        # only our own symlinks: never a file or a link someone else put there
        if [[ -L "$link" && "$(readlink "$link")" == "$PREFIX/bin/$cmd" ]]; then
            rm -f "$link"
        fi
    done
    rm -f "$DESKTOP_FILE" "$ICON_FILE" "$METAINFO_FILE"
    if [[ -f "$PREFIX/pyvenv.cfg" ]]; then
        rm -rf "$PREFIX"
    elif [[ -e "$PREFIX" ]]; then
        echo "install.sh: $PREFIX is not a virtualenv; left it alone" >&2
    fi
    if [[ -z "${BACKUP_CONSOLE_PREFIX:-}" ]]; then
        rmdir "$(dirname "$PREFIX")" 2>/dev/null || true  # only if empty: the data dir may live there too
    fi
    refresh_desktop_caches
    say "removed. Your data dir (catalog, settings, logs) and your repositories were left as they are."
    exit 0
fi

# --- system packages ---------------------------------------------------------------------------------
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    SUDO=(sudo)
fi
as_root() {
    if [[ ${#SUDO[@]} -gt 0 ]] && ! command -v sudo >/dev/null 2>&1; then
        echo "install.sh: need root for: $*  (not root and no sudo; ask an admin to run it)" >&2
        exit 1
    fi
    "${SUDO[@]}" "$@"
}
APT_UPDATED=0
apt_install() {
    if [[ $APT_UPDATED -eq 0 ]]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "$@"
}
is_installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

PYTHON="${PYTHON:-python3}"
HAVE_APT=0
if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    HAVE_APT=1
fi

if [[ $HAVE_APT -eq 1 ]]; then
    missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        is_installed "$pkg" || missing+=("$pkg")
    done
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        missing+=(python3)
    fi
    if [[ ${#missing[@]} -gt 0 ]]; then
        say "installing system packages: ${missing[*]}"
        apt_install "${missing[@]}"
    fi
else
    echo "install.sh: no apt-get here; make sure Qt's libraries are installed: ${APT_PACKAGES[*]}" >&2
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "install.sh: Backup Copy Console needs Python 3.11 or newer ($PYTHON is $("$PYTHON" -V 2>&1 || echo missing))." >&2
    echo "            Set PYTHON=/path/to/python3.11+ and run again." >&2
    exit 1
fi
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    if [[ $HAVE_APT -eq 1 ]]; then
        say "installing python3-venv"
        apt_install python3-venv
    else
        echo "install.sh: $PYTHON cannot create virtualenvs (no ensurepip); install the venv module" >&2
        exit 1
    fi
fi

# --- virtualenv with the project -------------------------------------------------------------------------
if [[ ! -x "$PREFIX/bin/python" ]] || ! "$PREFIX/bin/python" -c 'import sys' >/dev/null 2>&1; then
    say "creating venv in $PREFIX"
    if [[ -e "$PREFIX" && ! -f "$PREFIX/pyvenv.cfg" ]]; then
        echo "install.sh: $PREFIX exists and is not a virtualenv; move it away or set BACKUP_CONSOLE_PREFIX" >&2
        exit 1
    fi
    rm -rf "$PREFIX"
    mkdir -p "$(dirname "$PREFIX")"
    "$PYTHON" -m venv "$PREFIX"
fi

say "installing Backup Copy Console from $ROOT"
# pip rebuilds and reinstalls a local folder every time (same version number or not); dependencies only when
# missing. Build from a clean copy: an in-tree build would leave build/ and *.egg-info in the checkout, and
# setuptools packs whatever stale modules an old build/ still holds.
src="$(mktemp -d "${TMPDIR:-/tmp}/backup-console-src.XXXXXX")"
trap 'rm -rf "$src"' EXIT
tar -C "$ROOT" --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude=./bench/out -cf - . | tar -C "$src" -xf -
"$PREFIX/bin/python" -m pip install -q --disable-pip-version-check "$src"
rm -rf "$src"
trap - EXIT

# --- command, desktop entry, icon ------------------------------------------------------------------------
mkdir -p "$BIN_DIR" "$(dirname "$DESKTOP_FILE")" "$(dirname "$ICON_FILE")" "$(dirname "$METAINFO_FILE")"
for cmd in "${COMMANDS[@]}"; do
    if [[ -e "$PREFIX/bin/$cmd" ]]; then
        ln -sfn "$PREFIX/bin/$cmd" "$BIN_DIR/$cmd"
    fi
done

exec_path="$PREFIX/bin/backup-console"
if [[ "$exec_path" == *[[:space:]]* ]]; then
    exec_path="\"$exec_path\""  # the desktop entry spec wants a quoted path when it has spaces
fi
# sed replacement: escape the characters special to it (\ & and the | delimiter)
exec_sed="$(printf '%s' "$exec_path" | sed 's/[\\&|]/\\&/g')"
sed -e "s|^Exec=.*|Exec=$exec_sed|" -e "s|^TryExec=.*|TryExec=$exec_sed|" \
    "$ROOT/resources/backup-console.desktop" > "$DESKTOP_FILE.tmp"
mv -f "$DESKTOP_FILE.tmp" "$DESKTOP_FILE"
chmod 0644 "$DESKTOP_FILE"
install -m 0644 "$ROOT/resources/backup-console.svg" "$ICON_FILE"
install -m 0644 "$ROOT/resources/io.github.backupconsole.BackupConsole.metainfo.xml" "$METAINFO_FILE"
# the GUI finds its icons here when it does not run from a checkout (console/gui/main_window.py: resources_dir)
rm -rf "$PREFIX/share/backup-console/resources"
mkdir -p "$PREFIX/share/backup-console"
cp -R "$ROOT/resources" "$PREFIX/share/backup-console/resources"
refresh_desktop_caches

say "installed: $BIN_DIR/backup-console -> $PREFIX/bin/backup-console"
case ":$PATH:" in
    *":$BIN_DIR:"*) CONSOLE_CMD="backup-console" ;;
    *)
        CONSOLE_CMD="$BIN_DIR/backup-console"
        echo "   note: $BIN_DIR is not on your PATH; add it (e.g. in ~/.profile) or run $CONSOLE_CMD"
        ;;
esac

# --- run --------------------------------------------------------------------------------------------
if [[ $RUN -eq 0 ]]; then
    say "done. Start the console with: $CONSOLE_CMD   (or 'Backup Copy Console' in your application menu)"
    exit 0
fi

if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]]; then
    log_dir="${XDG_STATE_HOME:-$HOME/.local/state}/backup-console"
    mkdir -p "$log_dir"
    log="$log_dir/gui-start.log"
    say "starting the console (output in $log)"
    nohup "$PREFIX/bin/backup-console" >"$log" 2>&1 </dev/null &
    gui_pid=$!
    sleep 3
    if ! kill -0 "$gui_pid" 2>/dev/null; then
        gui_rc=0
        wait "$gui_pid" || gui_rc=$?
        if [[ $gui_rc -ne 0 ]]; then
            echo "install.sh: the console exited at once (code $gui_rc):" >&2
            tail -n 20 "$log" >&2
            exit 1
        fi
    fi
    say "done. Start it again any time with: $CONSOLE_CMD"
else
    say "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set): showing the CLI instead"
    echo "\$ backup-console repo list"
    demo_rc=0
    "$PREFIX/bin/backup-console" repo list || demo_rc=$?
    echo
    echo "To start the GUI, run '$CONSOLE_CMD' in a desktop session (or pick 'Backup Copy Console' in the"
    echo "application menu); over SSH, use 'ssh -X' or run it on the machine's desktop."
    if [[ $demo_rc -ne 0 ]]; then
        echo "install.sh: 'backup-console repo list' failed (code $demo_rc)" >&2
        exit "$demo_rc"
    fi
fi
