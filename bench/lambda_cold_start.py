#!/usr/bin/env python3
"""Cold starts of tessera as a Lambda function, locally: the release binary started as the Lambda
runtime starts it, polling cargo-lambda's runtime API emulator, on DynamoDB Local.

Each round is one cold start, as Lambda does it: a request is already waiting when the process
starts; the process initialises (init duration: from exec to the end of its init, read from its
own log line "serving as an AWS Lambda function"), takes the request and answers it (first
request latency: from exec to the answer, init included, as a client waiting for a cold
instance sees it past Lambda's own start-up). Then a few warm requests of the same
kind, and the process's peak RSS. Rounds alternate `GET /health/ready` (one GetItem) and
`POST /auth/login` (a failed-login count, an Argon2id check, a GetItem).

    bench/lambda_cold_start.sh            # builds, starts DynamoDB Local, prints the table
Environment: TESSERA_BIN (the binary), CARGO_LAMBDA (the emulator's command), ROUNDS (default 10),
AWS_ENDPOINT_URL_DYNAMODB & co (set by the .sh wrapper).
"""

import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

BIN = os.environ["TESSERA_BIN"]
CARGO_LAMBDA = os.environ["CARGO_LAMBDA"]
ROUNDS = int(os.environ.get("ROUNDS", "10"))
TABLE = f"coldstart_{int(time.time())}"
SECRET = "cold-start-bench-secret-cold-start-bench-secret"
ENV = dict(os.environ, TESSERA_STORAGE="dynamodb", TESSERA_DYNAMODB_TABLE=TABLE, TESSERA_JWT_SECRET=SECRET,
           TESSERA_LOG_FORMAT="json", RUST_LOG="info")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            status = answer.status
            answer.read()
    except urllib.error.HTTPError as answer:
        status = answer.code
    return status, (time.perf_counter() - started) * 1000, time.perf_counter()


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    # The deploy step: the table, then an account to log in to.
    subprocess.run([BIN, "migrate"], env=ENV, check=True, stderr=subprocess.DEVNULL)
    subprocess.run([BIN, "admin", "create", "--email", "bench@example.com", "--username", "bench"],
                   env=dict(ENV, TESSERA_ADMIN_PASSWORD="cold start password"), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    emulator = subprocess.Popen([CARGO_LAMBDA, "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1",
                                 "-P", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        rows = {"health_ready": [], "login": []}
        for round_ in range(ROUNDS):
            kind = "health_ready" if round_ % 2 == 0 else "login"
            method, path, body = (("GET", "/health/ready", None) if kind == "health_ready" else
                                  ("POST", "/api/v1/auth/login", {"login": "bench", "password": "cold start password"}))
            first = {}
            waiting = threading.Thread(target=lambda: first.update(answer=request(base, method, path, body)))
            waiting.start()
            time.sleep(0.2)  # the request is queued in the emulator before the instance exists
            lambda_env = dict(ENV, AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt", AWS_LAMBDA_FUNCTION_NAME="_",
                              AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024")
            started = datetime.datetime.now(datetime.timezone.utc)
            spawned = time.perf_counter()
            function = subprocess.Popen([BIN], env=lambda_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)
            waiting.join()
            status, _, answered = first["answer"]
            # From the process's start to the answer: init plus the first request, as the waiting
            # client sees a cold start (the 0.2 s it waited before the start is Lambda's own).
            first_ms = (answered - spawned) * 1000
            assert status == 200, (kind, status)
            warm = [request(base, method, path, body)[1] for _ in range(5)]
            rss = peak_rss_kib(function.pid)
            function.terminate()
            _, log = function.communicate()
            init_ms = None
            for line in log.splitlines():
                entry = json.loads(line)
                if entry.get("message") == "serving as an AWS Lambda function":
                    at = datetime.datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))
                    init_ms = (at - started).total_seconds() * 1000
            rows[kind].append((init_ms, first_ms, statistics.median(warm), rss))
        size = os.path.getsize(BIN)
        print(f"binary: {BIN} ({size / 1e6:.1f} MB), {ROUNDS} cold starts, medians:")
        print("| first request | init duration | exec to first answer (init included) | warm latency | peak RSS |")
        print("|---|---:|---:|---:|---:|")
        for kind, samples in rows.items():
            med = lambda i: statistics.median(s[i] for s in samples)
            print(f"| `{'GET /health/ready' if kind == 'health_ready' else 'POST /auth/login'}` | "
                  f"{med(0):.1f} ms | {med(1):.1f} ms | {med(2):.1f} ms | {med(3) / 1024:.1f} MiB |")
    finally:
        emulator.terminate()
        emulator.wait()


if __name__ == "__main__":
    sys.exit(main())
