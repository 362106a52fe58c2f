"""The benchmarks' shared step: write a large scenario with ``roomsim generate``
and play it into a trace with ``roomsim run --trace --no-check``, in child
processes (so each is measured on its own)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOMSIM = [sys.executable, "-m", "roomsim.cli"]


def add_arguments(parser: argparse.ArgumentParser, *, room_emits: int, broadcasts: int) -> None:
    """The options every large-run benchmark takes."""
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--adapter", choices=["redis", "sharded-redis"], default="redis")
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--room-emits", type=int, default=room_emits)
    parser.add_argument("--broadcasts", type=int, default=broadcasts)
    parser.add_argument("--keep", type=Path, help="Keep the scenario and trace in this directory.")


def generate_and_run(args: argparse.Namespace, scenario: Path, trace: Path) -> float:
    """Write the scenario ``args`` describe (clients in 1 to 3 rooms each, seed 1),
    play it into ``trace`` and return the run's wall time in seconds."""
    subprocess.run(
        [
            *ROOMSIM,
            "generate",
            str(scenario),
            "--clients",
            str(args.clients),
            "--nodes",
            str(args.nodes),
            "--adapter",
            args.adapter,
            "--rooms",
            str(args.rooms),
            "--rooms-per-client",
            "1-3",
            "--room-emits",
            str(args.room_emits),
            "--broadcasts",
            str(args.broadcasts),
            "--seed",
            "1",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    start = time.perf_counter()
    subprocess.run(
        [*ROOMSIM, "run", str(scenario), "--trace", str(trace), "--quiet", "--no-check"],
        check=True,
    )
    return time.perf_counter() - start
