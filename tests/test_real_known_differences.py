"""Each difference the real Socket.IO showed, played on both (marked ``real``).

For every rule below the simulation's own outcome is asserted (the rule,
stated in the docstring), and the same scenario played by ``roomsim real``
(Socket.IO 4.8.4, @socket.io/redis-adapter 8.3.0, node-redis 4.7, a real
redis-server) must agree with it as ``roomsim diff`` compares them.  The
rules were measured on the real thing first (docs/real.md, "Measured
agreement"); tests/test_real_differences.py has the simulation-only tests.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from roomsim.real.conformance import agreement
from roomsim.real.tools import missing
from roomsim.runner import run_scenario
from roomsim.scenario import Scenario, load_scenario, parse_scenario

pytestmark = pytest.mark.real

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module", autouse=True)
def real_thing() -> None:
    """Skip without Node.js, its packages or redis-server; fail instead in CI."""
    lacking = missing("redis")
    if lacking:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the real conformance tests: {lacking}")
        pytest.skip(lacking)


def scenario(text: str) -> Scenario:
    return parse_scenario(textwrap.dedent(text))


def outcomes(sc: Scenario) -> dict[tuple[str, str], str]:
    """``(msg, client) -> "deliver"`` or the drop's reason, in the simulation."""
    sim = run_scenario(sc)
    out: dict[tuple[str, str], str] = {}
    for r in sim.trace:
        if r["kind"] == "deliver" or (r["kind"] == "drop" and "client" in r):
            out[(r["msg"], r["client"])] = "deliver" if r["kind"] == "deliver" else r["reason"]
    return out


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_a_namespace_used_only_by_the_server_exists_on_every_node(adapter: str) -> None:
    """Every node runs the same application, so a namespace named only by a
    server-side step exists on every node: a ``local`` emit with ack there
    still waits for every node's count of answers and times out."""
    sc = scenario(
        f"""
        cluster: {{nodes: [n1, n2], adapter: {adapter}}}
        clients: [{{name: a, node: n1}}]
        timeline:
          - at: 10
            emit: {{id: m1, from: n1, namespace: /x, local: true, ack: true, timeout: 200}}
        """
    )
    results = [r for r in run_scenario(sc).trace if r["kind"] == "ack_result"]
    assert results and all(r.get("error") for r in results), results
    assert agreement(sc) == []


def test_a_forced_server_close_is_forced_close_and_the_client_comes_back() -> None:
    """``forced server close`` (``client.close()``) closes the transport first:
    the socket's reason is ``forced close``; the client sees its transport
    close, reconnects, and gets what is emitted afterwards."""
    sc = scenario(
        """
        cluster: {nodes: [n1, n2], adapter: redis}
        clients:
          - {name: a, node: n1, reconnection_delay: 50, reconnection_delay_max: 50,
             randomization_factor: 0}
          - {name: b, node: n2}
        timeline:
          - {at: 10, disconnect: {client: a, reason: forced server close}}
          - {at: 500, emit: {id: m1, from: n2}}
        """
    )
    sim = run_scenario(sc)
    reasons = [r["reason"] for r in sim.trace if r["kind"] == "disconnect" and r["client"] == "a"]
    assert reasons == ["forced close"]
    assert outcomes(sc)[("m1", "a")] == "deliver"
    assert agreement(sc) == []


def test_a_sharded_subscription_counts_one_hop_after_the_join() -> None:
    """With ``sharded-redis`` a room's SSUBSCRIBE is in place when it reaches
    Redis, half of ``adapter_ms`` after the join: the example's late joiner
    gets the broadcast emitted after that, played at its times on both."""
    sc = load_scenario(EXAMPLES / "sharded_loss_window.yaml")
    assert agreement(sc, timed=True) == []


@pytest.mark.parametrize("adapter", ["redis", "sharded-redis"])
def test_a_healed_partition_delivers_what_it_held(adapter: str) -> None:
    """A partition healed within TCP's patience loses nothing: the broker's
    copy held on its way to the cut node arrives after the heal."""
    sc = scenario(
        f"""
        cluster: {{nodes: [n1, n2], adapter: {adapter}}}
        clients:
          - {{name: a, node: n1, rooms: [r]}}
          - {{name: b, node: n2, rooms: [r]}}
        timeline:
          - {{at: 10, partition: {{node: n2, direction: from-broker}}}}
          - {{at: 20, emit: {{id: m1, from: n1, to: [r]}}}}
          - {{at: 30, heal: {{node: n2}}}}
        """
    )
    assert outcomes(sc)[("m1", "b")] == "deliver"
    assert agreement(sc) == []


def test_a_publish_while_redis_is_down_waits_for_the_reconnection() -> None:
    """A publish made while Redis is down waits in node-redis's offline queue
    and goes out when the node reconnects; with ``sharded-redis`` even the
    emitting node's own member gets it only then (whether the other node had
    re-subscribed first is a race, which ``roomsim diff`` accepts either way)."""
    sc = scenario(
        """
        cluster: {nodes: [n1, n2], adapter: sharded-redis}
        clients:
          - {name: a, node: n1, rooms: [r]}
          - {name: b, node: n2, rooms: [r]}
        timeline:
          - {at: 10, broker: down}
          - {at: 20, emit: {id: m1, from: n1, to: [r]}}
          - {at: 30, broker: up}
        """
    )
    sim = run_scenario(sc)
    got = [r["t"] for r in sim.trace if r["kind"] == "deliver" and r["client"] == "a"]
    assert got and got[0] >= 30, "local delivery waits for Redis (up at t=30), not t=20"
    assert agreement(sc) == []
