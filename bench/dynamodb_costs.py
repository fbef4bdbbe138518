#!/usr/bin/env python3
"""DynamoDB's cost per request of each benchmarked operation: calls by kind and consumed read
and write capacity units, read from Tessera's own /metrics (every call asks DynamoDB for its
consumed capacity) around a sequence of requests answered one at a time.

    bench/dynamodb_costs.py BASE SESSIONS.json [REQUESTS]
"""
import json
import re
import sys
import urllib.request
from collections import Counter

from operations import OPERATIONS, request

base, sessions_path = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 40
users = [u for u in json.load(open(sessions_path))["users"] if u["posts"]]


def metrics():
    text = urllib.request.urlopen(base + "/metrics").read().decode()
    calls = Counter()
    for name, op, value in re.findall(
            r'^(tessera_storage_calls_total)\{[^}]*backend="dynamodb"[^}]*call="(\w+)"[^}]*\} ([\d.e+]+)$',
            text, re.M):
        calls[op] += float(value)
    units = Counter()
    for kind, value in re.findall(r'^tessera_dynamodb_consumed_capacity_units_sum\{kind="(\w+)"\} ([\d.e+]+)$',
                                  text, re.M):
        units[kind] += float(value)
    return calls, units


print(f"DynamoDB cost per request ({count} requests each, answered one at a time; capacity units as "
      "DynamoDB Local reports them)")
print(f"{'operation':14} {'calls':>6}  {'by kind':40} {'RCU':>6} {'WCU':>6}")
for op in OPERATIONS:
    calls_before, units_before = metrics()
    for n in range(count):
        request(base, op, users[n % len(users)], n)
    calls_after, units_after = metrics()
    calls = {k: (calls_after[k] - calls_before[k]) / count for k in calls_after if calls_after[k] != calls_before[k]}
    kinds = ", ".join(f"{k} {v:g}" for k, v in sorted(calls.items()))
    read = (units_after["read"] - units_before["read"]) / count
    write = (units_after["write"] - units_before["write"]) / count
    print(f"{op:14} {sum(calls.values()):>6.2f}  {kinds:40} {read:>6.2f} {write:>6.2f}")
