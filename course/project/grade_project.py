"""Grade the chat-service project: correctness, Socket.IO's rules, and cost.

Usage (from the repository's root)::

    python course/project/grade_project.py alice.py bob.py ... [--out leaderboard.csv]

Each submission is a Python file with ``on_connection(socket)``.  It is run on
several workloads (seeded, so every submission meets the same ones), on three
nodes with the classic and the sharded Redis adapter.  For each, the grader

1. compares what every device received with what the specification says
   (a model of the rooms, independent of any handler);
2. runs ``roomsim.check`` on the trace (the checks of ``roomsim run``): at most
   once, per-connection order, no message to a non-member or a sender;
3. measures the cost: broker copies handed out per delivery, and the p99
   latency from emit to delivery.

The leaderboard ranks correct submissions by cost; a submission meets the cost
target when its copies per delivery are within 10% of the reference's.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import math
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import roomsim
from roomsim.exercises.bounds import NeverFinished, run_bounded

HERE = Path(__file__).resolve().parent

#: Devices (client names, user-device) and their nodes.
DEVICES = {
    "ann-phone": "n1",
    "ann-laptop": "n2",
    "ben-laptop": "n3",
    "cat-phone": "n1",
    "dan-laptop": "n2",
    "eve-phone": "n3",
    "eve-laptop": "n1",
    "fay-laptop": "n2",
}
ROOMS = ("general", "random", "dev", "ops")
EVENTS = ("joined", "message", "private", "left", "error")
STEP_MS = 50
ADAPTERS = ("redis", "sharded-redis")
SEEDS = (1, 2, 3)
#: A submission meets the cost target within this factor of the reference's cost.
COST_SLACK = 1.10

Action = tuple[str, ...]
Inbox = dict[str, list[tuple[Any, ...]]]


def user(device: str) -> str:
    return device.split("-")[0]


@dataclass(frozen=True)
class Workload:
    """A seeded script of actions, one every STEP_MS ms, on one adapter."""

    seed: int
    adapter: str
    actions: tuple[Action, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.adapter}/seed{self.seed}"


def workload(seed: int, adapter: str, steps: int = 60) -> Workload:
    """The workload of ``seed``: joins, chats, whispers, leavings and returns."""
    rng = random.Random(seed)
    connected = set(DEVICES)
    actions: list[Action] = []
    users = sorted({user(d) for d in DEVICES})
    for i in range(steps):
        gone = sorted(set(DEVICES) - connected)
        kind = rng.choices(
            ["join", "say", "whisper", "disconnect", "connect"], [40, 30, 15, 8, 7 if gone else 0]
        )[0]
        if kind == "connect":
            device = rng.choice(gone)
            connected.add(device)
            actions.append(("connect", device))
            continue
        device = rng.choice(sorted(connected))
        if kind == "join":
            actions.append(("join", device, rng.choice(ROOMS)))
        elif kind == "say":
            actions.append(("say", device, rng.choice(ROOMS), f"text{i}"))
        elif kind == "whisper":
            actions.append(("whisper", device, rng.choice(users), f"psst{i}"))
        else:
            connected.discard(device)
            actions.append(("disconnect", device))
    return Workload(seed, adapter, tuple(actions))


def expected(w: Workload) -> Inbox:
    """What each device must receive, in order, by the specification (README.md)."""
    rooms: dict[str, set[str]] = {d: set() for d in DEVICES}
    connected = set(DEVICES)
    inbox: Inbox = {d: [] for d in DEVICES}

    def others(device: str, room: str) -> list[str]:
        return [d for d in DEVICES if d != device and d in connected and room in rooms[d]]

    for action in w.actions:
        kind, device = action[0], action[1]
        if kind == "join":
            room = action[2]
            if room not in rooms[device]:
                for d in others(device, room):
                    inbox[d].append(("joined", room, user(device)))
                rooms[device].add(room)
        elif kind == "say":
            room, text = action[2], action[3]
            if room in rooms[device]:
                for d in others(device, room):
                    inbox[d].append(("message", room, user(device), text))
            else:
                inbox[device].append(("error", f"not in {room}"))
        elif kind == "whisper":
            to, text = action[2], action[3]
            for d in DEVICES:
                if d != device and d in connected and user(d) == to:
                    inbox[d].append(("private", user(device), text))
        elif kind == "disconnect":
            told = {d for room in rooms[device] for d in others(device, room)}
            for d in sorted(told):
                inbox[d].append(("left", user(device)))
            rooms[device] = set()
            connected.discard(device)
        elif kind == "connect":
            connected.add(device)
    return inbox


def play(handler: Callable[[Any], Any], w: Workload) -> tuple[Inbox, roomsim.Trace]:
    """Run ``handler`` on the workload; what each device received, and the trace."""
    sim = roomsim.Cluster(nodes=3, adapter=w.adapter, client_ms=5, adapter_ms=2)
    sim.on("connection", handler)
    got: Inbox = {d: [] for d in DEVICES}
    clients = {}
    for device, node in DEVICES.items():
        client = sim.connect(device, node=node)
        for event in EVENTS:
            client.on(event, lambda *args, d=device, e=event: got[d].append((e, *args)))
        clients[device] = client

    def timeline(env: Any) -> Any:
        for action in w.actions:
            yield env.timeout(STEP_MS)
            kind, client = action[0], clients[action[1]]
            if kind == "disconnect":
                client.disconnect()
            elif kind == "connect":
                client.connect(node=DEVICES[action[1]])
            else:
                client.emit(kind, *action[2:])

    sim.process(timeline)
    run_bounded(sim, until=STEP_MS * (len(w.actions) + 4), must_finish=False, wall_s=20)
    return got, sim.trace


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


@dataclass
class Report:
    """One submission's results over every workload."""

    submission: str
    correct: int = 0
    workloads: int = 0
    violations: int = 0
    deliveries: int = 0
    copies: int = 0
    latencies: list[float] = field(default_factory=list)
    first_problem: str = ""

    @property
    def copies_per_delivery(self) -> float:
        return self.copies / self.deliveries if self.deliveries else math.inf

    @property
    def p99_ms(self) -> float:
        return _p99(self.latencies)


def _first_difference(want: Inbox, got: Inbox) -> str:
    for device in DEVICES:
        if want[device] != got[device]:
            for i, (a, b) in enumerate(zip(want[device], got[device], strict=False)):
                if a != b:
                    return f"{device}, event #{i + 1}: expected {a!r}, got {b!r}"
            if len(got[device]) > len(want[device]):
                return f"{device} got an extra {got[device][len(want[device])]!r}"
            return f"{device} did not get {want[device][len(got[device])]!r}"
    return ""


def evaluate(handler: Callable[[Any], Any], name: str) -> Report:
    """Run ``handler`` on every workload and gather its report."""
    report = Report(name)
    for adapter in ADAPTERS:
        for seed in SEEDS:
            w = workload(seed, adapter)
            report.workloads += 1
            try:
                got, trace = play(handler, w)
            except NeverFinished as err:
                report.first_problem = report.first_problem or f"{w.name}: {err}"
                continue
            except Exception as err:
                report.first_problem = report.first_problem or (
                    f"{w.name}: the handler raised {err.__class__.__name__}: {err}"
                )
                continue
            problem = _first_difference(expected(w), got)
            if problem:
                report.first_problem = report.first_problem or f"{w.name}: {problem}"
            else:
                report.correct += 1
            report.violations += len(roomsim.check(trace, complete=False))
            emitted = {r["msg"]: r["t"] for r in trace.records("emit")}
            delivered = list(trace.records("deliver"))
            report.deliveries += len(delivered)
            report.copies += len(list(trace.records("relay")))
            report.latencies += [
                r["t"] - emitted[r["msg"]] for r in delivered if r["msg"] in emitted
            ]
    return report


def load_handler(path: Path) -> Callable[[Any], Any]:
    """``on_connection`` of the submission at ``path``."""
    spec = importlib.util.spec_from_file_location(f"submission_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.on_connection


def leaderboard(paths: list[Path], out: Path | None = None) -> list[dict[str, Any]]:
    """Grade every submission; rows ranked (correct first, then cheapest); CSV to ``out``."""
    reference = evaluate(load_handler(HERE / "reference.py"), "reference")
    target = reference.copies_per_delivery * COST_SLACK
    rows = []
    for path in paths:
        try:
            report = evaluate(load_handler(path), path.name)
        except Exception as err:  # the file does not load
            report = Report(path.name, workloads=len(ADAPTERS) * len(SEEDS))
            report.first_problem = f"does not load: {err.__class__.__name__}: {err}"
        all_correct = report.correct == report.workloads and report.violations == 0
        rows.append(
            {
                "submission": report.submission,
                "correct": f"{report.correct}/{report.workloads}",
                "violations": report.violations,
                "copies_per_delivery": round(report.copies_per_delivery, 3),
                "p99_ms": round(report.p99_ms, 1),
                "meets_cost_target": all_correct and report.copies_per_delivery <= target,
                "first_problem": report.first_problem,
                "_key": (
                    -report.correct,
                    report.violations,
                    report.copies_per_delivery,
                    report.p99_ms,
                ),
            }
        )
    rows.sort(key=lambda r: r["_key"])
    for rank, row in enumerate(rows, start=1):
        row.pop("_key")
        row["rank"] = rank
    if out is not None:
        fields = ["rank", "submission", "correct", "violations", "copies_per_delivery"]
        fields += ["p99_ms", "meets_cost_target", "first_problem"]
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade chat-service submissions.")
    parser.add_argument("submissions", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, help="write the leaderboard as CSV")
    args = parser.parse_args(argv)
    rows = leaderboard(args.submissions, args.out)
    print(
        f"{'rank':>4}  {'submission':24} {'correct':>7} {'viol.':>5}"
        f" {'copies/deliv.':>13} {'p99 ms':>7}  target"
    )
    for r in rows:
        print(
            f"{r['rank']:>4}  {r['submission']:24} {r['correct']:>7} {r['violations']:>5}"
            f" {r['copies_per_delivery']:>13} {r['p99_ms']:>7}"
            f"  {'yes' if r['meets_cost_target'] else 'no'}"
        )
        if r["first_problem"]:
            print(f"      first problem: {r['first_problem']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
