#!/usr/bin/env bash
# A throwaway S3 for tests: s3s-fs (an S3 server over a directory that checks SigV4 signatures),
# on a free loopback port, its data in DIR/data.
#
#   scripts/s3.sh start DIR   # prints the endpoint (http://127.0.0.1:PORT)
#   scripts/s3.sh stop DIR    # stops it and removes DIR
#
# Its keys are AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when set, else `tessera` and
# `tessera-local`: a client signs with the same. Buckets are made by whoever uses it.
#
# Installs s3s-fs with cargo, once, into ~/.cache/tessera/tools/s3s-fs (CI keeps ~/.cache).
set -euo pipefail
# shellcheck source=lib/processes.sh
. "$(dirname "$0")/lib/processes.sh"

command=${1:?usage: s3.sh start|stop DIR}
dir=${2:?usage: s3.sh start|stop DIR}
version=0.14.1
tools="$HOME/.cache/tessera/tools/s3s-fs"
server="$tools/bin/s3s-fs"

install() {
    if [ ! -x "$server" ] || [ "$(cat "$tools/version.installed" 2>/dev/null)" != "$version" ]; then
        echo "s3.sh: installing s3s-fs $version with cargo (a few minutes, once)" >&2
        # Its own target directory: the workspace's would be polluted and an install reuses nothing.
        (cd / && env -u CARGO_TARGET_DIR cargo install s3s-fs --version "$version" --features binary --locked \
            --force --root "$tools" >&2)
        echo "$version" > "$tools/version.installed"
    fi
}

stop_server() {
    stop_pid_in "$dir"
}

case "$command" in
    start)
        install
        mkdir -p "$dir/data"
        port=$(free_port)
        nohup "$server" --host 127.0.0.1 --port "$port" \
            --access-key "${AWS_ACCESS_KEY_ID:-tessera}" --secret-key "${AWS_SECRET_ACCESS_KEY:-tessera-local}" \
            "$dir/data" >"$dir/server.log" 2>&1 &
        echo $! > "$dir/pid"
        for _ in $(seq 1 100); do
            if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$port" \
                2>/dev/null; then
                echo "http://127.0.0.1:$port"
                exit 0
            fi
            if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
                cat "$dir/server.log" >&2
                echo "s3.sh: s3s-fs exited" >&2
                exit 1
            fi
            sleep 0.1
        done
        echo "s3.sh: s3s-fs did not answer on port $port within 10 s" >&2
        stop_server
        exit 1
        ;;
    stop)
        stop_server
        rm -rf "$dir"
        ;;
    *)
        echo "usage: s3.sh start|stop DIR" >&2
        exit 2
        ;;
esac
