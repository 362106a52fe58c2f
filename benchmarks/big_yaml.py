"""Reading a long scenario: the same N-step timeline as YAML and as JSON.

Writes both files, then validates each with ``roomsim validate`` in a child
process and prints its wall time and peak memory (the child's maximum
resident set size).  A YAML file is read from the parser's events, with no
tree of nodes kept, so it should take about the memory the JSON file takes.

Run: ``python benchmarks/big_yaml.py [--steps 1000000] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _step(i: int) -> str:
    return f"  - {{at: {i}, emit: {{from: n1, to: [r{i % 10}], event: news, data: {{k: {i}}}}}}}\n"


def write_files(folder: Path, steps: int) -> tuple[Path, Path]:
    """The N-step scenario as ``long.yaml`` and ``long.json`` in ``folder``."""
    head = "cluster: {nodes: 2}\nclients:\n  - {name: a, node: n1, rooms: [r1]}\ntimeline:\n"
    yaml_path, json_path = folder / "long.yaml", folder / "long.json"
    with yaml_path.open("w", encoding="utf-8") as out:
        out.write(head)
        for i in range(steps):
            out.write(_step(i))
    data = {
        "cluster": {"nodes": 2},
        "clients": [{"name": "a", "node": "n1", "rooms": ["r1"]}],
        "timeline": [
            {
                "at": i,
                "emit": {"from": "n1", "to": [f"r{i % 10}"], "event": "news", "data": {"k": i}},
            }
            for i in range(steps)
        ],
    }
    json_path.write_text(json.dumps(data), encoding="utf-8")
    return yaml_path, json_path


def measure(path: Path) -> tuple[float, float]:
    """Wall time (s) and peak memory (MB) of ``roomsim validate path`` in a child."""
    code = "import sys; from roomsim.cli import main; sys.argv[0] = 'roomsim'; main()"
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", code, "validate", str(path)], stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"roomsim validate {path} failed")
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="roomsim-big-yaml-"))
    folder.mkdir(parents=True, exist_ok=True)
    yaml_path, json_path = write_files(folder, args.steps)
    print(f"{args.steps:,} steps")
    print("| file | size | wall time | peak memory |")
    print("| --- | --- | --- | --- |")
    for path in (json_path, yaml_path):
        elapsed, peak = measure(path)
        size = path.stat().st_size / 2**20
        print(f"| {path.name} | {size:,.0f} MiB | {elapsed:.1f} s | {peak:,.0f} MB |")
    if args.keep is None:
        for path in (yaml_path, json_path):
            path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
