# What the scripts that start throwaway services share (sourced, not run).

# A free TCP port on 127.0.0.1 (the kernel's pick; the caller binds it right after).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Stops the process whose id is in DIR/pid: TERM, up to 5 s to go, then KILL; forgets the id.
stop_pid_in() {
    local dir=$1 pid
    if [ -f "$dir/pid" ]; then
        pid=$(cat "$dir/pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$dir/pid"
    fi
}
