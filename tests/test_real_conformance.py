"""The simulation agrees with the real Socket.IO (marked ``real``).

Each seeded scenario of :func:`roomsim.real.conformance.sequential_scenario`
is played by ``roomsim run`` and by ``roomsim real`` (real Socket.IO 4.8.4,
@socket.io/redis-adapter 8.3.0, a real redis-server, real socket.io-client
clients) and compared as ``roomsim diff`` does.  They need Node.js, the
Node packages (``roomsim real --install``) and redis-server: without them
the tests are skipped, except in CI (``CI=true``), where that is a failure.
``pytest -m "not real"`` leaves them out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from roomsim.real.conformance import (
    agreement,
    fault_scenario,
    sequential_scenario,
    timed_scenario,
)
from roomsim.real.tools import missing
from roomsim.scenario import load_scenario, scenario_from_dict

pytestmark = pytest.mark.real

ROOT = Path(__file__).resolve().parent.parent
#: How many seeded sequential scenarios CI plays (about 2 s each).
SEQUENTIAL_SEEDS = range(40)
#: How many seeded timed scenarios CI plays (about 7 s each).
TIMED_SEEDS = range(20)
#: How many seeded fault scenarios CI plays (about 4 s each).
FAULT_SEEDS = range(10)


@pytest.fixture(scope="module", autouse=True)
def real_thing() -> None:
    """Skip without Node.js, its packages or redis-server; fail instead in CI."""
    lacking = missing("redis")
    if lacking:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the real conformance tests: {lacking}")
        pytest.skip(lacking)


def _roomsim(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "roomsim.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("seed", SEQUENTIAL_SEEDS)
def test_sequential_scenarios_agree(seed: int) -> None:
    """Played one step at a time, a seeded scenario gives the same outcome on
    both: who got what, errors, ack/fetch/server-side results, and every
    client's connections and disconnections (reason and rooms; a forced
    server close reaches the socket as ``forced close`` and its client
    reconnects)."""
    data = sequential_scenario(seed)
    scenario = scenario_from_dict(data, path=f"seed {seed}")
    assert agreement(scenario) == []


@pytest.mark.parametrize("seed", TIMED_SEEDS)
def test_timed_scenarios_agree(seed: int) -> None:
    """Played at their times with the latencies injected for real, scenarios
    where a join, a leave or a disconnect comes while a room emit is in
    flight have the same outcome: timing is decided as the model says
    (local and remote arrivals, remote nodes picking recipients when the
    broker's copy arrives, the sharded adapter delivering locally after its
    publish returns)."""
    scenario = scenario_from_dict(timed_scenario(seed), path=f"timed seed {seed}")
    assert agreement(scenario, timed=True) == []


@pytest.mark.parametrize("seed", FAULT_SEEDS)
def test_fault_scenarios_agree(seed: int) -> None:
    """With node crashes and restarts (clients reconnecting through the load
    balancer), the broker down and up and partitions, played one step at a
    time, the outcome is the same: what a crashed node's clients miss, where
    they reconnect, what local delivery goes on while Redis is away, and a
    healed partition losing nothing (what it held arrives after the heal)."""
    data = fault_scenario(seed)
    scenario = scenario_from_dict(data, path=f"fault seed {seed}")
    assert agreement(scenario) == []


def test_real_trace_is_a_roomsim_trace(tmp_path: Path) -> None:
    """``roomsim real FILE --trace`` writes a trace ``roomsim diff`` compares
    with the simulated one (exit 0: the quickstart agrees), whose records
    have roomsim's kinds and keys, ``t`` in scenario ms and in order; a trace
    that differs makes ``roomsim diff`` exit 1 and name the message."""
    scenario = ROOT / "examples" / "quickstart.yaml"
    real_trace, sim_trace = tmp_path / "real.jsonl", tmp_path / "sim.jsonl"
    done = _roomsim("real", str(scenario), "--trace", str(real_trace))
    assert done.returncode == 0, done.stderr
    assert _roomsim("run", str(scenario), "--trace", str(sim_trace), "-q").returncode == 0
    records = [json.loads(line) for line in real_trace.read_text().splitlines()]
    times = [r["t"] for r in records]
    assert times == sorted(times)
    emits = {r["msg"]: r for r in records if r["kind"] == "emit"}
    assert emits["m1"]["t"] >= 20 and emits["m1"]["node"] == "n1"
    assert emits["m3"]["from"] == "alice"
    delivered = {(r["msg"], r["client"]) for r in records if r["kind"] == "deliver"}
    assert ("m5", "bob") in delivered and ("m1", "alice") in delivered
    gone = [r for r in records if r["kind"] == "disconnecting"]
    assert [(r["client"], r["reason"], "lobby" in r["rooms"]) for r in gone] == [
        ("bob", "client namespace disconnect", True)
    ]
    same = _roomsim("diff", str(scenario), str(sim_trace), str(real_trace))
    assert same.returncode == 0, same.stdout
    doctored = tmp_path / "doctored.jsonl"
    doctored.write_text(
        "\n".join(
            line
            for line in real_trace.read_text().splitlines()
            if not ('"deliver"' in line and '"m5"' in line)
        )
        + "\n"
    )
    other = _roomsim("diff", str(scenario), str(sim_trace), str(doctored))
    assert other.returncode == 1
    assert "m5 -> bob" in other.stdout


def test_real_trace_feeds_why(tmp_path: Path) -> None:
    """``roomsim why`` explains a delivery from a real trace as from a simulated one."""
    scenario = ROOT / "examples" / "quickstart.yaml"
    real_trace = tmp_path / "real.jsonl"
    assert _roomsim("real", str(scenario), "--trace", str(real_trace), "-q").returncode == 0
    done = _roomsim("why", str(real_trace), "--msg", "m5", "--client", "bob")
    assert done.returncode == 0, done.stderr
    assert "bob" in done.stdout


def test_utilities_and_acks_agree_on_the_example() -> None:
    """The cluster-utilities example (acks with a client that never answers,
    socketsJoin, fetchSockets, serverSideEmit with acks, disconnectSockets on
    the sharded adapter) has the same outcome simulated and real."""
    scenario = load_scenario(ROOT / "examples" / "cluster_utilities.yaml")
    assert agreement(scenario) == []


def test_timed_run_of_the_redis_timing_example_agrees() -> None:
    """``roomsim real --timed --compare`` on the example where remote nodes
    pick recipients when the broker's copy arrives: the real run agrees with
    the simulation (exit 0) and says how late its steps were."""
    done = _roomsim("real", str(ROOT / "examples" / "redis_timing.yaml"), "--timed", "--compare")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "timed, scale 25" in done.stdout
    assert "lateness: at most" in done.stdout
    assert "agree" in done.stdout
