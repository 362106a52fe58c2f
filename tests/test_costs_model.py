"""The cost model: each cost is charged where the profile says, saturation is
detected, and a run without ``costs`` is what it was."""

from __future__ import annotations

import pytest

from roomsim import Cluster
from roomsim.loop import load_figures
from roomsim.packet import Packet, wire_size
from roomsim.profile import CostProfile, load_profile
from roomsim.runner import run_scenario
from roomsim.scenario import ScenarioError, load_scenario, scenario_from_dict


def _times(sim: Cluster, msg: str) -> dict[str, float]:
    return {r["client"]: r["t"] for r in sim.trace.records("deliver", msg=msg)}


def test_the_kth_socket_of_a_broadcast_waits_for_k_writes() -> None:
    """An emit costs its encoding once, then one write per recipient, in order:
    the k-th socket's frame leaves after emit + k writes (flush_ms 0: each on its own)."""
    profile = CostProfile(emit_ms=1.0, write_ms=0.5, flush_ms=0.0)
    sim = Cluster(nodes=1, costs=profile)
    for name in ("a", "b", "c", "d"):
        sim.connect(name)
    msg = sim.io("n1").emit("news")
    sim.run()
    assert _times(sim, msg) == {"a": 1.5, "b": 2.0, "c": 2.5, "d": 3.0}


def test_write_cost_per_byte_counts_the_encoded_frame() -> None:
    """write_byte_ms is charged per byte of the frame (the packet as encoded)."""
    profile = CostProfile(write_byte_ms=0.01, flush_ms=0.0)
    sim = Cluster(nodes=1, costs=profile)
    sim.connect("a")
    msg = sim.io("n1").emit("news", "x" * 100)
    sim.run()
    size = wire_size(Packet(msg, "news", ("x" * 100,)).wire())
    assert _times(sim, msg)["a"] == pytest.approx(size * 0.01)


def test_flush_groups_frames_without_moving_the_last_one() -> None:
    """With flush_ms, frames leave in groups at the end of each group's writes:
    the last socket still sees the whole write time; no one gets it earlier than
    its own write."""
    profile = CostProfile(write_ms=0.1, flush_ms=0.25)
    sim = Cluster(nodes=1, costs=profile)
    names = [f"c{i}" for i in range(10)]
    for name in names:
        sim.connect(name)
    msg = sim.io("n1").emit("news")
    sim.run()
    got = _times(sim, msg)
    assert got["c9"] == pytest.approx(1.0)
    for i, name in enumerate(names):
        assert got[name] >= (i + 1) * 0.1 - 1e-9
    assert len(set(got.values())) == 5  # groups of two frames


def test_a_second_broadcast_waits_behind_the_first() -> None:
    """The loop is first in, first out: a broadcast emitted while the node is
    still writing the previous one starts after it."""
    profile = CostProfile(write_ms=1.0, flush_ms=0.0)
    sim = Cluster(nodes=1, costs=profile)
    for name in ("a", "b", "c"):
        sim.connect(name)
    first = sim.io("n1").emit("one")
    second = sim.io("n1").emit("two")
    sim.run()
    assert _times(sim, first) == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert _times(sim, second) == {"a": 4.0, "b": 5.0, "c": 6.0}


def test_classic_adapter_nodes_decode_every_broadcast_even_thrown_away() -> None:
    """With the classic adapter every node receives and decodes every broadcast,
    its own copy and rooms it lacks included: message_ms is charged on each."""
    profile = CostProfile(message_ms=2.0)
    sim = Cluster(nodes=3, adapter="redis", costs=profile)
    sim.connect("a", node="n1")
    sim.run()
    for _ in range(5):
        sim.io("n1").to("nobody-here").emit("x")
    sim.run()
    figures = load_figures(sim)["nodes"]
    for node in ("n1", "n2", "n3"):  # n1 gets its own copies back too
        assert figures[node]["busy_by_kind"]["message"] == pytest.approx(10.0)


def test_sharded_adapter_nodes_decode_only_their_rooms() -> None:
    """The sharded adapter sends a room's broadcast only to nodes with the room:
    a node without it decodes nothing."""
    profile = CostProfile(message_ms=2.0)
    sim = Cluster(nodes=3, adapter="sharded-redis", costs=profile)
    sim.connect("a", node="n2")
    sim.run()
    sim.client("a").socket.join("lobby")
    sim.run()
    for _ in range(5):
        sim.io("n1").to("lobby").emit("x")
    sim.run()
    kinds = {n: f["busy_by_kind"] for n, f in load_figures(sim)["nodes"].items()}
    assert kinds["n2"]["message"] == pytest.approx(10.0)
    assert "message" not in kinds["n3"]


def test_connect_join_and_ack_costs_are_charged() -> None:
    """A connection costs connect_ms, each room joined join_ms, each answer ack_ms."""
    profile = CostProfile(connect_ms=3.0, join_ms=0.5, ack_ms=0.25)
    sim = Cluster(nodes=1, costs=profile)
    client = sim.connect("a")

    @client.on("q")
    def answer(ack):
        ack("ok")

    sim.run()
    sim.client("a").socket.join(["r1", "r2"])
    sim.io("n1").timeout(100).emit("q", ack=lambda err, answers: None)
    sim.run()
    kinds = load_figures(sim)["nodes"]["n1"]["busy_by_kind"]
    assert kinds["connect"] == 3.0
    assert kinds["join"] == 1.0
    assert kinds["ack"] == 0.25


def test_a_client_packet_runs_its_handler_after_the_loop_decodes_it() -> None:
    """A client packet's handler runs packet_ms after it reaches an idle node."""
    profile = CostProfile(packet_ms=4.0)
    sim = Cluster(nodes=1, costs=profile)
    seen = []

    @sim.on("connection")
    def on_connection(socket):
        socket.on("hi", lambda *args: seen.append(sim.env.now))

    alice = sim.connect("alice")
    sim.run()
    t0 = sim.env.now
    alice.emit("hi")
    sim.run()
    assert seen == [pytest.approx(t0 + 4.0)]


def test_broker_entries_of_the_profile_set_the_broker_queue() -> None:
    """publish_ms and copy_ms of the profile are the broker's: two nodes, one
    publish costs publish_ms + 3 copies (every node's subscription)."""
    profile = CostProfile(publish_ms=1.0, copy_ms=0.5)
    sim = Cluster(nodes=3, adapter="redis", costs=profile)
    sim.io("n1").emit("x")
    sim.run()
    assert load_figures(sim)["broker"]["busy_ms"] == pytest.approx(2.5)


def test_saturation_is_reported_when_work_arrives_faster_than_it_is_done() -> None:
    """A node writing 50 frames of 0.1 ms for a broadcast every 2 ms (5 ms of work
    each) saturates; at one every 10 ms it does not."""

    def run(every: float) -> dict:
        sim = Cluster(nodes=1, costs=CostProfile(write_ms=0.1))
        for i in range(50):
            sim.connect(f"c{i}")

        def script(env):
            for _ in range(100):
                sim.io("n1").emit("x")
                yield env.timeout(every)

        sim.process(script)
        sim.run()
        return load_figures(sim)

    busy, calm = run(2.0), run(10.0)
    assert busy["saturated"] == ["n1"] and busy["nodes"]["n1"]["max_backlog_ms"] > 100
    assert calm["saturated"] == [] and calm["nodes"]["n1"]["max_backlog_ms"] < 5


def test_costs_key_default_inline_and_file(tmp_path) -> None:
    """costs: default, a mapping, or a file relative to the scenario all give the profile."""
    (tmp_path / "p.yaml").write_text("write_ms: 0.25\n")
    (tmp_path / "s.yaml").write_text("cluster: {nodes: 1}\ncosts: p.yaml\n")
    assert load_scenario(tmp_path / "s.yaml").costs.write_ms == 0.25
    sc = scenario_from_dict({"cluster": {"nodes": 1}, "costs": {"emit_ms": 0.5}})
    assert sc.costs.emit_ms == 0.5
    assert load_profile("default").write_ms > 0


def test_bad_costs_are_refused_with_the_file_and_key(tmp_path) -> None:
    """An unknown cost entry, or a missing profile file, is one clear error."""
    with pytest.raises(ScenarioError, match=r"costs.write_sm: unknown key"):
        scenario_from_dict({"cluster": {"nodes": 1}, "costs": {"write_sm": 1}})
    (tmp_path / "s.yaml").write_text("cluster: {nodes: 1}\ncosts: nowhere.yaml\n")
    with pytest.raises(ScenarioError, match=r"s.yaml:2: costs: no cost profile file"):
        load_scenario(tmp_path / "s.yaml")
    (tmp_path / "p.yaml").write_text("write_ms: -1\n")
    (tmp_path / "t.yaml").write_text("cluster: {nodes: 1}\ncosts: p.yaml\n")
    with pytest.raises(ScenarioError, match=r"p.yaml:1: write_ms"):
        load_scenario(tmp_path / "t.yaml")


def test_a_run_without_costs_has_no_loops_and_the_same_trace() -> None:
    """Without costs every node is ideal: no loop, and the trace equals that of a
    run whose profile costs nothing (an all-zero profile is ideal too)."""
    data = {
        "seed": 3,
        "cluster": {"nodes": 2, "adapter": "redis"},
        "latency": {"client_ms": 2, "adapter_ms": 1},
        "groups": [{"prefix": "u", "count": 20, "rooms": {"prefix": "r", "count": 4}}],
        "load": [{"rate": 200, "duration": 50, "rooms_of": "u"}],
    }
    plain = run_scenario(scenario_from_dict(data))
    assert all(server.loop is None for server in plain.nodes.values())
    zero = run_scenario(scenario_from_dict({**data, "costs": {"flush_ms": 0}}))
    assert list(plain.trace) == list(zero.trace)


def test_load_expands_to_the_same_trace_as_explicit_steps() -> None:
    """A load entry plays exactly as its emits written out as timeline steps."""
    base = {
        "seed": 5,
        "cluster": {"nodes": 2},
        "clients": [{"name": "a", "node": "n1", "rooms": ["lobby"]}],
    }
    sc = scenario_from_dict(
        {**base, "load": [{"rate": 500, "duration": 20, "room": "lobby", "arrivals": "poisson"}]}
    )
    steps = [
        {"at": s.at, "emit": {"id": s.emit.id, "from": s.emit.from_, "to": s.emit.to}}
        for s in sc.timeline
    ]
    assert 3 <= len(steps) <= 30
    explicit = scenario_from_dict({**base, "timeline": steps})
    assert list(run_scenario(sc).trace) == list(run_scenario(explicit).trace)


def test_load_rate_and_arrivals() -> None:
    """A constant load of 100/s over 1 s is 100 emits 10 ms apart; a Poisson load
    of the same rate averages about 100, and the same seed gives the same times."""

    def load(arrivals: str, seed: int = 1) -> list[float]:
        sc = scenario_from_dict(
            {
                "seed": seed,
                "cluster": {"nodes": 1},
                "load": [{"rate": 100, "duration": 1000, "arrivals": arrivals}],
            }
        )
        return [s.at for s in sc.timeline]

    constant = load("constant")
    assert len(constant) == 100 and constant[1] - constant[0] == 10
    poisson = load("poisson")
    assert 70 <= len(poisson) <= 130 and poisson == load("poisson")
    assert poisson != load("poisson", seed=2)


def test_load_refuses_unknown_senders_and_groups() -> None:
    """A load from an unknown name, or to the rooms of a group without rooms, is refused."""
    with pytest.raises(ScenarioError, match=r"load\[0\].from\[0\]"):
        scenario_from_dict(
            {"cluster": {"nodes": 1}, "load": [{"rate": 1, "duration": 1, "from": "zz"}]}
        )
    with pytest.raises(ScenarioError, match=r"load\[0\].rooms_of"):
        scenario_from_dict(
            {"cluster": {"nodes": 1}, "load": [{"rate": 1, "duration": 1, "rooms_of": "u"}]}
        )


SATURATING = """\
seed: 1
cluster: {nodes: 1}
costs: {write_ms: 0.1}
groups: [{prefix: u, count: 50}]
load: [{rate: 500, duration: 400}]
"""


@pytest.mark.slow
def test_run_prints_each_loop_and_warns_of_saturation(tmp_path) -> None:
    """50 frames of 0.1 ms per broadcast at 500/s is 2.5 times what one loop can
    write: the summary shows the loop, warns, and --summary-json carries it; a run
    without costs has no loop figures."""
    import json
    import subprocess
    import sys

    path = tmp_path / "s.yaml"
    path.write_text(SATURATING)
    out = tmp_path / "summary.json"
    run = subprocess.run(
        [sys.executable, "-m", "roomsim.cli", "run", str(path), "--summary-json", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "warning: node n1's event loop is saturated" in run.stdout
    figures = json.loads(out.read_text())
    n1 = figures["load"]["nodes"]["n1"]
    assert n1["saturated"] and n1["busy_by_kind"]["write"] == pytest.approx(200 * 50 * 0.1)
    assert figures["delivery"]["broadcast"]["p99"] > 100  # the queue shows in latency
    path.write_text(SATURATING.replace("costs: {write_ms: 0.1}\n", ""))
    plain = subprocess.run(
        [sys.executable, "-m", "roomsim.cli", "run", str(path), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(plain.stdout)["load"] is None and "warning" not in plain.stdout


@pytest.mark.slow
def test_draw_utilisation_draws_a_scenario_with_costs(tmp_path) -> None:
    """roomsim draw --kind utilisation writes a PNG for a scenario with costs and
    refuses one without, in one line with exit status 2."""
    import subprocess
    import sys

    path = tmp_path / "s.yaml"
    path.write_text(SATURATING)
    png = tmp_path / "loops.png"
    cmd = [sys.executable, "-m", "roomsim.cli", "draw", str(path), "--kind", "utilisation"]
    subprocess.run([*cmd, "--out", str(png)], check=True, capture_output=True)
    assert png.read_bytes()[:4] == b"\x89PNG"
    path.write_text("cluster: {nodes: 1}\n")
    bad = subprocess.run([*cmd, "--out", str(png)], capture_output=True, text=True)
    assert bad.returncode == 2 and "needs a cost profile" in bad.stderr
