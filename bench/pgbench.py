#!/usr/bin/env python3
"""The PostgreSQL ceiling for each benchmarked operation: pgbench running the exact SQL the
adapter sends for it, with the same parameters, as prepared statements, at the same concurrency.

The SQL is not written by hand: PostgreSQL logs every statement (with its bind parameters) while
Tessera answers a few requests of each operation, and each request's statements become one
pgbench script (one transaction). Parameters that must change per run are the only edits: a new
post gets gen_random_uuid() and a fresh slug; a post update sets the version it read before.

    bench/pgbench.py ADMIN_URL DATABASE_URL CEILING_URL PG_LOG BASE SESSIONS.json WORK DURATION RESULTS

The statements are captured from Tessera serving DATABASE_URL; pgbench runs them on CEILING_URL,
a copy of the database taken right after seeding, so that both see the same data (Tessera's
write runs grow the fixture users' projects before this script runs).
"""
import json
import re
import subprocess
import sys
from pathlib import Path

from operations import OPERATIONS as OPS, request

admin_url, db_url, ceiling_url, pg_log, base, sessions_path, work, duration, results = sys.argv[1:10]
work = Path(work)
sessions = json.load(open(sessions_path))
users = sessions["users"][:8]


def psql(url, sql):
    subprocess.run(["psql", "-qAt", url, "-c", sql], check=True, capture_output=True)


# 1. Capture: every statement Tessera sends, with its parameters, between markers.
psql(admin_url, "ALTER SYSTEM SET log_statement = 'all'")
psql(admin_url, "SELECT pg_reload_conf()")
log_start = Path(pg_log).stat().st_size
for op in OPS:
    for i, user in enumerate(users):
        if op == "patch_post" and not user["posts"]:
            continue
        psql(db_url, f"SELECT 'bench-marker {op} {i}'")
        request(base, op, user, i)
psql(db_url, "SELECT 'bench-marker end'")
psql(admin_url, "ALTER SYSTEM RESET log_statement")
psql(admin_url, "SELECT pg_reload_conf()")

with open(pg_log, errors="replace") as f:
    f.seek(log_start)
    log = f.read()

# Each log entry starts with the timestamp prefix; a statement or parameter value may span lines,
# and PostgreSQL starts each continuation line with a tab.
entries = [e.replace("\n\t", "\n") for e in re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", log)]
captured = {}  # op -> list of requests -> list of (sql, params)
current = None
for entry in entries:
    m = re.search(r"LOG:  statement: SELECT 'bench-marker (\w+)(?: (\d+))?'", entry)
    if m:
        current = None if m.group(1) == "end" else captured.setdefault(m.group(1), [])
        if current is not None:
            current.append([])
        continue
    if current is None:
        continue
    m = re.search(r"LOG:  (?:execute [^:]+|statement): (.*)", entry, re.S)
    if m:
        current[-1].append([m.group(1).strip(), {}])
        continue
    m = re.search(r"DETAIL:  parameters: (.*)", entry, re.S)
    if m and current[-1]:
        params = dict(re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", m.group(1)))
        current[-1][-1][1] = params


# 2. One pgbench script per captured request (8 users per operation, run in a random mix like
# the HTTP load's users): the statements as sent, their parameters still parameters (pgbench -D
# variables, sent as bind values of the prepared statements, as sqlx sends them), so PostgreSQL
# plans them the way it plans Tessera's.
def unquote(value):
    return None if value == "NULL" else value[1:-1].replace("''", "'")


scripts = {}
for op, requests in captured.items():
    files, variables, count = [], {}, 0
    for index, statements in enumerate(requests):
        lines = []
        for number, (sql, params) in enumerate(statements):
            overrides = {}
            if sql.startswith("INSERT INTO posts"):
                lines.append("\\set r random(1, 9000000000000000000)")
                overrides = {"1": "gen_random_uuid()", "3": "('pgbench-' || (:r)::text || '-' || (:client_id)::text)"}
            if sql.startswith("UPDATE posts SET"):
                overrides = {"7": "(:v_version)::bigint + 1", "8": "(:v_version)::bigint"}

            def value(match, index=index, number=number, params=params, overrides=overrides):
                n = match.group(1)
                if n in overrides:
                    return overrides[n]
                raw = params.get(n)
                if raw is None or unquote(raw) is None:
                    return "NULL"
                name = f"r{index}s{number}p{n}"
                variables[name] = unquote(raw)
                return ":" + name

            text = re.sub(r"\$(\d+)\b", value, sql)
            if op == "patch_post" and sql.startswith("SELECT") and "FROM posts" in sql and "WHERE p.id" in sql:
                # Keep the version the read returned, for the compare-and-set that follows.
                lines.append(f"SELECT version AS v_version FROM ({text}) AS read_post \\gset")
            else:
                lines.append(text + ";")
        path = work / f"pgbench-{op}-{index}.sql"
        path.write_text("\n".join(lines) + "\n")
        files.append(path)
        count = len(statements)
    if files:
        scripts[op] = (files, variables, count)

# 3. Run them: prepared statements, 2 threads, the same duration as the HTTP runs; at the load's
# concurrency and at the pool's (fewer server processes can be faster on few cores).
tessera = {}
for line in open(results):
    fields = line.split()
    if len(fields) >= 3 and fields[1] == "32":
        tessera[fields[0]] = float(fields[2])

print(f"The ceiling: pgbench -M prepared -j 2 -T {duration}, the adapter's exact SQL per operation "
      f"({len(users)} captured requests each, in a random mix, parameters bound as Tessera binds them), at the "
      "load's 32 clients and at Tessera's pool size (10); the ratio is against the higher")
print(f"{'operation':14} {'statements':>10} {'tx/s c=32':>10} {'tx/s c=10':>10} {'tessera req/s':>14} {'tessera/pgbench':>16}")


def pgbench(files, variables, clients):
    args = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(duration)]
    for path in files:
        args += ["-f", f"{path}@1"]
    for name, value in variables.items():
        args += ["-D", f"{name}={value}"]
    args.append(ceiling_url)
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip()[-300:])
    return float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))


for op in OPS:
    if op not in scripts:
        print(f"{op:14} nothing captured")
        continue
    files, variables, count = scripts[op]
    try:
        at_load, at_pool = pgbench(files, variables, 32), pgbench(files, variables, 10)
    except RuntimeError as failure:
        print(f"{op:14} pgbench failed: {failure}")
        continue
    ceiling = max(at_load, at_pool)
    ratio = tessera.get(op, 0) / ceiling if ceiling else 0
    print(f"{op:14} {count:>10} {at_load:>10.0f} {at_pool:>10.0f} {tessera.get(op, 0):>14.0f} {ratio:>15.0%}")
