#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, on a free loopback port in a directory of its own.
#
#   scripts/postgres.sh start DIR [tls]  # prints the admin URL (postgres://postgres@127.0.0.1:PORT/postgres);
#                                        # `tls` also serves TLS, with a certificate for 127.0.0.1 from a
#                                        # fresh CA whose certificate is DIR/ca.crt
#   scripts/postgres.sh stop DIR    # stops the cluster and removes DIR
#   scripts/postgres.sh pause DIR   # stops the server, keeps the data (fault tests)
#   scripts/postgres.sh resume DIR  # starts it again on the same port
#
# The server refuses to run as root, so as root it runs as the `postgres` OS user. The Debian
# `postgresql` package is installed first when its binaries are missing.
set -euo pipefail
# shellcheck source=lib/processes.sh
. "$(dirname "$0")/lib/processes.sh"

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
    local port data tls=""
    port=$(cat "$dir/port")
    data=$(cat "$dir/cluster")
    [ -f "$data/server.key" ] && tls="-c ssl=on -c ssl_cert_file=$data/server.crt -c ssl_key_file=$data/server.key"
    as_owner "$bin/pg_ctl" -D "$data/data" -l "$data/server.log" -w -t 30 \
        -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB -c autovacuum=off $tls" start >&2
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
        free_port > "$dir/port"
        if [ "${3:-}" = tls ]; then
            # A CA of its own and a server certificate for 127.0.0.1 signed by it.
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tessera test CA" \
                -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
                -keyout "$cluster/server.key" -out "$dir/server.csr" 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$dir/server.ext"
            openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
                -days 2 -extfile "$dir/server.ext" -out "$cluster/server.crt" 2>/dev/null
            chmod 600 "$cluster/server.key"
            [ "$(id -u)" = 0 ] && chown postgres: "$cluster/server.key" "$cluster/server.crt"
        fi
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
