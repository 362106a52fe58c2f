"""``roomsim calibrate``: measure a cost profile on the real Socket.IO cluster.

The method
----------
The real cluster (Redis, ``nodes`` Socket.IO processes with the classic
Redis adapter, clients in two processes of their own; see
:mod:`roomsim.real.load`) plays a designed set of steady loads, each for a
window of a few seconds: namespace broadcasts with small and large payloads,
broadcasts to a room whose members are all on one node (the other nodes only
decode the broker's message), to a single client, to random rooms of ten
spread over the nodes, emits with acknowledgements, joins and leaves,
connections, and events from clients.  For each node and window the node
reports its **busy time**, the CPU time of its process over the window
(``process.cpuUsage()``; ``--busy elu`` takes the event loop's active time,
``performance.eventLoopUtilization()``, instead), and its counts: emits,
their payload bytes, frames written and their bytes, broker messages
received and their bytes, connections, joins and leaves, acknowledgements,
client events and their bytes.

Every (node, window) pair is one equation::

    busy_ms = emit_ms * emits + emit_byte_ms * emit_bytes + write_ms * frames
            + write_byte_ms * frame_bytes + message_ms * messages
            + message_byte_ms * message_bytes + connect_ms * connects
            + join_ms * joins + ack_ms * acks + packet_ms * packets
            + packet_byte_ms * packet_bytes

(``busy_ms`` less what the node spends idle over as long, measured in an
idle window: its own timers), and the entries are their **non-negative
least-squares** solution over all pairs.  The fit
error of an entry is its standard error: the square root of the diagonal of
``s**2 (X^T X)^-1``, ``s**2`` the residual variance, over the entries not
held at zero.  Redis's CPU time (``INFO``) is fitted the same way on its
publishes and the copies it hands out (one window adds Redis subscribers so
that the two can be told apart): ``publish_ms`` and ``copy_ms``.
``flush_ms`` is not a cost and keeps the default profile's value.

The nodes, Redis and the clients share the machine's cores, so the profile
has ``cores`` (the machine's count) and ``receive_ms``, the clients' CPU
time per delivery (least squares of each client process's CPU time on what
it received, sent and connected).  One window is past saturation and is
left out of the least squares: under sustained load Node coalesces writes
and reads, and a frame or a broker message costs less; ``busy_factor`` is
the share of a frame's write and receive costs and of a broker message's
cost that leaves the cores as busy as that window's achieved throughput
says (see :func:`busy_factor`).

``sched_ms`` (the mean wait of a waking node for a core) is fitted last, on
the tails: each light broadcast window is replayed on roomsim with the
profile (:mod:`roomsim.real.replay`) for values of ``sched_ms`` on a grid,
refined halfway towards the best value's neighbours, and the value whose
replayed p95 and p99 are nearest the measured ones (least mean squared log
ratio) is kept (see :func:`fit_sched`).

The window's delivery latencies give the network's share, written in the
profile's ``machine`` block for scenarios of this machine: ``client_ms``
(half the median of a single-socket emit and its acknowledgement, less the
node's costs) and ``adapter_ms`` (the median of a single-socket emit
through the broker, less the node's costs and ``client_ms``).
"""

from __future__ import annotations

import datetime
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from roomsim.real.load import Load, LoadCluster, Window, layout

__all__ = [
    "NODE_TERMS",
    "calibrate",
    "calibrate_command",
    "design",
    "fit",
    "fit_sched",
    "machine",
    "profile_yaml",
]

#: profile entry <- the node's count it multiplies (and the idle term)
NODE_TERMS: tuple[tuple[str, str], ...] = (
    ("emit_ms", "emits"),
    ("emit_byte_ms", "emitBytes"),
    ("write_ms", "frames"),
    ("write_byte_ms", "frameBytes"),
    ("message_ms", "brokerIn"),
    ("message_byte_ms", "brokerBytes"),
    ("connect_ms", "connects"),
    ("join_ms", "joins"),
    ("ack_ms", "acks"),
    ("packet_ms", "packets"),
    ("packet_byte_ms", "packetBytes"),
    ("direct_ms", "directs"),
)
#: entries of the fit that are not the profile's (work roomsim charges otherwise)
NUISANCE = ("direct_ms",)
#: the name of the design's window past saturation (not in the least squares)
SATURATION = "past saturation"
#: entries set, not fitted: why
NOT_FITTED = {
    "flush_ms": "the default profile's",
    "cores": "this machine's cores",
    "busy_factor": "from the window past saturation",
    "busy_after_ms": "set",
    "sched_ms": "replays of the light broadcast windows, p95 and p99",
}
#: the node's counts whose costs shrink by ``busy_factor`` under sustained load
COALESCED = ("frames", "frameBytes", "brokerIn", "brokerBytes")
#: the values of ``sched_ms`` tried first (ms); then halfway to the best one's neighbours
SCHED_GRID = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)
#: the broker's entries <- Redis's counts
BROKER_TERMS: tuple[tuple[str, str], ...] = (
    ("publish_ms", "publishes"),
    ("copy_ms", "copies"),
)


def fit(
    rows: Sequence[dict[str, float]], busy: Sequence[float], terms: Sequence[tuple[str, str]]
) -> dict[str, tuple[float, float]]:
    """Non-negative least squares of ``busy`` on the counts of ``rows``.

    Returns each entry's value and its standard error (0 for an entry held at
    zero).  A column that is zero in every row is held at zero.

    Examples
    --------
    >>> rows = [{"a": 1, "b": 0}, {"a": 0, "b": 2}, {"a": 3, "b": 1}, {"a": 1, "b": 1}]
    >>> got = fit(rows, [2.0, 1.0, 6.5, 2.5], [("x", "a"), ("y", "b")])
    >>> {k: round(v, 3) for k, (v, _) in got.items()}
    {'x': 2.0, 'y': 0.5}
    """
    import numpy as np

    x = np.array([[float(r.get(count, 0.0)) for _, count in terms] for r in rows])
    y = np.asarray(busy, dtype=float)
    scale = np.linalg.norm(x, axis=0)
    active = [j for j in range(len(terms)) if scale[j] > 0]
    coef = np.zeros(len(terms))
    while active:  # drop the most negative entry until every one is >= 0 (an active set)
        xs = x[:, active] / scale[active]
        sol, *_ = np.linalg.lstsq(xs, y, rcond=None)
        sol = sol / scale[active]
        if (sol >= 0).all():
            coef[active] = sol
            break
        active.pop(int(np.argmin(sol)))
    errors = np.zeros(len(terms))
    if active:
        residual = y - x @ coef
        dof = max(1, len(y) - len(active))
        var = float(residual @ residual) / dof
        xs = x[:, active]
        cov = var * np.linalg.pinv(xs.T @ xs)
        errors[active] = np.sqrt(np.clip(np.diag(cov), 0, None))
    return {name: (float(coef[j]), float(errors[j])) for j, (name, _) in enumerate(terms)}


def design(nodes: int, quick: bool) -> list[Load]:
    """The loads of a calibration: what each entry needs to be told apart.

    Examples
    --------
    >>> [load.kind for load in design(3, quick=True)][:4]
    ['idle', 'all', 'all', 'room']
    """
    s = 1.0 if quick else 2.5
    spread = tuple(f"x{k}" for k in range(30))
    loads = [
        Load("idle", seconds=s),
        Load("all", 15, 20, seconds=s),  # frames: a namespace broadcast
        Load("all", 8, 2000, seconds=s),  # frame and emit bytes
        Load("room", 40, 20, rooms=("n0",), seconds=s),  # one node writes, the others decode
        Load("all", 15, 20, nodes=(0,), seconds=s),  # emits apart from broker messages
        Load("room", 600, 20, rooms=("one0",), nodes=(1,), seconds=s),  # broker messages
        Load("room", 400, 2000, rooms=("one0",), nodes=(1,), seconds=s),  # their bytes
        Load("random", 200, 100, rooms=spread, seconds=s),
        Load("ack", 300, 20, seconds=s),
        Load("direct", 300, 20, seconds=s),  # what an ack adds to socket.emit
        Load("join", 2000, seconds=s),
        Load("connect", 30, seconds=s),
        Load("packet", 400, 20, seconds=s),
        Load("packet", 300, 2000, seconds=s),
        Load("room", 400, 20, rooms=("one0",), nodes=(1,), seconds=s, subscribers=3),  # copies
        # past saturation: what frames cost once the loops stay busy (busy_factor); last,
        # as its backlog takes a while to drain
        Load("all", 300 if quick else 150, 20, seconds=s, name=SATURATION),
    ]
    if nodes < 2:
        loads = [ld for ld in loads if ld.rooms != ("one0",) or ld.subscribers]
    return loads


def _run(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"


def machine() -> dict[str, Any]:
    """The machine a profile is measured on: CPU model, cores, Node and Redis versions, date."""
    import os

    from roomsim.real.tools import node_path, redis_path

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    node, redis = node_path(), redis_path()
    redis_version = _run([redis, "--version"]) if redis else "absent"
    if redis_version.startswith("Redis server v="):
        redis_version = redis_version.split("v=", 1)[1].split()[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "node": _run([node, "--version"]) if node else "absent",
        "redis": redis_version,
        "date": datetime.date.today().isoformat(),
    }


def _busy(node: dict[str, Any], busy: str) -> float:
    return float(node["eluActiveMs"] if busy == "elu" else node["cpuMs"])


def _node_rows(windows: list[Window], busy: str) -> tuple[list[dict[str, float]], list[float]]:
    """One row per (node, window) with a load; its busy time less the idle window's rate."""
    idle = [w for w in windows if w.load.kind == "idle"]
    rate = 0.0  # the busy ms per wall second of an idle node (its timers)
    if idle:
        rate = sum(_busy(n, busy) for w in idle for n in w.nodes) / sum(
            float(n["wallMs"]) / 1000 for w in idle for n in w.nodes
        )
    rows, ys = [], []
    for w in windows:
        if w.load.kind == "idle":
            continue
        for n in w.nodes:
            rows.append({count: float(n.get(count, 0.0)) for _, count in NODE_TERMS})
            ys.append(_busy(n, busy) - rate * float(n["wallMs"]) / 1000)
    return rows, ys


def _broker_rows(windows: list[Window]) -> tuple[list[dict[str, float]], list[float]]:
    idle = [w for w in windows if w.load.kind == "idle"]
    wall = [max(float(n["wallMs"]) for n in w.nodes) / 1000 for w in windows]
    rate = 0.0
    if idle:
        rate = sum(float(w.redis["cpuMs"]) for w in idle) / sum(
            wall[k] for k, w in enumerate(windows) if w.load.kind == "idle"
        )
    rows, ys = [], []
    for k, w in enumerate(windows):
        if w.load.kind == "idle":
            continue
        received = sum(float(n["brokerIn"]) for n in w.nodes)
        pubs = float(w.redis["publishes"])
        rows.append({"publishes": pubs, "copies": received + w.load.subscribers * pubs})
        ys.append(float(w.redis["cpuMs"]) - rate * wall[k])
    return rows, ys


def _median(w: Window) -> float | None:
    return w.latency()["p50"]


def calibrate(
    nodes: int = 3,
    quick: bool = False,
    busy: str = "cpu",
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], dict[str, tuple[float, float]], list[Window]]:
    """Run the design on the real cluster and fit a profile.

    Returns the profile (a mapping, as a profile file holds it), each fitted
    entry's value and standard error, and the windows measured.
    """
    from roomsim.profile import load_profile

    say = progress or (lambda _m: None)
    clients = layout(300 if quick else 600, nodes)
    loads = design(nodes, quick)
    windows: list[Window] = []
    with LoadCluster(clients, nodes=nodes, processes=2) as cluster:
        for load in loads:
            window = cluster.run(load, settle_ms=300 if quick else 500)
            windows.append(window)
            lat = window.latency()
            p50 = f", p50 {lat['p50']:.2f} ms" if lat["p50"] is not None else ""
            cpu = sum(float(n["cpuMs"]) for n in window.nodes)
            say(f"  {load.describe():36} nodes' CPU {cpu:8.1f} ms{p50}")
    light = [w for w in windows if w.load.name != SATURATION]
    rows, ys = _node_rows(light, busy)
    fitted = fit(rows, ys, NODE_TERMS)
    brows, bys = _broker_rows(windows)
    broker = fit(brows, bys, BROKER_TERMS)
    for name in NUISANCE:
        fitted.pop(name)
    fitted.update(broker)
    # the clients' CPU time per delivery (they share the cores with the nodes)
    crows = [
        {
            "received": float(c["received"]),
            "sent": float(c["packets"]),
            "made": float(c["connects"]),
        }
        for w in light
        for c in w.clients
    ]
    cys = [float(c["cpuMs"]) for w in light for c in w.clients]
    clients_fit = fit(
        crows, cys, (("receive_ms", "received"), ("send_ms", "sent"), ("conn_ms", "made"))
    )
    fitted["receive_ms"] = clients_fit["receive_ms"]
    default = load_profile("default")
    entries: dict[str, Any] = {}
    for name in (f for f in default.as_dict() if f != "machine"):
        if name == "flush_ms":
            entries[name] = default.flush_ms
        else:
            entries[name] = float(f"{fitted[name][0]:.4g}")
    info = machine()
    entries["cores"] = float(info["cores"])
    entries["receive_ms"] = float(f"{fitted['receive_ms'][0]:.4g}")
    saturated = next((w for w in windows if w.load.name == SATURATION), None)
    if saturated is not None:
        entries["busy_factor"] = busy_factor(saturated, entries)
        entries["busy_after_ms"] = 50.0
    info.update(_hops(windows, entries))
    entries["sched_ms"], info["sched_fit"] = fit_sched(
        [w for w in light if w.load.kind in ("all", "room", "random")],
        clients,
        nodes,
        {**entries, "machine": info},
    )
    info["nodes"] = nodes
    info["busy"] = "process CPU time" if busy == "cpu" else "event-loop active time"
    info["method"] = "non-negative least squares of each node's busy time on its counts"
    entries["machine"] = info
    return entries, fitted, windows


def fit_sched(
    windows: Sequence[Window],
    clients: Sequence[tuple[int, Sequence[str]]],
    nodes: int,
    profile: dict[str, Any],
    grid: Sequence[float] = SCHED_GRID,
    refine: int = 3,
) -> tuple[float, str]:
    """``sched_ms``: the value whose replays of ``windows`` on roomsim
    (:func:`roomsim.real.replay.replay`, with ``profile``) best match their
    measured tails: the least mean of ``log(replayed / measured) ** 2`` over each
    window's p95 and p99, first over ``grid``, then ``refine`` times halfway
    from the best value to each of its neighbours.  Returns the value and a
    note of that error.

    The waits it sets are the operating system's: a node that wakes up while
    the shared cores are taken waits for one (the rest of a time slice), which
    widens the tail of light loads whose mean the costs already explain.
    """
    import math

    from roomsim.real.replay import replay

    pairs = []
    for w in windows:
        lat = w.latency()
        if lat["p95"] and lat["p99"]:
            pairs.append((w, float(lat["p95"]), float(lat["p99"])))
    if not pairs:
        return 0.0, "no window to fit on"

    def error(value: float) -> float:
        p = {**profile, "sched_ms": value}
        err = 0.0
        for w, p95, p99 in pairs:
            got = replay(w.load, clients, nodes, p)
            err += math.log(max(got["p95"], 1e-6) / p95) ** 2
            err += math.log(max(got["p99"], 1e-6) / p99) ** 2
        return err / (2 * len(pairs))

    tried = {value: error(value) for value in grid}
    for _ in range(refine):  # halfway towards each neighbour of the best so far
        values = sorted(tried)
        k = values.index(min(values, key=tried.__getitem__))
        for j in (k - 1, k + 1):
            if 0 <= j < len(values):
                mid = round((values[k] + values[j]) / 2, 4)
                if mid not in tried:
                    tried[mid] = error(mid)
    best = min(tried.items(), key=lambda item: (item[1], item[0]))
    rms = math.sqrt(best[1])
    return best[0], f"rms log error {rms:.3f} of p95 and p99 over {len(pairs)} windows"


def busy_factor(window: Window, p: dict[str, Any]) -> float:
    """What is left of the write, receive and broker-message costs past
    saturation (0.05 to 1).

    Past saturation the cores are busy all the time, so each delivery took
    ``cores / throughput`` of them; less what the profile charges per
    delivery for the window's other work (emits), over what it charges for
    the frames written and received and the broker messages decoded.  (The window's CPU times
    would not do: its backlog is not done when the window is measured.)
    """
    received = max(1, window.received)
    if window.throughput <= 0:
        return 1.0
    nodes = window.nodes
    other = sum(
        p[name] * float(n.get(count, 0.0))
        for n in nodes
        for name, count in NODE_TERMS
        if name in p and count not in COALESCED
    )
    frames = sum(
        p[name] * float(n.get(count, 0.0))
        for n in nodes
        for name, count in NODE_TERMS
        if name in p and count in COALESCED
    )
    frames += p["receive_ms"] * received
    if frames <= 0:
        return 1.0
    per_delivery = p["cores"] * 1000 / window.throughput
    factor = (per_delivery - other / received) / (frames / received)
    return float(f"{min(1.0, max(0.05, factor)):.3g}")


def _hops(windows: list[Window], p: dict[str, Any]) -> dict[str, float]:
    """client_ms and adapter_ms from the medians of single-socket loads, less the node costs."""
    out: dict[str, float] = {}
    ack = next((w for w in windows if w.load.kind == "ack"), None)
    one = next((w for w in windows if w.load.rooms == ("one0",) and w.load.bytes <= 100), None)
    client_ms = 0.0
    if ack is not None and (m := _median(ack)) is not None:
        costs = p["emit_ms"] + p["write_ms"] + 20 * (p["emit_byte_ms"] + p["write_byte_ms"])
        client_ms = max(0.0, m - costs)
        out["client_ms"] = round(client_ms, 3)
    if one is not None and (m := _median(one)) is not None:
        costs = p["emit_ms"] + p["message_ms"] + p["write_ms"] + p["publish_ms"] + p["copy_ms"]
        out["adapter_ms"] = round(max(0.0, m - costs - client_ms), 3)
    return out


def profile_yaml(entries: dict[str, Any], fitted: dict[str, tuple[float, float]]) -> str:
    """The profile file's text: the entries (each with its fit error) and the machine block.

    Examples
    --------
    >>> text = profile_yaml({"emit_ms": 0.05, "machine": {"cores": 2}}, {"emit_ms": (0.05, 0.01)})
    >>> print(text.splitlines()[-3:])
    ['emit_ms: 0.05  # +- 0.01', 'machine:', '  cores: 2']
    """
    import yaml

    lines = [
        "# A cost profile measured by `roomsim calibrate` (costs: THIS_FILE): times in ms,",
        "# per item or per byte; each entry's fit error (one standard error) after it.",
        '# Its entries are described in docs/scenario-format.md ("costs").',
    ]
    for name, value in entries.items():
        if name == "machine":
            continue
        err = fitted.get(name)
        note = f"  # +- {err[1]:.2g}" if err is not None else f"  # {NOT_FITTED.get(name, 'set')}"
        lines.append(f"{name}: {value!r}{note}")
    if entries.get("machine"):
        lines.append(yaml.safe_dump({"machine": entries["machine"]}, sort_keys=False).rstrip())
    return "\n".join(lines) + "\n"


def _fail(message: str) -> NoReturn:
    click.echo(f"roomsim: {message}", err=True)
    sys.exit(2)


@click.command("calibrate")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the profile to this YAML file (default: print it).",
)
@click.option(
    "--force", is_flag=True, help="Replace the --out file if it exists (default: refuse)."
)
@click.option(
    "--nodes", type=click.IntRange(1, 8), default=3, show_default=True, help="Server nodes."
)
@click.option("--quick", is_flag=True, help="Shorter windows, fewer clients (under a minute).")
@click.option(
    "--busy",
    type=click.Choice(["cpu", "elu"]),
    default="cpu",
    show_default=True,
    help="A node's busy time: its CPU time, or its event loop's active time.",
)
def calibrate_command(out: Path | None, force: bool, nodes: int, quick: bool, busy: str) -> None:
    """Measure a cost profile on the real Socket.IO cluster (Node.js and Redis).

    Plays a designed set of steady loads, fits each profile entry by
    non-negative least squares of every node's busy time on its counts
    (emits, frames, bytes, broker messages, connections, joins,
    acknowledgements), prints each entry with its fit error, and writes the
    profile with the machine it was measured on.  Use it as `costs: FILE`.
    """
    from roomsim.outputs import Output, OutputError, check_target
    from roomsim.real.procs import RealError
    from roomsim.real.tools import missing

    lacking = missing("redis")
    if lacking:
        _fail(lacking.replace("roomsim real needs", "roomsim calibrate needs", 1))
    if out is not None:
        if out.exists() and not force:
            _fail(f"{out}: already exists; not overwritten (--force replaces it)")
        try:
            check_target(out, "profile")
        except OutputError as err:
            _fail(str(err))
    started = time.monotonic()
    click.echo(f"calibrating on {nodes} node{'s' if nodes != 1 else ''} and Redis:", err=True)
    try:
        entries, fitted, _ = calibrate(
            nodes, quick, busy, progress=lambda m: click.echo(m, err=True)
        )
    except RealError as err:
        _fail(f"calibrate: {err}")
    click.echo(f"{'entry':16} {'value':>12} {'fit error':>12}")
    for name, value in entries.items():
        if name == "machine":
            continue
        if name not in fitted:
            click.echo(f"{name:16} {value:12.4g}   ({NOT_FITTED.get(name, 'set')})")
            continue
        error = fitted[name][1]
        rel = f" ({error / value:.0%})" if value > 0 else ""
        click.echo(f"{name:16} {value:12.4g} {error:12.2g}{rel}")
    hops = {
        k: entries["machine"][k] for k in ("client_ms", "adapter_ms") if k in entries["machine"]
    }
    if hops:
        click.echo(
            "network, for scenarios of this machine: "
            + ", ".join(f"{k} {v:g}" for k, v in hops.items())
        )
    text = profile_yaml(entries, fitted)
    if out is None:
        click.echo(text, nl=False)
    else:
        try:
            with Output(out, "profile") as output:
                output.file.write(text)
        except OutputError as err:
            _fail(str(err))
        click.echo(f"wrote {out} ({time.monotonic() - started:.0f} s)", err=True)
