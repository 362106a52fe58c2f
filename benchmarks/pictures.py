"""Pictures of a large run: every picture of ``roomsim run --out`` timed, and peak memory.

Generates the scale scenario (100,000 clients on 4 nodes, about 1,000,000
deliveries, as ``benchmarks/scale.py``), runs it in memory, then times each
picture :func:`roomsim.drawing.save_overview` writes (beyond 200 clients they
are aggregates) and each ``roomsim draw --kind`` on the saved trace.  Target:
every picture under 15 s, memory bounded.

Run: ``python benchmarks/pictures.py [--clients 100000] [--draw] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--room-emits", type=int, default=3000)
    parser.add_argument("--broadcasts", type=int, default=4)
    parser.add_argument("--draw", action="store_true", help="Also time `roomsim draw` per kind.")
    parser.add_argument("--keep", type=Path, help="Keep the pictures and trace in this directory.")
    args = parser.parse_args()
    import os

    os.environ.setdefault("MPLBACKEND", "Agg")
    from roomsim.drawing import overview
    from roomsim.generate import generate_scenario
    from roomsim.runner import run_scenario
    from roomsim.scenario import scenario_from_dict
    from roomsim.trace import Trace

    work = args.keep or Path(tempfile.mkdtemp(prefix="roomsim-pictures-"))
    work.mkdir(parents=True, exist_ok=True)
    data = generate_scenario(
        clients=args.clients,
        nodes=args.nodes,
        adapter="redis",
        rooms=args.rooms,
        rooms_per_client=(1, 3),
        room_emits=args.room_emits,
        broadcasts=args.broadcasts,
        seed=1,
    )
    trace = Trace(work / "big.jsonl")
    start = time.perf_counter()
    run_scenario(scenario_from_dict(data), trace=trace, progress=False)
    trace.close()
    print(
        f"run: {args.clients:,} clients, {trace.tally.kinds['deliver']:,} deliveries,"
        f" {len(trace):,} records in {time.perf_counter() - start:.1f} s;"
        f" peak {_rss_mb():,.0f} MB so far"
    )
    records = trace
    big = overview.count_clients(records) > overview.DETAIL_CLIENTS
    steps = [
        ("timeline.png", overview._timeline),
        ("latency.png", overview._latency),
        ("delivery.png", overview._delivery),
        ("outcomes.png", overview._outcomes),
        ("nodes.png", overview._nodes),
    ]
    total = 0.0
    for name, draw in steps:
        start = time.perf_counter()
        draw(records, work / name, big, "pictures benchmark")
        took = time.perf_counter() - start
        total += took
        print(f"  {name:<14} {took:5.1f} s   peak {_rss_mb():,.0f} MB")
    print(f"roomsim run --out pictures: {total:.1f} s in all ({'aggregate' if big else 'detail'})")
    if args.draw:
        from roomsim.outputs import Output
        from roomsim.trace_parquet import ParquetSink

        with Output(work / "big.parquet", "trace", binary=True) as out:
            sink = ParquetSink(out.file)
            for rec in trace:
                sink.add(rec)
            sink.close()
        first = next(r["msg"] for r in trace if r["kind"] == "emit")
        for saved in ("big.jsonl", "big.parquet"):
            roomsim = [sys.executable, "-m", "roomsim.cli", "draw", str(work / saved)]
            for kind, extra in (
                ("timeline", []),
                ("outcomes", []),
                ("latency", []),
                ("load", []),
                ("delivery", ["--msg", first]),
            ):
                start = time.perf_counter()
                done = subprocess.run(
                    [*roomsim, "--kind", kind, *extra, "--out", str(work / f"draw-{kind}.png")],
                    capture_output=True,
                    text=True,
                )
                took = time.perf_counter() - start
                status = "ok" if done.returncode == 0 else done.stderr.strip()
                print(f"  roomsim draw {saved} --kind {kind:<9} {took:5.1f} s   {status}")
    print(f"pictures in {work}")


if __name__ == "__main__":
    main()
