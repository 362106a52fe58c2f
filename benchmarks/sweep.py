"""A sweep on local Dask process workers against the same runs one after another.

Generates a scenario whose run takes about 2 s on an idle core, then runs a grid of 12 runs
(2 adapter latencies x 6 seeds) twice: one after another in this process
(:func:`roomsim.sweep.run_point`, as a plain loop would), and with
:func:`roomsim.sweep.sweep` on a local cluster of process workers, one per
core (cluster start-up included).  Prints both times and the speed-up;
target: at least 1.6 times on 2 cores.  Both give the same table.

Run: ``python benchmarks/sweep.py [--clients 60000] [--seeds 6] [--workers N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=60_000)
    parser.add_argument("--room-emits", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--workers", type=int, help="Worker processes (default: one per core).")
    args = parser.parse_args()
    import pandas as pd

    from roomsim.generate import generate_scenario
    from roomsim.sweep import expand_grid, run_point, sweep

    data = generate_scenario(clients=args.clients, nodes=4, rooms=200, room_emits=args.room_emits)
    base = Path(tempfile.mkdtemp(prefix="roomsim-sweep-")) / "base.json"
    base.write_text(json.dumps(data))
    grid = {"latency.adapter_ms": [1, 2]}
    points = expand_grid(grid, args.seeds)

    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    start = time.perf_counter()
    serial = pd.DataFrame([run_point(data, p, str(base)) for p in points])
    one_by_one = time.perf_counter() - start
    print(
        f"one after another: {len(points)} runs in {one_by_one:.1f} s"
        f" ({one_by_one / len(points):.2f} s a run)"
    )

    start = time.perf_counter()
    table = sweep(base, grid, args.seeds, workers=args.workers, progress=False)
    parallel = time.perf_counter() - start
    workers = args.workers or os.cpu_count()
    print(f"sweep on {workers} process workers: {len(table)} runs in {parallel:.1f} s")
    print(f"load average after: {os.getloadavg()[0]:.1f} (other work on the machine skews both)")
    print(f"speed-up: {one_by_one / parallel:.2f} times (target: at least 1.6 on 2 cores)")
    same = table.drop(columns=["source"], errors="ignore").equals(serial)
    print(f"same table: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
