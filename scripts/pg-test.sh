#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests: loopback only, a free port
# chosen here, everything (data, Unix socket, log) inside one directory.
#
#   scripts/pg-test.sh start DIR     create the cluster on first use, start it;
#                                    prints DATABASE_URL=postgresql://...
#   scripts/pg-test.sh stop DIR      fast shutdown; start DIR brings it back on the same port
#   scripts/pg-test.sh destroy DIR   stop at once and remove DIR
#   scripts/pg-test.sh url DIR       print DATABASE_URL=... again
#   scripts/pg-test.sh psql DIR ...  psql as the superuser on database gatehouse
#   scripts/pg-test.sh pid DIR       the postmaster's process id (when running)
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# system user gatehouse-test, created when missing, and DIR must be
# reachable by it (a directory made by mktemp -d under /tmp is). The server
# listens on 127.0.0.1 only, with scram-sha-256 passwords over TCP and trust
# on its Unix socket, which only its owner (and root) can reach. It trades
# its own crash safety for speed (fsync=off): the tests kill gatehouse, never
# the cluster.
set -euo pipefail

OS_USER=gatehouse-test
ROLE=gatehouse
DB=gatehouse

die() {
    echo "pg-test: $*" >&2
    exit 1
}

bindir() {
    local d
    for d in /usr/lib/postgresql/15/bin $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return
        fi
    done
    die "PostgreSQL server programs not found; install postgresql-15 (scripts/install-deps.sh)"
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as the cluster's owner, from DIR (a cwd the owner can read).
as_owner() {
    if is_root; then
        (cd "$dir" && runuser -u "$OS_USER" -- "$@")
    else
        (cd "$dir" && "$@")
    fi
}

ensure_os_user() {
    is_root || return 0
    id -u "$OS_USER" >/dev/null 2>&1 && return 0
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
        "$OS_USER" 2>/dev/null || id -u "$OS_USER" >/dev/null 2>&1 ||
        die "cannot create the system user $OS_USER"
}

free_port() {
    /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

running() {
    [ -f "$dir/data/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

print_url() {
    if [ ! -f "$dir/port" ] || [ ! -f "$dir/password" ]; then
        die "$dir holds no test cluster"
    fi
    echo "DATABASE_URL=postgresql://$ROLE:$(cat "$dir/password")@127.0.0.1:$(cat "$dir/port")/$DB"
}

write_conf() {
    cat >>"$dir/data/postgresql.conf" <<EOF

# scripts/pg-test.sh
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$dir'
max_connections = 100
shared_buffers = 32MB
fsync = off
full_page_writes = off
log_line_prefix = '%m [%p] '
EOF
}

pg_start() {
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
}

cmd_start() {
    mkdir -p "$dir"
    touch "$dir/.gatehouse-pg-test"
    ensure_os_user
    if is_root; then
        chown "$OS_USER" "$dir"
        chmod 0700 "$dir"
        runuser -u "$OS_USER" -- test -w "$dir" ||
            die "$dir is not reachable by $OS_USER: its parent directories must be searchable"
    fi
    if [ -f "$dir/data/PG_VERSION" ]; then
        running || pg_start || die "cannot start the cluster; see $dir/server.log"
        print_url
        return
    fi
    od -An -N18 -tx1 /dev/urandom | tr -d ' \n' >"$dir/password"
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres -E UTF8 --no-locale --no-sync \
        --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
        die "initdb failed; see $dir/initdb.log"
    cp "$dir/data/postgresql.conf" "$dir/postgresql.conf.orig"
    # Another process may take the port between our probe and the bind: retry.
    local attempt port
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        cp "$dir/postgresql.conf.orig" "$dir/data/postgresql.conf"
        write_conf "$port"
        if pg_start; then
            echo "$port" >"$dir/port"
            break
        fi
        [ "$attempt" -lt 5 ] || die "cannot start the cluster; see $dir/server.log"
    done
    as_owner "$BIN/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE $ROLE LOGIN PASSWORD '$(cat "$dir/password")'" \
        -c "CREATE DATABASE $DB OWNER $ROLE" >/dev/null
    print_url
}

cmd_stop() {
    [ -d "$dir/data" ] || return 0
    if running; then
        as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
}

cmd_destroy() {
    [ -e "$dir" ] || return 0
    if [ ! -f "$dir/.gatehouse-pg-test" ]; then
        rmdir "$dir" 2>/dev/null && return 0
        die "$dir was not made by pg-test.sh; not removing it"
    fi
    if [ -d "$dir/data" ] && running; then
        as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

[ $# -ge 2 ] || die "usage: $0 start|stop|destroy|url|psql|pid DIR [psql arguments]"
command=$1
dir=$(realpath -m "$2")
shift 2
BIN=$(bindir)

case "$command" in
start) cmd_start ;;
stop) cmd_stop ;;
destroy) cmd_destroy ;;
url) print_url ;;
psql)
    [ -f "$dir/port" ] || die "$dir holds no test cluster"
    as_owner "$BIN/psql" -X -q -h "$dir" -p "$(cat "$dir/port")" -U postgres -d "$DB" \
        -v ON_ERROR_STOP=1 "$@"
    ;;
pid)
    running || die "the cluster in $dir is not running"
    head -1 "$dir/data/postmaster.pid"
    ;;
*) die "unknown command $command (start, stop, destroy, url, psql, pid)" ;;
esac
