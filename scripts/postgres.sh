#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, on a free loopback port in a directory of its own.
#
#   scripts/postgres.sh start DIR   # prints the admin URL (postgres://postgres@127.0.0.1:PORT/postgres)
#   scripts/postgres.sh stop DIR    # stops the cluster and removes DIR
#   scripts/postgres.sh pause DIR   # stops the server, keeps the data (fault tests)
#   scripts/postgres.sh resume DIR  # starts it again on the same port
#
# The server refuses to run as root, so as root it runs as the `postgres` OS user. The Debian
# `postgresql` package is installed first when its binaries are missing.
set -euo pipefail

command=${1:?usage: postgres.sh start|stop|pause|resume DIR}
dir=${2:?usage: postgres.sh start|stop|pause|resume DIR}

find_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

bin=$(find_bin || true)
if [ -z "$bin" ] && [ "$command" = start ]; then
    echo "postgres.sh: installing the Debian postgresql package" >&2
    export DEBIAN_FRONTEND=noninteractive
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
fi
[ -n "$bin" ] || { echo "postgres.sh: no PostgreSQL binaries" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_server() {
    local port data
    port=$(cat "$dir/port")
    data=$(cat "$dir/cluster")
    as_owner "$bin/pg_ctl" -D "$data/data" -l "$data/server.log" -w -t 30 \
        -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB -c autovacuum=off" start >&2
}

case "$command" in
    start)
        mkdir -p "$dir"
        # The cluster lives in a directory of its own under /tmp that the server's user can reach
        # (DIR's parents may be private to the caller); DIR only records where it is.
        cluster=$(mktemp -d /tmp/tessera-pg.XXXXXX)
        chmod 755 "$cluster"
        [ "$(id -u)" = 0 ] && chown postgres: "$cluster"
        echo "$cluster" > "$dir/cluster"
        as_owner "$bin/initdb" -D "$cluster/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' > "$dir/port"
        start_server
        echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
        ;;
    pause)
        as_owner "$bin/pg_ctl" -D "$(cat "$dir/cluster")/data" -m fast -w stop >&2
        ;;
    resume)
        start_server
        ;;
    stop)
        if [ -f "$dir/cluster" ]; then
            cluster=$(cat "$dir/cluster")
            as_owner "$bin/pg_ctl" -D "$cluster/data" -m fast -w stop >&2 || true
            rm -rf "$cluster"
        fi
        rm -rf "$dir"
        ;;
    *)
        echo "usage: postgres.sh start|stop|pause|resume DIR" >&2
        exit 2
        ;;
esac
