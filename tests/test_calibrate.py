"""``roomsim calibrate``: the fit, the shared cores of a calibrated profile, and the
command line (what it says when something is missing, and that it never
replaces a file unasked).  The last test runs the real cluster."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from roomsim import Cluster
from roomsim.cli import main
from roomsim.profile import CostProfile, load_profile
from roomsim.real.calibrate import NODE_TERMS, fit, profile_yaml
from roomsim.runner import run_scenario
from roomsim.scenario import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent


def test_the_fit_recovers_known_costs_from_noisy_counts() -> None:
    """Busy times made from known per-item costs (plus 1% noise) on counts like a
    calibration's give back each cost within a few of its standard errors, and an
    entry whose true cost is 0 is never negative."""
    rand = random.Random(4)
    truth = {name: 0.0 for name, _ in NODE_TERMS}
    truth.update(emit_ms=0.15, write_ms=0.012, message_ms=0.1, connect_ms=1.0, join_ms=0.008)
    truth.update(ack_ms=0.05, packet_ms=0.1, write_byte_ms=3e-6, direct_ms=0.04)
    rows, busy = [], []
    for _ in range(60):
        row = {count: 0.0 for _, count in NODE_TERMS}
        kind = rand.choice(["emit", "message", "connect", "join", "ack", "packet"])
        size = rand.choice([20, 500, 2000])
        if kind == "emit":
            row["emits"] = rand.uniform(10, 300)
            row["frames"] = row["emits"] * rand.choice([0, 1, 100, 200])
            row["brokerIn"] = row["emits"] * rand.choice([1, 3])
        elif kind == "message":
            row["brokerIn"] = rand.uniform(100, 2000)
            row["frames"] = rand.choice([0.0, row["brokerIn"]])
        elif kind == "connect":
            row["connects"] = rand.uniform(10, 60)
        elif kind == "join":
            row["joins"] = rand.uniform(500, 4000)
        elif kind == "ack":
            row["directs"] = row["frames"] = rand.uniform(100, 600)
            row["acks"] = rand.choice([0.0, row["directs"]])
        else:
            row["packets"] = rand.uniform(100, 800)
        row["emitBytes"] = row["emits"] * size
        row["frameBytes"] = row["frames"] * size
        row["brokerBytes"] = row["brokerIn"] * size
        row["packetBytes"] = row["packets"] * size
        rows.append(row)
        exact = sum(truth[name] * row[count] for name, count in NODE_TERMS)
        busy.append(exact * rand.gauss(1.0, 0.01))
    got = fit(rows, busy, NODE_TERMS)
    for name, (value, error) in got.items():
        assert value >= 0, name
        if truth[name] > 0:
            assert abs(value - truth[name]) <= max(4 * error, 0.05 * truth[name]), (name, value)
            assert error < 0.2 * truth[name], (name, error)


def test_the_fit_holds_a_cost_that_would_be_negative_at_zero() -> None:
    """Least squares would give ``y`` a negative cost here; the fit keeps it at 0
    and refits ``x`` alone."""
    rows = [{"a": 1.0, "b": 1.0}, {"a": 2.0, "b": 0.0}, {"a": 3.0, "b": 3.0}]
    got = fit(rows, [1.0, 2.2, 2.8], [("x", "a"), ("y", "b")])
    assert got["y"] == (0.0, 0.0)
    assert got["x"][0] == pytest.approx((1 + 4.4 + 8.4) / 14)


def test_a_written_profile_loads_as_costs(tmp_path: Path) -> None:
    """The text calibrate writes is a profile file: every entry, the machine block,
    read back by ``costs: FILE``."""
    entries = {**load_profile("default").as_dict(), "cores": 2.0, "receive_ms": 0.005}
    entries["machine"] = {"cpu": "x", "cores": 2, "node": "v20", "redis": "7", "date": "d"}
    fitted = {name: (value, 0.001) for name, value in entries.items() if name != "machine"}
    (tmp_path / "p.yaml").write_text(profile_yaml(entries, fitted))
    (tmp_path / "s.yaml").write_text(
        "cluster: {nodes: 2}\ncosts: p.yaml\nclients: [{name: a, node: n1}]\n"
    )
    scenario = load_scenario(tmp_path / "s.yaml")
    assert scenario.costs is not None and scenario.costs.cores == 2.0
    assert scenario.costs.machine["cpu"] == "x"


def test_nodes_sharing_one_core_write_at_half_speed() -> None:
    """With ``cores: 1`` two nodes writing at once share the core: each broadcast's
    frames leave twice as late as with a core each; a node writing alone is not slowed."""
    base = CostProfile(write_ms=1.0, flush_ms=0.0)
    shared = CostProfile(write_ms=1.0, flush_ms=0.0, cores=1.0)

    def last_delivery(profile: CostProfile, both: bool) -> float:
        sim = Cluster(nodes=2, adapter="redis", costs=profile)
        for k in range(4):
            sim.connect(f"a{k}", node="n1")
            sim.connect(f"b{k}", node="n2")
        sim.run()
        t0 = sim.env.now
        msgs = [sim.io("n1").local.emit("x")]
        if both:
            msgs.append(sim.io("n2").local.emit("y"))
        sim.run()
        return max(r["t"] for m in msgs for r in sim.trace.records("deliver", msg=m)) - t0

    # each node writes 4 frames of 1 ms: 4 ms with a core each
    assert last_delivery(base, both=False) == last_delivery(base, both=True) == 4.0
    assert last_delivery(shared, both=False) == 4.0  # alone on the core
    assert last_delivery(shared, both=True) == 8.0  # 8 ms of writing on one core


def test_cores_zero_changes_nothing() -> None:
    """A profile with ``cores: 0`` (the default) plays the trace of the same profile
    without the entry, byte for byte."""
    data = {
        "seed": 2,
        "cluster": {"nodes": 3, "adapter": "redis"},
        "latency": {"client_ms": 1, "adapter_ms": 1},
        "costs": "default",
        "groups": [{"prefix": "u", "count": 30, "rooms": {"prefix": "r", "count": 3}}],
        "load": [{"rate": 300, "duration": 100, "start": 100, "rooms_of": "u"}],
    }
    plain = run_scenario(scenario_from_dict(data))
    costs = {**load_profile("default").as_dict(), "cores": 0, "receive_ms": 0.01}
    costs.pop("machine")
    zero = run_scenario(scenario_from_dict({**data, "costs": costs}))
    assert list(plain.trace) == list(zero.trace)


def _calibrate(*args: str, monkeypatch: pytest.MonkeyPatch, lacking: str | None) -> object:
    import roomsim.real.tools as tools

    monkeypatch.setattr(tools, "missing", lambda *a, **k: lacking)
    return CliRunner().invoke(main, ["calibrate", *args])


@pytest.mark.parametrize(
    ("lacking", "said"),
    [
        ("roomsim real needs Node.js ('node' on PATH, ...)", "roomsim calibrate needs Node.js"),
        ("roomsim real needs Redis ('redis-server' on PATH, ...)", "needs Redis"),
        ("roomsim real needs its Node packages (x): run 'roomsim real --install'", "--install"),
    ],
)
def test_calibrate_says_what_is_missing(
    lacking: str, said: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without Node.js, Redis or the Node packages, calibrate prints one line
    naming what is missing, exits 2 and writes nothing."""
    out = tmp_path / "p.yaml"
    done = _calibrate("--out", str(out), monkeypatch=monkeypatch, lacking=lacking)
    assert done.exit_code == 2  # type: ignore[attr-defined]
    lines = done.output.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and said in lines[0], lines
    assert not out.exists()


def test_calibrate_without_node_on_path_names_it(tmp_path: Path) -> None:
    """With an empty PATH the command itself finds neither Node.js nor Redis."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(tmp_path)}
    env.pop("ROOMSIM_NODE", None)
    env.pop("ROOMSIM_REDIS_SERVER", None)
    done = subprocess.run(
        [sys.executable, "-m", "roomsim.cli", "calibrate", "--quick"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert "Node.js" in done.stderr and "Redis" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_calibrate_refuses_to_replace_a_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An existing --out file is kept as it is (exit 2) unless --force is given."""
    out = tmp_path / "mine.yaml"
    out.write_text("write_ms: 1\n")
    done = _calibrate("--out", str(out), monkeypatch=monkeypatch, lacking=None)
    assert done.exit_code == 2  # type: ignore[attr-defined]
    assert "already exists" in done.output and "--force" in done.output  # type: ignore[attr-defined]
    assert out.read_text() == "write_ms: 1\n"


@pytest.mark.real
@pytest.mark.slow
def test_calibrate_quick_writes_a_profile_a_scenario_runs_with(tmp_path: Path) -> None:
    """``roomsim calibrate --quick --out p.yaml`` on the real cluster writes a
    profile whose write and message costs are positive, with its machine, and a
    scenario with ``costs: p.yaml`` runs and charges its loops."""
    from roomsim.real.tools import missing

    lacking = missing("redis")
    if lacking:
        pytest.skip(lacking)
    out = tmp_path / "p.yaml"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "roomsim.cli", "calibrate", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "write_ms" in done.stdout and "fit error" in done.stdout
    profile = load_profile(out)
    assert profile.write_ms > 0 and profile.message_ms > 0 and profile.cores >= 1
    assert {"cpu", "cores", "node", "redis", "date"} <= set(profile.machine)
    (tmp_path / "s.yaml").write_text(
        "cluster: {nodes: 3, adapter: redis}\ncosts: p.yaml\n"
        "groups: [{prefix: u, count: 30}]\n"
        "load: [{rate: 100, duration: 200, start: 100}]\n"
    )
    cluster = run_scenario(load_scenario(tmp_path / "s.yaml"))
    assert all(s.loop is not None and s.loop.stats.busy_ms > 0 for s in cluster.nodes.values())


def test_frames_cost_busy_factor_once_a_loop_stays_busy() -> None:
    """A node that keeps getting broadcasts (4 frames of 1 ms, one each ms) writes
    at full cost for the first ``busy_after_ms`` of its busy period, then at
    ``busy_factor`` of it: 10 broadcasts at 4 ms, then 11 at 2 ms."""

    def last_delivery(factor: float) -> float:
        profile = CostProfile(
            write_ms=1.0, flush_ms=0.0, cores=1.0, busy_factor=factor, busy_after_ms=10.0
        )
        sim = Cluster(nodes=1, costs=profile)
        for k in range(4):
            sim.connect(f"c{k}")
        sim.run()
        t0 = sim.env.now
        for k in range(21):
            if k:
                sim.env.run(until=t0 + k)
            sim.io("n1").emit("tick")
        sim.run()
        return max(r["t"] for r in sim.trace.records("deliver")) - t0

    assert last_delivery(1.0) == 84.0
    assert last_delivery(0.5) == 62.0


def test_broker_messages_cost_busy_factor_once_a_loop_stays_busy() -> None:
    """Under sustained load a node reads broker messages in batches too: a node
    given a message of 2 ms each ms (a room of its own, on the sharded adapter,
    so the sender decodes none) pays full cost for the first ``busy_after_ms``
    of its busy period, then ``busy_factor`` of it; a node whose loop idles
    between messages always pays full cost."""

    def busy_ms(factor: float, every_ms: float) -> float:
        profile = CostProfile(
            message_ms=2.0, flush_ms=0.0, cores=2.0, busy_factor=factor, busy_after_ms=10.0
        )
        sim = Cluster(nodes=2, adapter="sharded-redis", costs=profile)
        sim.connect("c", node="n2", rooms=["r"])
        sim.run()
        t0 = sim.env.now
        for k in range(40):
            if k:
                sim.env.run(until=t0 + k * every_ms)
            sim.io("n1").to("r").emit("tick")
        sim.run()
        return sim.nodes["n2"].loop.stats.by_kind["message"]

    assert busy_ms(1.0, 1.0) == pytest.approx(80.0)
    # after 10 ms of a growing backlog every message costs 1 ms: 40 messages, of
    # which about the first 5 to 10 at full cost
    assert 40.0 < busy_ms(0.5, 1.0) < 0.75 * 80.0
    assert busy_ms(0.5, 5.0) == pytest.approx(80.0)  # idle between messages: full cost
