"""A group's clients connect in bulk, with the trace they make one by one.

Rule: a group of clients that all connect at ``connect_at`` gives, byte for
byte, the trace of the same clients declared one by one in ``clients``
(each with the node and rooms the group gives it) and the trace of the same
clients connected by hand with ``Cluster.connect`` in index order: the same
socket ids, the same ``connect`` and ``join`` records in the same order, the
same deliveries afterwards.
"""

from __future__ import annotations

from pathlib import Path

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
