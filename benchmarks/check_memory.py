"""The checker's memory and time on a large saved trace: ``roomsim check TRACE.jsonl``.

Generates a scenario with ``roomsim generate`` (``--clients`` clients as one
group on 4 nodes with the classic Redis adapter, each in 1 to 3 of 1,000
rooms, single-room broadcasts and whole-namespace broadcasts), writes its
trace with ``roomsim run --trace --no-check``, then checks the trace in a
fresh child process and prints that process's peak memory (max RSS) and wall
time, with the trace's size.  The checker reads the file one line at a time
and keeps the sockets, their rooms and the messages in flight, so its memory
follows the number of clients, not the number of records.

Run: ``python benchmarks/check_memory.py [--clients 100000] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _big import add_arguments, generate_and_run

#: run in the child: check the trace, then report the child's own peak memory
CHILD = """
import json, resource, sys, time
from roomsim.cli import main
start = time.perf_counter()
try:
    main(["check", "--quiet", sys.argv[1]], standalone_mode=False)
    status = 0
except SystemExit as stop:
    status = stop.code
elapsed = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"status": status, "seconds": elapsed, "peak_mb": peak_kb / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, room_emits=1000, broadcasts=2)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="roomsim-check-"))
    work.mkdir(parents=True, exist_ok=True)
    scenario, trace = work / "big.json", work / "big.jsonl"
    run_s = generate_and_run(args, scenario, trace)
    with open(trace, "rb") as lines:
        records = sum(1 for _ in lines)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(trace)], check=True, capture_output=True, text=True
    )
    got = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"clients:              {args.clients:,}")
    print(f"records:              {records:,} ({os.path.getsize(trace) / 1e6:,.0f} MB)")
    print(f"run --trace:          {run_s:.1f} s")
    print(f"check: wall time      {got['seconds']:.1f} s")
    print(f"check: peak memory    {got['peak_mb']:,.0f} MB")
    print(f"check: exit status    {got['status']}")
    if args.keep is None:
        trace.unlink()
        scenario.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
