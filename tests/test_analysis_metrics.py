"""Data for the metrics plots and the animation: latency per kind of emit, broker traffic,
load per node, and frames bounded by time bins."""

from __future__ import annotations

from roomsim.analysis import (
    EMIT_KINDS,
    broker_traffic,
    delivery_frames,
    delivery_latencies,
    emit_kind,
    latency_cdf,
    node_load,
)
from roomsim.runner import run_scenario
from roomsim.scenario import parse_scenario
from roomsim.trace import Trace

SCENARIO = """
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 5, adapter_ms: 2}
clients:
  - {name: alice, node: n1, rooms: [lobby]}
  - {name: bob, node: n2, rooms: [lobby]}
  - {name: carol, node: n2}
timeline:
  - {at: 10, emit: {id: room, from: n1, to: [lobby], event: chat}}
  - {at: 20, emit: {id: all, from: n2, event: news}}
  - {at: 30, emit: {id: pm, from: alice, to: [carol], event: private message}}
  - {at: 40, emit: {id: here, from: n1, to: [lobby], local: true, event: news}}
"""


def run(text: str) -> Trace:
    return run_scenario(parse_scenario(text)).trace


def test_emit_kinds_from_the_emit_record() -> None:
    """No ``to``: broadcast; ``to`` of socket ids only: private; else room."""
    trace = run(SCENARIO)
    sids = {r["sid"] for r in trace.records("connect")}
    kinds = {r["msg"]: emit_kind(r, sids) for r in trace.records("emit")}
    assert kinds == {"room": "room", "all": "broadcast", "pm": "private", "here": "room"}


def test_latency_is_client_ms_locally_and_adds_adapter_ms_remotely() -> None:
    """Zero queueing: a local delivery takes client_ms (5), a remote one adds adapter_ms (2)."""
    latencies = delivery_latencies(run(SCENARIO))
    assert list(latencies) == list(EMIT_KINDS)
    assert latencies == {"room": [5, 5, 7], "broadcast": [5, 5, 7], "private": [7]}


def test_latency_cdf_steps_to_one() -> None:
    """The CDF of each kind rises by 1/n per delivery and ends at 1; empty kinds are empty."""
    cdf = latency_cdf(run(SCENARIO))
    assert cdf["room"] == ([5, 5, 7], [1 / 3, 2 / 3, 1.0])
    assert cdf["private"] == ([7], [1.0])
    empty = latency_cdf(run("cluster: {nodes: [n1]}\nclients: [{name: a, node: n1}]\n"))
    assert empty == {kind: ([], []) for kind in EMIT_KINDS}


def test_broker_traffic_per_bin() -> None:
    """The classic Redis adapter publishes every non-local broadcast once and hands a copy
    to every node (its own included), 1 ms later."""
    traffic = broker_traffic(run(SCENARIO), bin_ms=10)
    assert traffic.bin_ms == 10
    assert traffic.starts_ms == [0, 10, 20, 30, 40]
    assert traffic.published == [0, 1, 1, 1, 0]
    assert traffic.relayed == [0, 2, 2, 2, 0]
    # n1's own copy of room, n2's own copy of all, n1's copy of pm (no such room on n1)
    assert traffic.discarded == [0, 1, 1, 1, 0]


def test_broker_traffic_window_and_default_bins() -> None:
    """A window keeps only its records; the default bin is round and gives at most 50 bins."""
    trace = run(SCENARIO)
    assert broker_traffic(trace, start=15, end=25, bin_ms=5).published == [0, 1]
    default = broker_traffic(trace)
    assert default.bin_ms == 1 and len(default.starts_ms) <= 50


def test_node_load() -> None:
    """Deliveries per node, copies the broker handed it, and those it threw away."""
    assert node_load(run(SCENARIO)) == {
        "n1": {"deliveries": 3, "relays": 3, "discarded": 2},
        "n2": {"deliveries": 4, "relays": 3, "discarded": 1},
    }


def test_frames_are_bounded_and_count_every_delivery() -> None:
    """At most max_frames frames of a round width; every delivery is in one of them."""
    clients = "\n".join(f"  - {{name: c{i}, node: n{1 + i % 2}, rooms: [r]}}" for i in range(40))
    emits = "\n".join(
        f"  - {{at: {10 * i}, emit: {{id: e{i}, from: n1, to: [r], event: x}}}}"
        for i in range(1, 200)
    )
    trace = run(
        f"""
cluster: {{nodes: [n1, n2], adapter: redis}}
latency: {{client_ms: 5, adapter_ms: 2}}
clients:
{clients}
timeline:
{emits}
"""
    )
    frames = delivery_frames(trace)
    assert 1 <= len(frames) <= 60
    assert frames.edges_ms[0] == 0 and frames.edges_ms[-1] >= 1997
    assert sum(sum(f.values()) for f in frames.delivered) == len(trace.records("deliver"))
    assert frames.nodes == ["n1", "n2"] and frames.broker
    assert frames.clients["c1"] == "n2"
    short = delivery_frames(trace, max_frames=5, start=10, end=20)
    assert short.edges_ms == [10, 12, 14, 16, 18, 20]
    assert sum(short.delivered[2].values()) == 20  # e1 to n1's 20 clients, at 15
