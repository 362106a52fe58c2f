"""Copies a node throws away are recorded as one batch, with the records it
would make one by one.

Rule (the classic Redis adapter): every node subscribed to the namespace's
pattern gets a copy of every broadcast; a node with no socket in the room
(``socket.io#/#room#``) throws it away, and says so with a ``relay`` record
(``targets`` 0, ``ignored`` "unknown room"); the nodes record in the order
they subscribed, those with sockets in the room delivering in their turn.
Handing a run of such copies over in one call changes nothing in the trace,
in the tally or in what each node delivers, whether the trace is a JSON
Lines file, Parquet, kept in memory or fed to a checker.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roomsim.adapters.redis import RedisAdapter
from roomsim.runner import run_scenario
from roomsim.scenario import scenario_from_dict
from roomsim.trace import Trace


def _scenario(**cluster: object) -> dict:
    return {
        "seed": 3,
        "cluster": {"nodes": 6, "adapter": "redis", **cluster},
        "clients": [
            {"name": "ann", "node": "n2", "rooms": ["r1"]},
            {"name": "bob", "node": "n5", "rooms": ["r1", "r2"]},
            {"name": "cyd", "node": "n3", "rooms": ["r2"]},
        ],
        "timeline": [
            {"at": 10, "emit": {"id": "m1", "from": "n1", "to": "r1", "event": "e"}},
            {"at": 20, "emit": {"id": "m2", "from": "n5", "to": "r2", "event": "e"}},
            {"at": 25, "crash": {"node": "n4"}},
            {"at": 30, "emit": {"id": "m3", "from": "n6", "to": "r1", "event": "e"}},
            {"at": 40, "emit": {"id": "m4", "from": "n2", "event": "all"}},
        ],
    }


def _one_by_one(channel, message, subs) -> None:
    for sub in subs:
        sub.listener(channel, message)


def _run(tmp_path: Path, name: str, scenario: dict, *, keep: bool = False) -> tuple[bytes, Trace]:
    path = tmp_path / name
    trace = Trace(path, keep=keep)
    run_scenario(scenario_from_dict(scenario), trace=trace)
    trace.close()
    return path.read_bytes(), trace


def test_nodes_without_the_room_record_unknown_room_in_subscription_order(tmp_path: Path) -> None:
    """m1 to r1 from n1: n2 and n5 deliver (ann, bob); n1, n3, n4, n6 lack r1
    and each records one ignored relay; the relays come n1..n6 in that order."""
    data, _ = _run(tmp_path, "t.jsonl", _scenario())
    records = [json.loads(line) for line in data.decode().splitlines()]
    relays = [(r["node"], r["targets"], r.get("ignored")) for r in records
              if r["kind"] == "relay" and r["msg"] == "m1"]  # fmt: skip
    assert relays == [
        ("n1", 0, "unknown room"),
        ("n2", 1, None),
        ("n3", 0, "unknown room"),
        ("n4", 0, "unknown room"),
        ("n5", 1, None),
        ("n6", 0, "unknown room"),
    ]
    got = {(r["msg"], r["client"]) for r in records if r["kind"] == "deliver"}
    assert ("m1", "ann") in got and ("m1", "bob") in got and ("m1", "cyd") not in got
    # n4 crashed before m3: its subscription ended, so it has no copy to throw away
    m3 = [r["node"] for r in records if r["kind"] == "relay" and r["msg"] == "m3"]
    assert m3 == ["n1", "n2", "n3", "n5", "n6"]


@pytest.mark.parametrize("name", ["t.jsonl", "t.parquet"])
def test_the_batch_makes_the_trace_of_one_copy_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The same scenario, copies handed over one at a time instead: the same
    file byte for byte and the same tally (relays and discards per node)."""
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    batched, trace = _run(tmp_path, "a-" + name, _scenario())
    monkeypatch.setattr(RedisAdapter, "on_copies", staticmethod(_one_by_one))
    single, alone = _run(tmp_path, "b-" + name, _scenario())
    if name.endswith(".jsonl"):
        assert batched == single
    else:
        import pandas as pd

        from roomsim import read_trace

        pd.testing.assert_frame_equal(
            read_trace(tmp_path / ("a-" + name)), read_trace(tmp_path / ("b-" + name))
        )
    assert trace.tally.relays_by_node == alone.tally.relays_by_node
    assert trace.tally.discarded_by_node == alone.tally.discarded_by_node
    assert trace.tally.kinds == alone.tally.kinds
    assert trace.tally.discarded_by_node["n3"] == 2  # m1 and m3 (r1); m2 reaches cyd


def test_kept_records_and_costs_take_the_one_by_one_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept trace (for pictures) and a run with costs (each copy costs its node
    time) record the same relays as copies handed over one at a time."""
    for scenario in (_scenario(), {**_scenario(), "costs": "default"}):
        _, kept = _run(tmp_path, "k.jsonl", scenario, keep=True)
        with monkeypatch.context() as patch:
            patch.setattr(RedisAdapter, "on_copies", staticmethod(_one_by_one))
            _, alone = _run(tmp_path, "l.jsonl", scenario, keep=True)
        assert kept.records("relay") == alone.records("relay")
        assert len(kept.records("relay")) >= 4 * 6 - 6  # every live node, every broadcast


def test_the_checker_takes_the_batch_as_the_records_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A checker fed the batch finds what it finds fed the records one by one:
    nothing here (every targeted socket delivered); and a batch stamped before
    the record above it is flagged as a record out of time order."""
    from roomsim.analysis.check import Checker

    def check(batched: bool) -> list:
        checker = Checker(True)
        trace = Trace(keep=False, sinks=[checker])
        with monkeypatch.context() as patch:
            if not batched:
                patch.setattr(RedisAdapter, "on_copies", staticmethod(_one_by_one))
            run_scenario(scenario_from_dict(_scenario()), trace=trace)
        return [v.as_dict() for v in checker.finish()]

    assert check(True) == check(False) == []
    checker = Checker(False)
    checker.add({"t": 5, "kind": "connect", "client": "a", "node": "n1", "sid": "s1"})
    checker.add_relays(4, "m9", ["n2", "n3"], "socket.io#/#r#", "unknown room")
    assert [v.as_dict()["rule"] for v in checker.finish()] == ["time", "time"]
