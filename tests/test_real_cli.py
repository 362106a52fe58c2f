"""``roomsim real`` and ``roomsim diff`` at the command line, without Node.js.

These need neither Node.js nor Redis: what ``roomsim real`` says when they
are missing, what it refuses to play, and how ``roomsim diff`` compares two
traces (socket ids normalised, drops and non-deliveries alike).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart.yaml"


def _roomsim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "PYTHONPATH": str(ROOT)}
    base.pop("ROOMSIM_NODE", None)
    base.pop("ROOMSIM_REDIS_SERVER", None)
    return subprocess.run(
        [sys.executable, "-m", "roomsim.cli", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=ROOT,
        check=False,
    )


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_without_node_and_redis_real_says_what_is_missing(tmp_path: Path) -> None:
    """With neither ``node`` nor ``redis-server`` on PATH, ``roomsim real``
    prints one line naming both, exits 2 and writes no trace."""
    out = tmp_path / "t.jsonl"
    done = _roomsim("real", str(QUICKSTART), "--trace", str(out), env={"PATH": str(tmp_path)})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Node.js" in lines[0] and "redis-server" in lines[0]
    assert not out.exists()


def test_real_refuses_a_key_it_cannot_play(tmp_path: Path) -> None:
    """Packet loss cannot be made to happen on the real network: one line
    naming the key, exit 2 (before looking for Node.js)."""
    scenario = tmp_path / "lossy.yaml"
    scenario.write_text(
        "cluster: {nodes: [n1]}\nclients:\n  - {name: a, node: n1, loss: 0.5}\ntimeline: []\n"
    )
    done = _roomsim("real", str(scenario), env={"PATH": str(tmp_path)})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"roomsim: {scenario}: clients[0].loss: the real network loses no packet on demand"
    ]


def test_real_refuses_a_reason_it_cannot_cause(tmp_path: Path) -> None:
    """A ``ping timeout`` cannot be caused on demand: the step's key is named."""
    scenario = tmp_path / "ping.yaml"
    scenario.write_text(
        "cluster: {nodes: [n1]}\nclients: [{name: a, node: n1}]\n"
        "timeline:\n  - {at: 5, disconnect: {client: a, reason: ping timeout}}\n"
    )
    done = _roomsim("real", str(scenario))
    assert done.returncode == 2
    assert "timeline[0].disconnect.reason: 'ping timeout'" in done.stderr


CONNECT = {"t": 0, "kind": "connect", "client": "bob", "node": "n1", "namespace": "/"}


def test_diff_normalises_socket_ids_and_agrees(tmp_path: Path) -> None:
    """Two traces that differ only in socket ids and times agree (exit 0):
    bob's own room in ``disconnecting`` is his id in each trace."""
    a = _write(
        tmp_path / "a.jsonl",
        [
            {**CONNECT, "sid": "AAA"},
            {"t": 5, "kind": "deliver", "msg": "m1", "client": "bob", "node": "n1", "event": "x"},
            {
                "t": 9,
                "kind": "disconnecting",
                "client": "bob",
                "node": "n1",
                "sid": "AAA",
                "reason": "transport close",
                "rooms": ["AAA", "lobby"],
            },
        ],
    )
    b = _write(
        tmp_path / "b.jsonl",
        [
            {**CONNECT, "sid": "ZZZ"},
            {"t": 1.5, "kind": "deliver", "msg": "m1", "client": "bob", "node": "n1", "event": "x"},
            {
                "t": 9.2,
                "kind": "disconnecting",
                "client": "bob",
                "node": "n1",
                "sid": "ZZZ",
                "reason": "transport close",
                "rooms": ["lobby", "ZZZ"],
            },
        ],
    )
    done = _roomsim("diff", str(QUICKSTART), str(a), str(b))
    assert done.returncode == 0, done.stdout
    assert "agree" in done.stdout


def test_diff_names_each_difference(tmp_path: Path) -> None:
    """A delivery only one trace has (the other dropped it, and says why), a
    different disconnect reason and a different ack result are each one
    line, and the exit status is 1."""
    a = _write(
        tmp_path / "sim.jsonl",
        [
            {**CONNECT, "sid": "AAA"},
            {"t": 9, "kind": "drop", "msg": "m2", "client": "bob", "reason": "not subscribed"},
            {
                "t": 20,
                "kind": "ack_result",
                "msg": "m3",
                "node": "n1",
                "error": None,
                "responses": ["bob"],
            },
            {
                "t": 30,
                "kind": "disconnect",
                "client": "bob",
                "node": "n1",
                "sid": "AAA",
                "reason": "forced server close",
                "rooms": [],
            },
        ],
    )
    b = _write(
        tmp_path / "real.jsonl",
        [
            {**CONNECT, "sid": "ZZZ"},
            {"t": 6, "kind": "deliver", "msg": "m2", "client": "bob", "node": "n1", "event": "x"},
            {
                "t": 20,
                "kind": "ack_result",
                "msg": "m3",
                "node": "n1",
                "error": "operation has timed out",
                "responses": [],
            },
            {
                "t": 30,
                "kind": "disconnect",
                "client": "bob",
                "node": "n1",
                "sid": "ZZZ",
                "reason": "forced close",
                "rooms": [],
            },
        ],
    )
    done = _roomsim("diff", str(QUICKSTART), str(a), str(b))
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert lines[0] == f"3 difference(s) between {a} and {b}:"
    assert lines[1] == (
        "deliveries: m2 -> bob: real.jsonl delivered it, sim.jsonl did not (drop: not subscribed)"
    )
    assert lines[2] == (
        "ack_result m3: sim.jsonl on n1: ok [bob], real.jsonl on n1: 'operation has timed out' []"
    )
    assert "'forced server close'" in lines[3] and "'forced close'" in lines[3]


def test_diff_refuses_a_file_that_is_not_a_trace(tmp_path: Path) -> None:
    """A trace file that is not JSON Lines: one line with the file and line, exit 2."""
    good = _write(tmp_path / "good.jsonl", [{**CONNECT, "sid": "AAA"}])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t": 0, "kind": "connect"}\nnot json\n')
    done = _roomsim("diff", str(QUICKSTART), str(good), str(bad))
    assert done.returncode == 2
    assert done.stderr.strip() == f"roomsim: {bad}:2: not a trace line (JSON expected)"


@pytest.mark.slow
def test_diff_accepts_either_outcome_of_a_race(tmp_path: Path) -> None:
    """A broadcast emitted on n1 while the broker is down reaches another
    node's client or not depending on which nodes re-subscribed first (a
    race on the real thing): either is accepted and shown; a difference for
    a client of the emitting node is still a difference (exit 1)."""
    common = [
        {**CONNECT, "sid": "AAA", "node": "n2"},
        {"t": 0, "kind": "connect", "client": "ann", "node": "n1", "sid": "BBB"},
        {"t": 10, "kind": "broker", "state": "down"},
        {"t": 20, "kind": "emit", "msg": "m1", "node": "n1", "event": "x", "from": "n1"},
    ]
    bob_got_it = {
        "t": 40,
        "kind": "deliver",
        "msg": "m1",
        "client": "bob",
        "node": "n2",
        "event": "x",
    }
    ann_got_it = {
        "t": 21,
        "kind": "deliver",
        "msg": "m1",
        "client": "ann",
        "node": "n1",
        "event": "x",
    }
    sim = _write(tmp_path / "sim.jsonl", [*common, ann_got_it])
    real = _write(tmp_path / "real.jsonl", [*common, ann_got_it, bob_got_it])
    done = _roomsim("diff", str(QUICKSTART), str(sim), str(real))
    assert done.returncode == 0, done.stdout
    assert "accepted, a race: deliveries: m1 -> bob" in done.stdout
    lonely = _write(tmp_path / "lonely.jsonl", [*common, bob_got_it])
    done = _roomsim("diff", str(QUICKSTART), str(real), str(lonely))
    assert done.returncode == 1
    assert "m1 -> ann" in done.stdout
