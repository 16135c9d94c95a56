#!/usr/bin/env bash
# A real OpenSSH sshd on 127.0.0.1 for the SFTP tests and benchmarks (never another address).
#
#   tests/sshd.sh start   DIR   # start (or start again on the same port, same keys); prints the env file
#   tests/sshd.sh stop    DIR   # SIGTERM the server and its sessions
#   tests/sshd.sh kill    DIR   # SIGKILL the server and its sessions (a crash: clients see the connection drop)
#   tests/sshd.sh restart DIR   # kill, then start on the same port (delete DIR/host_key* first for a new host key)
#   tests/sshd.sh drop    DIR   # SIGKILL the sessions only: open connections drop, new ones are accepted
#   tests/sshd.sh status  DIR   # exit 0 when running
#
# DIR holds everything of one server: sshd_config, host key, client key, authorized_keys, pid file, log, and
# `env` (shell syntax): HOST PORT USER PASSWORD KEY HOSTKEY_PUB REMOTE. REMOTE is a folder the test account owns.
# The test account ($SSHD_TEST_USER, default bcsftp) is a system user with no shell (nologin; the server forces
# internal-sftp anyway) that logs in with the generated key or with a password created once per machine
# (kept in /var/lib/backup-console-tests, root only). Needs root (sshd privilege separation, the account);
# installs openssh-server with apt when missing and creates /run/sshd (sshd refuses to start without it).
# DIR must be traversable by the test account (the fixtures make it 0755 under /tmp).
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
if [[ -z "$cmd" || -z "$dir" ]]; then
    echo "usage: $0 start|stop|kill|restart|drop|status DIR" >&2
    exit 2
fi
TEST_USER="${SSHD_TEST_USER:-bcsftp}"
STATE=/var/lib/backup-console-tests
SSHD=/usr/sbin/sshd

die() { echo "sshd.sh: $*" >&2; exit 1; }

pid_of() { [[ -f "$dir/sshd.pid" ]] && cat "$dir/sshd.pid" 2>/dev/null || true; }

# the listener and every session process below it (children of children), by parent pid only; reads /proc
# directly because a bare Debian image has no `ps` (procps)
tree_pids() {
    local root="$1" stat rest pid ppid
    echo "$root"
    local -A parent=()
    for stat in /proc/[0-9]*/stat; do
        { read -r rest < "$stat"; } 2>/dev/null || continue
        pid="${rest%% *}"
        rest="${rest##*) }"                 # after "(comm) ": state ppid ...
        ppid="$(echo "$rest" | cut -d' ' -f2)"
        parent[$pid]="$ppid"
    done
    local -A keep=([$root]=1)
    local changed=1
    while [[ $changed -eq 1 ]]; do
        changed=0
        for pid in "${!parent[@]}"; do
            if [[ -z "${keep[$pid]:-}" && -n "${keep[${parent[$pid]}]:-}" ]]; then
                keep[$pid]=1
                echo "$pid"
                changed=1
            fi
        done
    done
}

# alive and not a zombie waiting to be reaped by its parent
running() {
    local rest
    { read -r rest < "/proc/$1/stat"; } 2>/dev/null || return 1
    rest="${rest##*) }"
    [[ "${rest%% *}" != "Z" ]]
}

signal_all() {
    local sig="$1" pid
    pid="$(pid_of)"
    [[ -n "$pid" ]] || return 0
    if running "$pid"; then
        # shellcheck disable=SC2046
        kill "-$sig" $(tree_pids "$pid") 2>/dev/null || true
        for _ in $(seq 50); do running "$pid" || break; sleep 0.05; done
    fi
    rm -f "$dir/sshd.pid"
}

ensure_sshd() {
    if [[ ! -x "$SSHD" ]]; then
        command -v apt-get >/dev/null || die "openssh-server is not installed and there is no apt-get"
        echo "sshd.sh: installing openssh-server" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >&2 \
            || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                 --no-install-recommends openssh-server >&2; }
    fi
    command -v ssh-keygen >/dev/null || die "ssh-keygen is missing (install openssh-client)"
    mkdir -p -m 0755 /run/sshd
}

ensure_account() {
    mkdir -p -m 0700 "$STATE"
    if ! id "$TEST_USER" >/dev/null 2>&1; then
        useradd --system --home-dir "$STATE/home-$TEST_USER" --create-home --shell /usr/sbin/nologin \
            "$TEST_USER" || die "cannot create the test account $TEST_USER"
        rm -f "$STATE/password-$TEST_USER"
    fi
    if [[ ! -s "$STATE/password-$TEST_USER" ]]; then
        (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(18))' > "$STATE/password-$TEST_USER")
        echo "$TEST_USER:$(cat "$STATE/password-$TEST_USER")" | chpasswd
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    [[ $(id -u) -eq 0 ]] || { echo "sshd.sh: needs root (sshd privilege separation, a test account)" >&2; exit 77; }
    ensure_sshd
    ensure_account
    mkdir -p "$dir"
    chmod 0755 "$dir"
    local pid
    pid="$(pid_of)"
    if [[ -n "$pid" ]] && running "$pid"; then
        cat "$dir/env"
        return 0
    fi
    [[ -f "$dir/host_key" ]] || ssh-keygen -q -t ed25519 -N '' -C "backup-console test host" -f "$dir/host_key"
    [[ -f "$dir/client_key" ]] || ssh-keygen -q -t ed25519 -N '' -C "backup-console test client" -f "$dir/client_key"
    mkdir -p -m 0755 "$dir/authorized_keys"
    install -m 0644 "$dir/client_key.pub" "$dir/authorized_keys/$TEST_USER"
    mkdir -p "$dir/remote"
    chown "$TEST_USER:" "$dir/remote"
    chmod 0755 "$dir/remote"
    local port
    port="$(cat "$dir/port" 2>/dev/null || free_port)"
    echo "$port" > "$dir/port"
    cat > "$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys/%u
AllowUsers $TEST_USER
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
ForceCommand internal-sftp
AllowTcpForwarding no
X11Forwarding no
PermitTTY no
MaxStartups 64
MaxSessions 32
LogLevel VERBOSE
EOF
    "$SSHD" -t -f "$dir/sshd_config" || die "sshd rejects the generated configuration"
    "$SSHD" -f "$dir/sshd_config" -E "$dir/sshd.log" || die "sshd did not start (see $dir/sshd.log)"
    local ok=0
    for _ in $(seq 100); do
        if [[ -s "$dir/sshd.pid" ]] && python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" \
                2>/dev/null; then ok=1; break; fi
        sleep 0.05
    done
    [[ $ok -eq 1 ]] || die "sshd is not accepting connections on 127.0.0.1:$port (see $dir/sshd.log)"
    (umask 077; cat > "$dir/env" <<EOF
HOST=127.0.0.1
PORT=$port
USER=$TEST_USER
PASSWORD=$(cat "$STATE/password-$TEST_USER")
KEY=$dir/client_key
HOSTKEY_PUB=$dir/host_key.pub
REMOTE=$dir/remote
EOF
)
    cat "$dir/env"
}

drop_sessions() {
    local pid
    pid="$(pid_of)"
    [[ -n "$pid" ]] || return 0
    # shellcheck disable=SC2046
    kill -KILL $(tree_pids "$pid" | tail -n +2) 2>/dev/null || true
}

case "$cmd" in
    start) start ;;
    stop) signal_all TERM ;;
    kill) signal_all KILL ;;
    restart) signal_all KILL; start ;;
    drop) drop_sessions ;;
    status) pid="$(pid_of)"; [[ -n "$pid" ]] && running "$pid" ;;
    *) echo "usage: $0 start|stop|kill|restart|drop|status DIR" >&2; exit 2 ;;
esac
