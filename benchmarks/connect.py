"""Connecting and joining a group: N clients on 16 nodes, each in 1 to 3 of N/100 rooms.

Makes the scenario with :func:`roomsim.generate.generate_scenario` (one
group, no emits), then times, in this process, the group's expansion into
clients and their connection (``build_cluster`` and the run, every
``connect`` and ``join`` record streamed to a JSON Lines trace), and prints
the time per client and the peak memory.  ``--one-by-one`` switches the
bulk path off (every client through ``Cluster.connect``, as before);
``--compare`` runs both in child processes and checks that the two traces
are the same bytes.  Target: 1,000,000 clients in under 5 s.

Run: ``python benchmarks/connect.py [--clients 1000000] [--nodes 16]
[--adapter redis] [--one-by-one | --compare]``.
"""

from __future__ import annotations

import argparse
import filecmp
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _connect(args: argparse.Namespace, out: Path) -> None:
    from roomsim.generate import generate_scenario
    from roomsim.runner import build_cluster
    from roomsim.scenario import scenario_from_dict
    from roomsim.trace import Trace

    if args.one_by_one:
        from roomsim.cluster import Cluster

        Cluster.connect_many = lambda self, entries, start=0: start  # type: ignore[method-assign]
    data = generate_scenario(
        clients=args.clients,
        nodes=args.nodes,
        adapter=args.adapter,
        rooms=max(1, args.clients // 100),
        rooms_per_client=(1, 3),
        room_emits=0,
        broadcasts=0,
        seed=1,
    )
    scenario = scenario_from_dict(data)
    start = time.perf_counter()
    specs = scenario.all_clients()
    expanded = time.perf_counter()
    trace = Trace(out, keep=False)
    cluster = build_cluster(scenario, trace=trace)
    cluster.run()
    trace.close()
    done = time.perf_counter()
    n = len(specs)
    how = "one by one" if args.one_by_one else "bulk"
    print(
        f"{n:,} clients on {args.nodes} nodes ({args.adapter}, {how}):"
        f" expand {expanded - start:.2f} s, connect and join {done - expanded:.2f} s,"
        f" in all {done - start:.2f} s ({(done - start) / n * 1e6:.1f} µs a client);"
        f" {trace.tally.kinds['join']:,} joins;"
        f" peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument("--adapter", default="redis")
    parser.add_argument("--one-by-one", action="store_true", help="Switch the bulk path off.")
    parser.add_argument("--compare", action="store_true", help="Run both; same trace bytes?")
    parser.add_argument("--out", type=Path, help="The trace file (default: a temporary one).")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="roomsim-connect-"))
    if not args.compare:
        _connect(args, args.out or work / "connect.jsonl")
        return
    traces = []
    for flag in ([], ["--one-by-one"]):
        traces.append(work / f"connect{''.join(flag)}.jsonl")
        command = [sys.executable, __file__, "--clients", str(args.clients)]
        command += ["--nodes", str(args.nodes), "--adapter", args.adapter]
        subprocess.run([*command, *flag, "--out", str(traces[-1])], check=True)
    same = filecmp.cmp(traces[0], traces[1], shallow=False)
    print(f"traces {'identical' if same else 'DIFFERENT'} ({traces[0].stat().st_size:,} bytes)")
    for trace in traces:
        trace.unlink()
    work.rmdir()


if __name__ == "__main__":
    main()
