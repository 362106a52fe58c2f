"""Many small emits: what a node that has no socket in the room costs per emit.

The same emits (single-room broadcasts to rooms of about 2 clients, each
client in one room) are run on ``--few`` and on ``--many`` nodes with the
classic ``redis`` adapter; each node of the many-node run that lacks the
room is handed a copy by the broker and throws it away.  The cost per emit
per node is the slope::

    (CPU(many nodes) - CPU(few nodes)) / emits / (many - few)

with CPU the user and system seconds of ``roomsim run FILE --trace OUT
--quiet --no-check`` in a child process (the best of ``--repeat`` runs, so
that other work on the machine counts as little as it can).  ``--code DIR``
measures another checkout of roomsim (its ``roomsim`` package first on the
path) on the same scenarios, to compare before and after a change; the
traces of both are compared byte for byte.

Run: ``python benchmarks/emits.py [--emits 20000] [--few 2] [--many 16]
[--repeat 3] [--code DIR]``; ``--only-many`` times the many-node run alone
(for the issue's 1,000,000 emits on 16 nodes); ``--no-trace`` runs without a
trace file (the summary only).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOMSIM = [sys.executable, "-m", "roomsim.cli"]


def generate(path: Path, *, nodes: int, clients: int, emits: int) -> None:
    """A scenario of ``emits`` single-room broadcasts to rooms of about 2 clients."""
    subprocess.run(
        [
            *ROOMSIM,
            "generate",
            str(path),
            "--clients",
            str(clients),
            "--nodes",
            str(nodes),
            "--adapter",
            "redis",
            "--rooms",
            str(clients // 2),
            "--rooms-per-client",
            "1",
            "--room-emits",
            str(emits),
            "--broadcasts",
            "0",
            "--seed",
            "1",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


TRACE = True


def run(scenario: Path, trace: Path, code: Path | None) -> tuple[float, float]:
    """CPU and wall seconds of one ``roomsim run`` of ``scenario`` into ``trace``."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    trace.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [*ROOMSIM, "run", str(scenario), "--quiet", "--no-check"]
        + (["--trace", str(trace)] if TRACE else []),
        check=True,
        env=env,
        cwd=trace.parent,  # not a checkout: the path decides which roomsim runs
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def best(scenario: Path, trace: Path, code: Path | None, repeat: int) -> tuple[float, float]:
    return min(run(scenario, trace, code) for _ in range(repeat))


def _where(code: Path | None, work: Path) -> str:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    found = subprocess.run(
        [sys.executable, "-c", "import roomsim; print(roomsim.__file__)"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    return str(Path(found.stdout.strip()).parent.parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emits", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--few", type=int, default=2)
    parser.add_argument("--many", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--code", type=Path, help="Also measure the roomsim checkout in DIR.")
    parser.add_argument("--only-many", action="store_true", help="Time the many-node run only.")
    parser.add_argument("--keep", type=Path, help="Keep the files in this directory.")
    parser.add_argument("--no-trace", action="store_true", help="Run without --trace.")
    args = parser.parse_args()
    global TRACE
    TRACE = not args.no_trace
    work = args.keep or Path(tempfile.mkdtemp(prefix="roomsim-emits-"))
    work.mkdir(parents=True, exist_ok=True)
    counts = [args.many] if args.only_many else [args.few, args.many]
    scenarios = {}
    for nodes in counts:
        scenarios[nodes] = work / f"emits-{nodes}.json"
        generate(scenarios[nodes], nodes=nodes, clients=args.clients, emits=args.emits)
    codes: list[tuple[str, Path | None]] = [("this checkout", None)]
    if args.code is not None:
        codes.append((str(args.code), args.code.resolve()))
    for name, code in codes:
        print(f"  {name}: roomsim from {_where(code, work)}")
    print(f"{args.emits:,} emits to rooms of about 2 ({args.clients:,} clients), `redis`")
    slopes = []
    for k, (name, code) in enumerate(codes):
        figures = {}
        for nodes in counts:
            trace = work / f"emits-{nodes}-{k}.jsonl"
            figures[nodes] = best(scenarios[nodes], trace, code, args.repeat)
            cpu, wall = figures[nodes]
            per_emit = cpu / args.emits * 1e6
            print(f"  {name}: {nodes:>3} nodes  {cpu:6.2f} s CPU  {wall:6.2f} s wall  "
                  f"{per_emit:6.1f} µs per emit")  # fmt: skip
        if not args.only_many:
            slope = (figures[args.many][0] - figures[args.few][0]) / args.emits
            slope /= args.many - args.few
            slopes.append(slope)
            print(f"  {name}: {slope * 1e6:.2f} µs per emit per node")
    if len(codes) == 2 and TRACE:
        for nodes in counts:
            same = filecmp.cmp(
                work / f"emits-{nodes}-0.jsonl", work / f"emits-{nodes}-1.jsonl", shallow=False
            )
            print(f"  traces on {nodes} nodes: {'identical' if same else 'DIFFERENT'}")
        if len(slopes) == 2 and slopes[0] > 0:
            print(f"  per emit per node: {slopes[1] / slopes[0]:.2f} times less here")


if __name__ == "__main__":
    main()
