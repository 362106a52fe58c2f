"""``sched_ms``: a node's loop that wakes up while the shared cores are taken
waits for one.  The chance of waiting is Erlang C of the cores' recent
utilisation, the wait exponential of mean ``sched_ms``; nothing changes
without ``cores`` or with ``sched_ms: 0``, and the same seed draws the same
waits."""

from __future__ import annotations

import math
import random

import pytest
import simpy

from roomsim import Cluster
from roomsim.loop import Machine, NodeLoop, erlang_c
from roomsim.profile import CostProfile
from roomsim.real.load import Load
from roomsim.real.replay import replay


def _erlang_c_by_definition(c: int, rho: float) -> float:
    """P(wait) in M/M/c: the stationary chance that all c servers are busy."""
    a = c * rho
    p0 = 1 / (
        sum(a**k / math.factorial(k) for k in range(c)) + a**c / math.factorial(c) / (1 - rho)
    )
    return a**c / math.factorial(c) / (1 - rho) * p0


@pytest.mark.parametrize("c", [1, 2, 3, 8])
@pytest.mark.parametrize("rho", [0.05, 0.3, 0.7, 0.95])
def test_erlang_c_is_the_chance_every_core_is_busy(c: int, rho: float) -> None:
    """Erlang's C formula, against its statement as P0 times the queueing term."""
    assert erlang_c(c, rho) == pytest.approx(_erlang_c_by_definition(c, rho))


def test_an_idle_machine_never_makes_a_loop_wait() -> None:
    """With no recent work on the cores, a waking loop starts at once."""
    env = simpy.Environment()
    machine = Machine(2.0)
    loop = NodeLoop(
        env,
        CostProfile(emit_ms=1.0, cores=2.0, sched_ms=5.0),
        machine=machine,
        rng=random.Random(1),
    )
    assert loop.charge(1.0) == 1.0


def test_a_busy_machine_makes_waking_loops_wait_sched_ms_on_average() -> None:
    """A loop waking while the cores are fully taken (utilisation 1: Erlang C is 1)
    waits an exponential time of mean sched_ms: over many wake-ups the mean wait
    is sched_ms, and some waits are longer than it, some shorter."""
    env = simpy.Environment()
    machine = Machine(1.0)
    loop = NodeLoop(
        env, CostProfile(cores=1.0, sched_ms=2.0), machine=machine, rng=random.Random(7)
    )
    machine.finish(0.0, 1000.0)  # far more work than the core does in a while
    assert machine.wait_chance(0.0) == 1.0
    waits = [loop.wake(0.0) for _ in range(4000)]
    assert sum(waits) / len(waits) == pytest.approx(2.0, rel=0.08)
    assert min(waits) < 0.5 < 5.0 < max(waits)


def _room_burst(profile: CostProfile, seed: int = 0) -> dict[str, float]:
    """Two nodes on one core, broadcasts to a room on the other node 5 ms apart."""
    sim = Cluster(nodes=2, adapter="redis", costs=profile, seed=seed)
    for i in range(20):
        sim.connect(f"c{i}", node="n2", rooms=["r"])
    sim.run()
    for k in range(200):
        sim.env.run(until=sim.env.now + 5.0)
        sim.io("n1").to("r").emit("tick", k)
    sim.run()
    return {f"{r['msg']} {r['client']}": r["t"] for r in sim.trace.records("deliver")}


BUSY = dict(emit_ms=0.5, write_ms=0.1, message_ms=0.5, cores=1.0, flush_ms=0.0)


def test_waits_only_delay_deliveries_and_only_with_sched_ms() -> None:
    """With ``sched_ms`` 0 the run is the same as without the entry; with it, no
    delivery is earlier, some are later, and the same seed gives the same times."""
    plain = _room_burst(CostProfile(**BUSY))
    assert _room_burst(CostProfile(**BUSY, sched_ms=0.0)) == plain
    waiting = _room_burst(CostProfile(**BUSY, sched_ms=1.0))
    assert waiting.keys() == plain.keys()
    assert all(waiting[k] >= plain[k] - 1e-9 for k in plain)
    assert sum(waiting[k] > plain[k] + 1e-9 for k in plain) > 0
    assert _room_burst(CostProfile(**BUSY, sched_ms=1.0)) == waiting


def test_without_cores_sched_ms_changes_nothing() -> None:
    """``sched_ms`` is one of the shared cores' entries: a profile without ``cores``
    (each node with a core of its own) never waits for one."""
    alone = {k: v for k, v in BUSY.items() if k != "cores"}
    assert _room_burst(CostProfile(**alone, sched_ms=3.0)) == _room_burst(CostProfile(**alone))


def test_sched_ms_widens_the_tail_not_the_median_of_a_light_load() -> None:
    """Rooms of ten at 150 emits per second per node on two shared cores: the
    cores are a few percent busy, so few wake-ups wait; p50 stays, p99 grows."""
    rooms = tuple(f"x{k}" for k in range(15))
    clients = [(i % 3, [rooms[i % 15]]) for i in range(150)]
    load = Load("random", 150, 200, rooms=rooms, seconds=1.0)
    profile = {"emit_ms": 0.16, "write_ms": 0.014, "message_ms": 0.11, "cores": 2.0}
    profile["receive_ms"] = 0.012
    without = replay(load, clients, 3, profile)
    with_waits = replay(load, clients, 3, {**profile, "sched_ms": 2.0})
    assert with_waits["p50"] == pytest.approx(without["p50"], rel=0.1)
    assert with_waits["p99"] > 1.5 * without["p99"]


def _window_of(load: Load, p95: float, p99: float) -> object:
    """A measured window whose latency histogram has this p95 and p99."""
    from roomsim.real.load import MIN_MS, RATIO, Window

    def bin_of(ms: float) -> int:
        return int(math.log(ms / MIN_MS) / math.log(RATIO))

    hist = {bin_of(0.2): 94, bin_of(p95): 4, bin_of(p99): 2}
    return Window(load, nodes=[], clients=[], redis={}, hist=hist)


def test_calibration_finds_the_sched_ms_that_made_the_tails() -> None:
    """fit_sched recovers the wait that produced a window's tail: windows whose
    p95 and p99 are those roomsim plays with ``sched_ms`` 1.5 are fitted with a
    value near 1.5 (the same load, measured as the harness measures it)."""
    from roomsim.real.calibrate import fit_sched

    rooms = tuple(f"x{k}" for k in range(15))
    clients = [(i % 3, [rooms[i % 15]]) for i in range(150)]
    profile = {"emit_ms": 0.16, "write_ms": 0.014, "message_ms": 0.11, "cores": 2.0}
    load = Load("random", 200, 100, rooms=rooms, seconds=1.0)
    made = replay(load, clients, 3, {**profile, "sched_ms": 1.5})
    window = _window_of(load, made["p95"], made["p99"])
    value, note = fit_sched([window], clients, 3, profile)  # type: ignore[list-item]
    assert 1.0 <= value <= 2.0
    assert "rms log error" in note
