#!/usr/bin/env bash
# A local Label Studio for development and CI (the labeling loop's integration tests).
#
#   bash scripts/labelstudio.sh start [--port P]   # prints the URL on stdout
#   bash scripts/labelstudio.sh stop
#   bash scripts/labelstudio.sh status
#
# start: installs label-studio==1.23.2 into .venv-labelstudio if missing, starts it on
# 127.0.0.1 (the given port, $LABEL_STUDIO_PORT, or a free one) with a temporary data dir,
# waits for /health and prints the URL. The credentials come from the environment
# (LABEL_STUDIO_USERNAME / LABEL_STUDIO_PASSWORD / LABEL_STUDIO_USER_TOKEN); when unset, a
# CI user is made and the token is random. The first start migrates a new database (minutes on
# two busy cores); it is then kept in .venv-labelstudio/curation-template and later starts with
# default credentials copy it (seconds). Nothing secret is printed: the URL and the token
# are written, readable by you only, to $STATE/env as
#     export CURATION_LABEL_STUDIO__URL=... CURATION_LABEL_STUDIO__API_KEY=...
# so a test script does `source "$STATE/env"` (STATE is printed on stderr).
#
# Images: local files serving is on, with LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT (default /)
# as the root; the labeling loop registers the thumbnail cache as each project's storage.
set -euo pipefail
cd "$(dirname "$0")/.."

LS_VERSION=1.23.2
VENV=${LABEL_STUDIO_VENV:-.venv-labelstudio}
STATE=${CURATION_LABEL_STUDIO_STATE:-${TMPDIR:-/tmp}/curation-labelstudio-$(id -u)}
TEMPLATE=$VENV/curation-template
HEALTH_TIMEOUT_S=${LABEL_STUDIO_START_TIMEOUT:-600}

die() { echo "labelstudio.sh: $*" >&2; exit 1; }

running_pid() {
    [ -f "$STATE/pid" ] || return 1
    local pid
    pid=$(cat "$STATE/pid")
    kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install_ls() {
    if [ -x "$VENV/bin/label-studio" ] && "$VENV/bin/python" -c \
        "import importlib.metadata as m, sys; sys.exit(m.version('label-studio') != '$LS_VERSION')" 2>/dev/null; then
        return
    fi
    local python=${PYTHON:-python3.11}
    command -v "$python" >/dev/null || python=python3
    echo "==> installing label-studio==$LS_VERSION into $VENV (a few minutes, once)" >&2
    [ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet "label-studio==$LS_VERSION" 2>&1 | grep -v "is ignored" >&2 || true
    [ -x "$VENV/bin/label-studio" ] || die "installing label-studio==$LS_VERSION failed: see pip's messages above"
}

# The fresh, migrated database of the first start with default credentials, kept with the
# Label Studio install (it matches its version); later starts copy it. Delete it to rebuild.
save_template() {
    local db=$1 user=$2 password=$3 token=$4
    mkdir -p "$TEMPLATE"
    chmod 700 "$TEMPLATE"
    # sqlite's backup API: a consistent copy while the server runs
    "$VENV/bin/python" -c 'import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(sys.argv[2]); s.backup(d); d.close(); s.close()' \
        "$db" "$TEMPLATE/label_studio.sqlite3.tmp" \
        && mv "$TEMPLATE/label_studio.sqlite3.tmp" "$TEMPLATE/label_studio.sqlite3" \
        && (umask 077 && printf 'TEMPLATE_USER=%s\nTEMPLATE_PASSWORD=%s\nTEMPLATE_TOKEN=%s\n' "$user" "$password" "$token" \
            >"$TEMPLATE/credentials") \
        && echo "==> saved a migrated database in $TEMPLATE: later starts skip the migrations" >&2 \
        || echo "warning: could not save the database template in $TEMPLATE (start-up stays slow)" >&2
}

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local port=${LABEL_STUDIO_PORT:-}
    while [ $# -gt 0 ]; do
        case $1 in
            --port) port=$2; shift 2 ;;
            --port=*) port=${1#--port=}; shift ;;
            *) die "unknown option $1 (start takes --port P)" ;;
        esac
    done
    if pid=$(running_pid); then
        echo "==> Label Studio already running (PID $pid); state in $STATE" >&2
        cat "$STATE/url"
        return
    fi
    install_ls
    [ -n "$port" ] || port=$(free_port)
    mkdir -p "$STATE"
    chmod 700 "$STATE"
    local data_dir=${LABEL_STUDIO_BASE_DATA_DIR:-}
    local made_data_dir=0
    if [ -z "$data_dir" ]; then
        data_dir=$(mktemp -d "${TMPDIR:-/tmp}/curation-labelstudio-data.XXXXXX")
        made_data_dir=1
    fi
    local user password token from_template=0
    if [ -z "${LABEL_STUDIO_USERNAME:-}${LABEL_STUDIO_PASSWORD:-}${LABEL_STUDIO_USER_TOKEN:-}" ] \
        && [ "$made_data_dir" = 1 ] && [ -f "$TEMPLATE/label_studio.sqlite3" ] && [ -f "$TEMPLATE/credentials" ]; then
        # A migrated database with the CI user: start-up takes seconds instead of minutes.
        cp "$TEMPLATE/label_studio.sqlite3" "$data_dir/label_studio.sqlite3"
        # shellcheck disable=SC1091
        . "$TEMPLATE/credentials"
        user=$TEMPLATE_USER password=$TEMPLATE_PASSWORD token=$TEMPLATE_TOKEN
        from_template=1
    else
        user=${LABEL_STUDIO_USERNAME:-curation-ci@example.com}
        password=${LABEL_STUDIO_PASSWORD:-curation-ci-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')}
        token=${LABEL_STUDIO_USER_TOKEN:-$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')}
    fi
    local url="http://127.0.0.1:$port"
    echo "==> starting Label Studio $LS_VERSION on $url (data: $data_dir, log: $STATE/log)" >&2
    # --internal-host is the address it binds (its default is 0.0.0.0); --host is the URL it
    # writes into links. setsid: its own process group, so `stop` ends the server and only it.
    LABEL_STUDIO_USERNAME=$user LABEL_STUDIO_PASSWORD=$password LABEL_STUDIO_USER_TOKEN=$token \
    LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
    LABEL_STUDIO_BASE_DATA_DIR=$data_dir \
    LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true \
    LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT=${LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT:-/} \
    LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true \
    SENTRY_DSN= FRONTEND_SENTRY_DSN= COLLECT_ANALYTICS=false \
        setsid "$VENV/bin/label-studio" start --internal-host 127.0.0.1 --host "$url" --port "$port" --no-browser \
        --data-dir "$data_dir" >"$STATE/log" 2>&1 < /dev/null &
    echo $! >"$STATE/pid"
    echo "$data_dir" >"$STATE/data_dir"
    echo "$url" >"$STATE/url"
    (umask 077 && printf 'export CURATION_LABEL_STUDIO__URL=%s\nexport CURATION_LABEL_STUDIO__API_KEY=%s\n' \
        "$url" "$token" >"$STATE/env")
    local started=$SECONDS
    until "$VENV/bin/python" -c "import urllib.request, sys; urllib.request.urlopen('$url/health', timeout=2)" 2>/dev/null; do
        if ! running_pid >/dev/null; then
            tail -n 30 "$STATE/log" >&2
            die "Label Studio exited during start-up (log above, full log in $STATE/log)"
        fi
        if [ $((SECONDS - started)) -ge "$HEALTH_TIMEOUT_S" ]; then
            tail -n 30 "$STATE/log" >&2
            stop >/dev/null
            die "Label Studio did not answer $url/health within ${HEALTH_TIMEOUT_S}s (log above)"
        fi
        sleep 1
    done
    echo "==> Label Studio is up after $((SECONDS - started))s; credentials: source $STATE/env" >&2
    if [ "$from_template" = 0 ] && [ "$made_data_dir" = 1 ] \
        && [ -z "${LABEL_STUDIO_USERNAME:-}${LABEL_STUDIO_PASSWORD:-}${LABEL_STUDIO_USER_TOKEN:-}" ]; then
        save_template "$data_dir/label_studio.sqlite3" "$user" "$password" "$token"
    fi
    echo "$url"
}

stop() {
    local pid
    if ! pid=$(running_pid); then
        echo "==> Label Studio is not running (no live PID in $STATE/pid)" >&2
        rm -f "$STATE/pid"
        return 0
    fi
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
    for _ in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
    local data_dir
    data_dir=$(cat "$STATE/data_dir" 2>/dev/null || true)
    # Only remove the data dir this script made (a given LABEL_STUDIO_BASE_DATA_DIR is kept).
    case $data_dir in
        "${TMPDIR:-/tmp}"/curation-labelstudio-data.*) rm -rf "$data_dir" ;;
    esac
    rm -f "$STATE/pid" "$STATE/env" "$STATE/url" "$STATE/data_dir"
    echo "==> Label Studio stopped (PID $pid)" >&2
}

status() {
    if pid=$(running_pid); then
        echo "running (PID $pid) at $(cat "$STATE/url"); credentials: source $STATE/env"
    else
        echo "not running"
        return 1
    fi
}

case ${1:-} in
    start) shift; start "$@" ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: $0 start [--port P] | stop | status" ;;
esac
