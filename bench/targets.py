#!/usr/bin/env python3
"""Issue 19's targets, read from the output of `bench/run.sh` (one or more backends).

    bench/run.sh postgres | tee pg.log; bench/targets.py pg.log [sqlite.log ...]

For each operation: the rate against the storage's own ceiling at 32 connections (pgbench, the
higher of its two client counts, on PostgreSQL; `tessera-bench ceiling` on SQLite), p99 over p50
at every concurrency, errors, and the highest peak RSS. DynamoDB has no rate ceiling: its target is
calls and capacity per request, printed by run.sh itself. For a log of several servers or rounds
(BENCH_SERVERS, BENCH_ROUNDS) the last run of each operation counts.
"""

import re
import sys

RATE = re.compile(r"^(\w+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+([\d.]+)\s+[\d.]+\s+\d+$")
PGBENCH = re.compile(r"^(\w+)\s+\d+\s+(\d+)\s+(\d+)\s+[\d.]+\s+\d+%$")
CEILING = re.compile(r"^(\w+)\s+\d+\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+$")
WRITES = {"create_post", "patch_post"}


def read(path):
    backend, runs, ceiling = None, {}, {}
    with open(path, encoding="utf-8") as log:
        for line in log:
            line = line.strip()
            if line.startswith("Tessera on "):
                backend = line.split()[2].rstrip(":")
            elif m := RATE.match(line):
                op, conns, rps, p50, p99, _, errors, peak = m.groups()
                runs.setdefault(op, {})[int(conns)] = (float(rps), float(p50), float(p99), int(errors), float(peak))
            elif m := PGBENCH.match(line):
                ceiling[m.group(1)] = max(int(m.group(2)), int(m.group(3)))
            elif m := CEILING.match(line):
                ceiling[m.group(1)] = int(m.group(2))
    return backend, runs, ceiling


def main(paths):
    print("| backend | operation | req/s c=32 | ceiling | share | target | p99/p50 c=32 | p99/p50 c=128 | errors | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        backend, runs, ceiling = read(path)
        for op, by_conns in runs.items():
            rps = by_conns.get(32, by_conns[min(by_conns)])[0]
            limit, share, target = "", "", ""
            if op in ceiling:
                wanted = 0.5 if backend == "postgres" and op in WRITES else 0.6
                got = rps / ceiling[op]
                limit, share = f"{ceiling[op]:,}", f"{got:.0%}"
                target = f"{wanted:.0%} {'met' if got >= wanted else 'missed'}"
            tails = [f"{by_conns[c][2] / by_conns[c][1]:.2f}" if c in by_conns else "" for c in (32, 128)]
            errors = sum(r[3] for r in by_conns.values())
            peak = max(r[4] for r in by_conns.values())
            print(f"| {backend} | {op} | {rps:,.0f} | {limit} | {share} | {target} | {tails[0]} | {tails[1]} | "
                  f"{errors} | {peak:.1f} |")

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
