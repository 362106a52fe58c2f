"""Fan-out speed: roomsim's deliveries per second against two floors.

Measured in one process, one after the other, on the same machine:

- passive: a broadcast to a room whose clients have no handler for the event;
- reactive: the same, each client running a (trivial) handler per delivery;
- bare SimPy floor: a SimPy loop that schedules one event per delivery;
- plain-Python floor: a loop that only records (time, message, client) tuples;
- fair floor: a plain-Python loop that does the batched work the kit does per
  broadcast and node: the recipients' socket ids turned into client names in
  one pass, kept as one batch (time, message, node, event, names) and counted
  (deliveries per node, latency sum), with nothing simulated.

Run: ``python benchmarks/fanout.py [--clients 100000] [--emits 20] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import simpy

import roomsim


def best_rate(fn: Callable[[], int], repeat: int) -> float:
    """Deliveries per second of the fastest of ``repeat`` runs."""
    best = float("inf")
    count = 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def kit_timed(clients: int, emits: int, reactive: bool) -> Callable[[], int]:
    """Time only the run (set-up excluded), as the floors do."""

    def run() -> int:
        sim = roomsim.Cluster(nodes=1, client_ms=5)
        seen = [0]

        def on_news(*_args: object) -> None:
            seen[0] += 1

        for i in range(clients):
            client = sim.connect(f"c{i}", node="n1", rooms=["room"])
            if reactive:
                client.on("news", on_news)
        io = sim.io("n1")

        def script(env: simpy.Environment):
            for _ in range(emits):
                io.to("room").emit("news")
                yield env.timeout(10)

        sim.process(script)
        start = time.perf_counter()
        sim.run()
        run.elapsed = time.perf_counter() - start  # type: ignore[attr-defined]
        return sim.trace.tally.kinds["deliver"]

    return run


def simpy_floor(clients: int, emits: int) -> Callable[[], int]:
    names = [f"c{i}" for i in range(clients)]

    def run() -> int:
        env = simpy.Environment()
        out: list[tuple[float, int, str]] = []

        def script(env: simpy.Environment):
            for m in range(emits):
                for name in names:
                    ev = env.timeout(5)
                    ev.callbacks.append(lambda _e, m=m, name=name: out.append((env.now, m, name)))
                yield env.timeout(10)

        env.process(script(env))
        env.run()
        return len(out)

    return run


def python_floor(clients: int, emits: int) -> Callable[[], int]:
    names = [f"c{i}" for i in range(clients)]

    def run() -> int:
        out: list[tuple[float, int, str]] = []
        t = 0.0
        for m in range(emits):
            for name in names:
                out.append((t + 5, m, name))
            t += 10
        return len(out)

    return run


def fair_floor(clients: int, emits: int) -> Callable[[], int]:
    """The same batches of recipients, recorded the same way, by a plain loop."""
    sids = [f"sid{i:016d}" for i in range(clients)]
    names = {sid: f"c{i}" for i, sid in enumerate(sids)}
    room = dict.fromkeys(sids)

    def run() -> int:
        batches: list[tuple[float, str, str, str, list[str]]] = []
        per_node: dict[str, int] = {}
        latency_sum = 0.0
        t = 0.0
        for m in range(emits):
            msg = f"m{m + 1}"
            recipients = list(room)  # the room's members, as the registry selects them
            clients_ = list(map(names.__getitem__, recipients))
            batches.append((t + 5, msg, "n1", "news", clients_))
            per_node["n1"] = per_node.get("n1", 0) + len(clients_)
            latency_sum += 5 * len(clients_)
            t += 10
        return sum(len(b[4]) for b in batches)

    return run


def timed_rate(make: Callable[[], int], repeat: int) -> float:
    best = float("inf")
    count = 0
    for _ in range(repeat):
        count = make()
        best = min(best, make.elapsed)  # type: ignore[attr-defined]
    return count / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--emits", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, m, r = args.clients, args.emits, args.repeat
    figures = {
        "passive (kit)": timed_rate(kit_timed(n, m, reactive=False), r),
        "reactive (kit)": timed_rate(kit_timed(n, m, reactive=True), r),
        "bare SimPy floor": best_rate(simpy_floor(n, m), r),
        "plain Python floor": best_rate(python_floor(n, m), r),
        "fair floor": best_rate(fair_floor(n, m), r),
    }
    print(f"{n:,} clients in one room, {m} emits, best of {r} runs")
    for name, rate in figures.items():
        print(f"  {name:<20} {rate:>14,.0f} deliveries/s")
    simpy_rate, python_rate = figures["bare SimPy floor"], figures["plain Python floor"]
    print(f"  passive / SimPy floor   {figures['passive (kit)'] / simpy_rate:6.2f}  (target >= 5)")
    print(
        f"  passive / Python floor  {figures['passive (kit)'] / python_rate:6.2f}  (target >= 0.5)"
    )
    fair = figures["passive (kit)"] / figures["fair floor"]
    print(f"  passive / fair floor    {fair:6.2f}  (target >= 0.5)")
    print(
        f"  reactive / SimPy floor  {figures['reactive (kit)'] / simpy_rate:6.2f}  (target >= 0.7)"
    )


if __name__ == "__main__":
    main()
