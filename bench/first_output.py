#!/usr/bin/env python3
"""Time a command from its start to its first byte on stdout (the first streamed text of a
turn) and to its exit, over N runs. Prints the medians in seconds as JSON.

    first_output.py RUNS COMMAND [ARG]...
"""
import json
import statistics
import subprocess
import sys
import time

runs, cmd = int(sys.argv[1]), sys.argv[2:]
first, done = [], []
for _ in range(runs):
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    byte = child.stdout.read(1)
    first.append(time.perf_counter() - start)
    child.stdout.read()
    child.wait()
    done.append(time.perf_counter() - start)
    if child.returncode != 0 or not byte:
        sys.exit(f"first_output: {cmd[0]} exited {child.returncode} after printing {len(byte)} bytes")
print(json.dumps({"first_output": statistics.median(first), "exit": statistics.median(done)}))
