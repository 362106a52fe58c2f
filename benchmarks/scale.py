"""End-to-end scale: 100,000 clients on 4 nodes, about 1,000,000 deliveries.

Generates the scenario as JSON with ``roomsim generate``, then times
``roomsim run FILE --trace OUT.jsonl --quiet --no-check`` in a child process and reads
its peak memory (max RSS).  Targets: under 10 s and under 1.5 GB.

Run: ``python benchmarks/scale.py [--clients 100000] [--nodes 4] [--adapter redis]
[--rooms 1000] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
from pathlib import Path

from _big import add_arguments, generate_and_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, room_emits=3000, broadcasts=4)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="roomsim-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    scenario, trace = work / "scale.json", work / "scale.jsonl"
    elapsed = generate_and_run(args, scenario, trace)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    deliveries = 0
    with trace.open(encoding="utf-8") as lines:
        for line in lines:
            if '"kind":"deliver"' in line:
                deliveries += 1
    print(
        f"{args.clients:,} clients, {args.nodes} nodes ({args.adapter}), {deliveries:,} deliveries"
    )
    print(f"  roomsim run --trace: {elapsed:.2f} s wall   (target < 10 s)")
    print(f"  peak memory:         {peak_mb:,.0f} MB     (target < 1,536 MB)")
    print(f"  deliveries per second end to end: {deliveries / elapsed:,.0f}")
    sizes = trace.stat().st_size / 1e6, scenario.stat().st_size / 1e6
    print(f"  trace: {sizes[0]:,.0f} MB, scenario: {sizes[1]:.1f} MB")
    if not args.keep:
        for path in (scenario, trace):
            os.unlink(path)
        os.rmdir(work)


if __name__ == "__main__":
    main()
