"""Capacity: what costs cost the simulator, and predicted against measured latency.

``python benchmarks/capacity.py overhead [--clients 100000]`` times the same
100,000-client scenario (4 nodes, classic adapter, room emits and a few
broadcasts to everyone) without and with ``costs: default``, in this
process, each the best of ``--repeat`` runs, and prints both and their
ratio (target: at most 1.5).

``python benchmarks/capacity.py validate`` plays the loads of the issue's
measurements (3 nodes, Redis, 1,000 clients: room broadcasts at 100/s,
everyone at 100/s, and everyone past saturation) on roomsim with the
default profile and prints predicted p50/p95/p99 and delivery throughput
next to the figures measured on the real cluster.

``python benchmarks/capacity.py validate --real`` (Node.js, redis-server and
``roomsim real --install``; about 90 s) first calibrates a profile on the
real cluster (``roomsim calibrate``; ``--quick`` for its short design,
``--profile FILE`` to use a profile instead), then plays four loads the
calibration does not play (rooms of ten, one node's room, everyone, and
everyone past saturation; 450 clients, 3 nodes, windows of ``--seconds``)
twice on the real cluster (:mod:`roomsim.real.load`; after an unmeasured
pass of the light loads, and the loads past saturation last, since a window
after a saturated one has a longer tail) and once on roomsim
with the calibrated profile, and prints for each real vs predicted
p50/p95/p99 latency and delivery throughput, the real run-to-run spread
(max/min of the two) and the error ratio (roomsim over the real mean).
"""

from __future__ import annotations

import argparse
import copy
import gc
import time
from typing import Any

from roomsim.capacity import latency_figures
from roomsim.loop import load_figures
from roomsim.runner import run_scenario
from roomsim.scenario import scenario_from_dict
from roomsim.trace import Trace

#: measured on a real 3-process Socket.IO cluster with Redis on this machine kind
#: (1,000 clients): p50 / p99 delivery latency in ms, and the saturation throughput
REAL = {
    "room 100/s": {"p50": 2.2, "p99": 8.6},
    "everyone 100/s": {"p50": 62.0, "p99": 322.0},
    "saturation deliveries/s": 153_000,
}


def big(clients: int, costs: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "seed": 1,
        "cluster": {"nodes": 4, "adapter": "redis"},
        "latency": {"client_ms": 1, "adapter_ms": 1},
        "groups": [{"prefix": "u", "count": clients, "rooms": {"prefix": "r", "count": 1000}}],
        "load": [
            {"rate": 1000, "duration": 3000, "start": 1000, "rooms_of": "u", "bytes": 50},
            {"rate": 2, "duration": 2000, "start": 1000, "bytes": 50},
        ],
    }
    if costs is not None:
        data["costs"] = costs
    return data


def timed_run(data: dict[str, Any]) -> tuple[float, int, Any]:
    scenario = scenario_from_dict(copy.deepcopy(data))
    trace = Trace(keep=False)
    gc.collect()
    start = time.perf_counter()
    cluster = run_scenario(scenario, trace=trace)
    return (
        time.perf_counter() - start,
        sum(trace.tally.deliveries_by_node.values()),
        load_figures(cluster),
    )


def overhead(args: argparse.Namespace) -> None:
    rows = {}
    for label, costs in (("without costs", None), ("with costs: default", "default")):
        best = None
        for _ in range(args.repeat):
            seconds, deliveries, load = timed_run(big(args.clients, costs))
            best = seconds if best is None else min(best, seconds)
        rows[label] = best
        print(f"{label:22} {best:7.2f} s   {deliveries:,} deliveries")
        if load is not None:
            util = max(f["utilisation"] for f in load["nodes"].values())
            print(f"{'':22} busiest loop utilisation {util:.2f}, saturated: {load['saturated']}")
    ratio = rows["with costs: default"] / rows["without costs"]
    print(f"ratio {ratio:.2f} (target <= 1.5)")


def chat(clients: int, rate: float, everyone: bool, costs: Any = "default") -> dict[str, Any]:
    load: dict[str, Any] = {"rate": rate, "duration": 2000, "start": 500, "bytes": 20}
    if not everyone:
        load["rooms_of"] = "u"
    return {
        "seed": 1,
        "cluster": {"nodes": 3, "adapter": "redis"},
        "latency": {"client_ms": 0.1, "adapter_ms": 0.2},
        "costs": costs,
        "groups": [
            {"prefix": "u", "count": clients, "rooms": {"prefix": "r", "count": clients // 10}}
        ],
        "load": [load],
    }


def _row(lat: dict[str, float], thr: float) -> str:
    return f"{lat['p50']:8.1f} {lat['p95']:8.1f} {lat['p99']:8.1f} {thr:13,.0f}"


def validate(args: argparse.Namespace) -> None:
    loads = [
        ("room 100/s", 100, False),
        ("everyone 100/s", 100, True),
        ("everyone 300/s", 300, True),
    ]
    print(f"{'load':16} {'':9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'deliveries/s':>13}")
    for label, rate, everyone in loads:
        data = chat(1000, rate, everyone)
        cluster = run_scenario(scenario_from_dict(copy.deepcopy(data)))
        lat, _, thr = latency_figures(cluster.trace)
        print(f"{label:16} {'roomsim':9} {_row(lat, thr)}")
        real = REAL.get(label)
        if real:
            print(
                f"{'':16} {'real':9} {real['p50']:8.1f} {'':>8} {real['p99']:8.1f}"
                f"   ratio p50 {lat['p50'] / real['p50']:.2f}, p99 {lat['p99'] / real['p99']:.2f}"
            )
        if args.real:
            _real_runs(data, label)
    print(
        f"saturation measured on the real cluster: {REAL['saturation deliveries/s']:,} deliveries/s"
    )


#: the loads of ``validate --real``: none is one of the calibration's
#: (see roomsim.real.calibrate.design), on 450 clients instead of 300 or 600
VALIDATION_CLIENTS = 450


def validation_loads(seconds: float = 2.0) -> list[Any]:
    """Four loads the calibration does not play; the last is past saturation."""
    from roomsim.real.load import Load

    spread = tuple(f"x{k}" for k in range(VALIDATION_CLIENTS // 10))
    return [
        Load(
            "random", 150, 200, rooms=spread, seconds=seconds, name="rooms of 10, 150/s/node, 200 B"
        ),
        Load(
            "room",
            20,
            500,
            rooms=("n1",),
            seconds=seconds,
            name="one node's room, 20/s/node, 500 B",
        ),
        Load("all", 4, 50, seconds=seconds, name="everyone, 4/s/node, 50 B"),
        Load("all", 200, 50, seconds=seconds, name="everyone, 200/s/node, 50 B (past saturation)"),
    ]


def simulated_window(
    load: Any, clients: list[Any], nodes: int, profile: dict[str, Any]
) -> dict[str, Any]:
    """The same window on roomsim (see :func:`roomsim.real.replay.replay`)."""
    from roomsim.real.replay import replay

    return replay(load, clients, nodes, profile)


def real_validation(args: argparse.Namespace) -> None:
    """Calibrate (or read --profile), then each validation load twice real, once simulated."""
    from roomsim.profile import load_profile
    from roomsim.real import missing
    from roomsim.real.calibrate import calibrate
    from roomsim.real.load import LoadCluster, layout

    lacking = missing("redis")
    if lacking:
        raise SystemExit(f"validate --real: {lacking}")
    began = time.monotonic()
    if args.profile:
        profile = load_profile(args.profile).as_dict()
        print(f"profile {args.profile}")
    else:
        print("calibrating (roomsim calibrate" + (" --quick" if args.quick else "") + ") ...")
        profile, _, _ = calibrate(3, quick=args.quick)
        print(f"calibrated in {time.monotonic() - began:.0f} s")
    shown = {k: v for k, v in profile.items() if k != "machine"}
    print("profile: " + ", ".join(f"{k} {v:.4g}" for k, v in shown.items() if v))
    hops = {k: v for k, v in (profile.get("machine") or {}).items() if k.endswith("_ms")}
    print("network: " + ", ".join(f"{k} {v}" for k, v in hops.items()))
    clients = layout(VALIDATION_CLIENTS, 3)
    loads = validation_loads(args.seconds)
    real: dict[str, list[Any]] = {ld.name: [] for ld in loads}
    light, past = loads[:-1], loads[-1]
    with LoadCluster(clients, nodes=3, processes=2) as cluster:
        for load in light:  # unmeasured: the first windows of a new cluster have longer tails
            cluster.run(load, settle_ms=1000)
        for _ in (1, 2):
            for load in light:
                real[load.name].append(cluster.run(load, settle_ms=1000))
        for _ in (1, 2):  # last: a window after one past saturation has a longer tail
            real[past.name].append(cluster.run(past, settle_ms=1000))
    if args.save:
        import pickle

        with open(args.save, "wb") as f:
            pickle.dump((profile, clients, loads, real), f)
    print(
        f"\n{VALIDATION_CLIENTS} clients, 3 nodes, classic Redis adapter; windows of"
        f" {args.seconds:g} s; latency in ms"
    )
    head = f"{'':10} {'p50':>8} {'p95':>8} {'p99':>8} {'deliveries/s':>13}"
    for load in loads:
        sim = simulated_window(load, clients, 3, profile)
        print(f"\n{load.name}\n{head}")
        figs = []
        for i, window in enumerate(real[load.name], 1):
            lat = window.latency()
            f = {k: lat[k] for k in ("p50", "p95", "p99")}
            f["throughput"] = window.throughput
            figs.append(f)
            print(_figures_row(f"real #{i}", f))
        print(_figures_row("roomsim", sim))
        spread = {k: max(f[k] for f in figs) / min(f[k] for f in figs) for k in sim}
        mean = {k: sum(f[k] for f in figs) / len(figs) for k in sim}
        ratio = {k: sim[k] / mean[k] for k in sim}
        print(
            f"{'spread':10} "
            + " ".join(f"{spread[k]:8.2f}" for k in ("p50", "p95", "p99"))
            + f" {spread['throughput']:13.2f}"
        )
        print(
            f"{'ratio':10} "
            + " ".join(f"{ratio[k]:8.2f}" for k in ("p50", "p95", "p99"))
            + f" {ratio['throughput']:13.2f}"
        )
    print(f"\n{time.monotonic() - began:.0f} s in all")


def _figures_row(label: str, f: dict[str, Any]) -> str:
    lat = " ".join(f"{f[k]:8.2f}" for k in ("p50", "p95", "p99"))
    return f"{label:10} {lat} {f['throughput']:13,.0f}"


def _real_runs(data: dict[str, Any], label: str) -> None:
    try:
        from roomsim.real.runner import run_real
    except ImportError:
        print(f"{'':16} real: roomsim.real is not installed here")
        return
    data = {k: v for k, v in data.items() if k != "costs"}
    for i in (1, 2):
        result = run_real(scenario_from_dict(copy.deepcopy(data)), timed=True, scale=1.0)
        lat, _, thr = latency_figures(result.records)
        print(f"{'':16} {'real #' + str(i):9} {_row(lat, thr)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    o = sub.add_parser("overhead", help="time a 100,000-client run without and with costs")
    o.add_argument("--clients", type=int, default=100_000, help="how many clients")
    o.add_argument("--repeat", type=int, default=1, help="runs of each, the best kept")
    v = sub.add_parser("validate", help="predicted against measured latency")
    v.add_argument(
        "--real",
        action="store_true",
        help="calibrate on the real cluster, then play four other loads twice on it and once on"
        " roomsim with the calibrated profile",
    )
    v.add_argument("--profile", help="with --real: use this profile instead of calibrating")
    v.add_argument("--quick", action="store_true", help="with --real: calibrate --quick")
    v.add_argument("--save", help=argparse.SUPPRESS)
    v.add_argument("--seconds", type=float, default=2.0, help="with --real: each window's length")
    args = parser.parse_args()
    if args.what == "overhead":
        overhead(args)
    elif args.real:
        real_validation(args)
    else:
        validate(args)


if __name__ == "__main__":
    main()
