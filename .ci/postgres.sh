# Sourced by .ci/run: a throwaway PostgreSQL cluster on loopback for the back-end tests.
# start_postgres exports HEARTH_TEST_POSTGRES_URL; stop_postgres (the EXIT trap) removes it all.

PG_DIR=""
PG_BIN=""

_pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

_as_owner() {
    # initdb and the server refuse to run as root: run them as the postgres user then.
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
    PG_BIN="$(_pg_bin)"
    if [ -z "$PG_BIN" ]; then
        echo "ci: installing PostgreSQL (Debian package)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        PG_BIN="$(_pg_bin)"
    fi
    PG_DIR="$(mktemp -d /tmp/hearth-ci-pg.XXXXXX)"
    [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
    local port
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    _as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U hearth -E UTF8 --no-sync >/dev/null
    # Loopback only, socket in our own folder; fsync off: the cluster is thrown away after.
    _as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off" >/dev/null
    _as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U hearth hearth
    export HEARTH_TEST_POSTGRES_URL="postgresql://hearth@127.0.0.1:$port/hearth"
    echo "ci: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') at $HEARTH_TEST_POSTGRES_URL"
}

stop_postgres() {
    if [ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ]; then
        _as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    PG_DIR=""
}
