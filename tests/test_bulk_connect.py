"""A group's clients connect in bulk, with the trace they make one by one.

Rule: a group of clients that all connect at ``connect_at`` gives, byte for
byte, the trace of the same clients declared one by one in ``clients``
(each with the node and rooms the group gives it) and the trace of the same
clients connected by hand with ``Cluster.connect`` in index order: the same
socket ids, the same ``connect`` and ``join`` records in the same order, the
same deliveries afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roomsim.runner import build_cluster, run_scenario
from roomsim.scenario import scenario_from_dict
from roomsim.trace import Trace

GROUP = {
    "prefix": "u",
    "count": 60,
    "assign": "random",
    "connect_at": 5,
    "rooms": {"prefix": "r", "count": 7, "per_client": [1, 3]},
}
TIMELINE = [
    {"at": 10, "emit": {"id": "a", "from": "n1", "to": ["r1", "r2"], "event": "news"}},
    {"at": 11, "emit": {"id": "b", "from": "n3", "event": "all"}},
]


def _base(**parts: object) -> dict:
    return {
        "seed": 4,
        "cluster": {"nodes": 3, "adapter": "redis"},
        "latency": {"client_ms": 2, "adapter_ms": {"uniform": [1, 3]}},
        "timeline": TIMELINE,
        **parts,
    }


def _trace(scenario, tmp_path: Path, name: str, connect_by_hand=None) -> bytes:
    path = tmp_path / f"{name}.jsonl"
    trace = Trace(path, keep=False)
    if connect_by_hand is None:
        run_scenario(scenario, trace=trace)
    else:
        cluster = build_cluster(scenario, trace=trace)
        cluster.env.run(until=5)
        connect_by_hand(cluster)
        cluster.run()
    trace.close()
    return path.read_bytes()


def test_a_group_connects_as_its_clients_one_by_one(tmp_path: Path) -> None:
    grouped = scenario_from_dict(_base(groups=[GROUP]))
    specs = grouped.all_clients()
    declared = scenario_from_dict(
        _base(
            clients=[
                {"name": c.name, "node": c.node, "rooms": list(c.rooms), "connect_at": 5}
                for c in specs
            ]
        )
    )
    bare = scenario_from_dict(_base())

    def by_hand(cluster) -> None:
        for c in specs:
            cluster.connect(c.name, c.node, rooms=c.rooms)

    bulk = _trace(grouped, tmp_path, "bulk")
    assert bulk.count(b'"kind":"connect"') == 60
    assert bulk.count(b'"kind":"deliver"') > 60  # every client had the broadcast
    assert bulk == _trace(declared, tmp_path, "declared")
    assert bulk == _trace(bare, tmp_path, "by-hand", by_hand)


def _one_by_one(monkeypatch) -> None:
    """Switch the bulk path off: every client goes through ``Cluster.connect``."""
    from roomsim.cluster import Cluster

    monkeypatch.setattr(Cluster, "connect_many", lambda self, entries, start=0: start)


CASES = {
    "memory": {"nodes": 1, "adapter": "memory"},
    "redis": {"nodes": 3, "adapter": "redis"},
    "sharded-dynamic": {"nodes": 3, "adapter": "sharded-redis"},
    "sharded-static": {"nodes": 3, "adapter": "sharded-redis", "subscription_mode": "static"},
    "sharded-private": {
        "nodes": 3,
        "adapter": "sharded-redis",
        "subscription_mode": "dynamic-private",
    },
}


#: a cost profile whose loops share one core and wait for it: the connections'
#: and joins' charges decide when every later delivery leaves
COSTS = {
    "connect_ms": 0.05,
    "join_ms": 0.02,
    "emit_ms": 0.2,
    "write_ms": 0.05,
    "message_ms": 0.1,
    "cores": 1,
    "sched_ms": 0.5,
    "flush_ms": 0,
}


#: the same on loops with a core each: the bulk path charges each loop's
#: connections and joins in one pass
OWN_CORES = {k: v for k, v in COSTS.items() if k not in ("cores", "sched_ms")}


@pytest.mark.parametrize("chunk", [None, 7], ids=["one-batch", "batches-of-7"])
@pytest.mark.parametrize("costs", [None, COSTS, OWN_CORES], ids=["ideal", "costs", "own-cores"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_bulk_path_gives_the_one_by_one_trace_on_every_adapter(
    tmp_path: Path, monkeypatch, case: str, costs: dict | None, chunk: int | None
) -> None:
    """Rule: connecting a group's clients in bulk gives, byte for byte, the
    trace of connecting them one by one: with several namespaces (a group in
    ``/chat`` joins rooms whose names clash with the other namespace's), a
    declared client among them, a room emit per namespace, a crash that makes
    clients reconnect (their reconnection options are the group's), and a
    group that connects later to the node that restarted.  With a cost
    profile the loops are charged each connection and its joins in the same
    order, so every delivery leaves at the same time and the loops end as
    busy as one by one.  The same when a group connects in several batches."""
    if chunk is not None:
        import roomsim.runner

        monkeypatch.setattr(roomsim.runner, "BULK_CHUNK", chunk)
    nodes = CASES[case]["nodes"]
    last = f"n{nodes}"
    data = {
        "seed": 9,
        "cluster": CASES[case],
        "latency": {"client_ms": 2, "adapter_ms": {"uniform": [1, 3]}},
        "clients": [{"name": "solo", "node": "n1", "rooms": ["r1", "solo-room"]}],
        "groups": [
            {
                "prefix": "u",
                "count": 40,
                "assign": "random",
                "rooms": {"prefix": "r", "count": 5, "per_client": [0, 3]},
            },
            {
                "prefix": "c",
                "count": 30,
                "namespace": "/chat",
                "assign": "block",
                "rooms": {"prefix": "r", "count": 4, "per_client": 2, "pick": "block"},
            },
            {
                "prefix": "late",
                "count": 12,
                "connect_at": 40,
                "nodes": [last],
                "rooms": {"prefix": "r", "count": 5, "per_client": 1},
            },
        ],
        "timeline": [
            {"at": 10, "emit": {"id": "a", "from": "n1", "to": ["r1", "r2"], "event": "news"}},
            {
                "at": 11,
                "emit": {
                    "id": "b",
                    "from": last,
                    "namespace": "/chat",
                    "to": ["r2"],
                    "event": "chat",
                },
            },
            {"at": 12, "emit": {"id": "c", "from": "u3", "event": "all"}},
            {"at": 20, "crash": {"node": last}},
            {"at": 30, "restart": {"node": last}},
            {"at": 45, "emit": {"id": "d", "from": "n1", "to": ["r3"], "event": "news"}},
        ],
        "until": 8000,
    }
    if costs is not None:
        data["costs"] = costs
    bulk = _trace(scenario_from_dict(data), tmp_path, "bulk")
    with monkeypatch.context() as patch:
        _one_by_one(patch)
        plain = _trace(scenario_from_dict(data), tmp_path, "plain")
    assert bulk.count(b'"kind":"connect"') >= 83  # and the reconnections
    connected = {
        json.loads(line)["client"] for line in bulk.splitlines() if b'"kind":"connect"' in line
    }
    assert connected == {c.name for c in scenario_from_dict(data).all_clients()}
    assert b'"namespace":"/chat"' in bulk and b'"client":"late1"' in bulk
    assert bulk.count(b'"kind":"deliver"') > 10
    assert bulk == plain
    if costs is not None:  # the loops were charged the same work, in the same order
        from roomsim.loop import load_figures

        busy = load_figures(run_scenario(scenario_from_dict(data)))
        with monkeypatch.context() as patch:
            _one_by_one(patch)
            assert load_figures(run_scenario(scenario_from_dict(data))) == busy
        assert all(f["busy_by_kind"]["join"] > 0 for f in busy["nodes"].values())


def test_a_bulk_trace_in_memory_holds_the_records_of_its_file(tmp_path: Path) -> None:
    """Rule: the records a bulk connection keeps in memory (one batch) are,
    one by one and in order, the lines it writes, and the counts are theirs."""
    import json

    scenario = scenario_from_dict(_base(groups=[GROUP]))
    path = tmp_path / "t.jsonl"
    trace = Trace(path)
    run_scenario(scenario, trace=trace)
    trace.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert list(trace) == lines
    assert trace.tally.kinds["connect"] == 60 == len(trace.tally.clients)
    assert trace.tally.kinds["join"] == sum(1 for r in lines if r["kind"] == "join")
    assert sum(trace.tally.clients_by_node.values()) == 60


def test_a_client_the_bulk_path_cannot_take_connects_in_its_turn(
    tmp_path: Path, monkeypatch
) -> None:
    """Rule: a client with link settings of its own, or one on a node that is
    down, is connected (or refused, with an error record) one by one in its
    turn between bulk runs: the trace is the one-by-one trace."""
    data = _base(
        clients=[
            {"name": "a", "node": "n1", "rooms": ["r1"], "connect_at": 5},
            {"name": "slow", "node": "n1", "rooms": ["r1"], "latency_ms": 7, "connect_at": 5},
            {"name": "b", "node": "n2", "rooms": ["r2"], "connect_at": 5},
        ],
        groups=[GROUP],
    )
    data["timeline"] = [{"at": 1, "crash": {"node": "n2"}}, *TIMELINE]
    bulk = _trace(scenario_from_dict(data), tmp_path, "bulk")
    with monkeypatch.context() as patch:
        _one_by_one(patch)
        plain = _trace(scenario_from_dict(data), tmp_path, "plain")
    assert b'"kind":"error"' in bulk
    assert bulk == plain
