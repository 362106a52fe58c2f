"""The command line: ``roomsim run`` and ``roomsim validate`` as a user meets them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from roomsim.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SMALL = """\
name: small
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 2, adapter_ms: 1}
clients:
  - {name: alice, node: n1, rooms: [lobby]}
  - {name: bob, node: n2, rooms: [lobby]}
timeline:
  - {at: 10, emit: {id: hello, from: alice, to: [lobby], event: chat}}
  - {at: 20, emit: {id: all, from: n2, event: news}}
  - {at: 30, join: {client: zed-not-yet, rooms: [x]}}
"""


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_run_prints_a_summary_per_node(tmp_path: Path) -> None:
    """``run`` prints the scenario's name, its counts, and a line per node."""
    scenario = tmp_path / "small.yaml"
    scenario.write_text(
        SMALL.replace("  - {at: 30, join: {client: zed-not-yet, rooms: [x]}}\n", "")
    )
    result = invoke("run", str(scenario))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("small: 2 nodes (redis adapter)")
    # hello reaches bob only (the sender is left out); all reaches both
    assert "messages emitted: 2   deliveries: 3   drops: 0   errors: 0" in lines[1]
    rows = {line.split()[0]: line.split()[1:] for line in lines[3:5]}
    assert rows["n1"][:3] == ["1", "1", "1"]  # connects, emits, deliveries
    assert rows["n2"][:3] == ["1", "1", "2"]


def test_run_writes_the_trace_and_pictures(tmp_path: Path) -> None:
    """``--trace`` writes JSON Lines in time order; ``--out`` writes PNG pictures."""
    trace = tmp_path / "t.jsonl"
    out = tmp_path / "pics"
    result = invoke(
        "run", str(EXAMPLES / "quickstart.yaml"), "--trace", str(trace), "--out", str(out), "-q"
    )
    assert result.exit_code == 0, result.output
    assert result.output == ""
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    times = [r["t"] for r in records]
    assert times == sorted(times)
    assert {r["kind"] for r in records} >= {"connect", "join", "leave", "emit", "deliver"}
    for name in ("outcomes.png", "nodes.png", "timeline.png", "latency.png", "delivery.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000


def test_seed_option_overrides_the_file(tmp_path: Path) -> None:
    """``--seed`` changes the socket ids (and only what depends on the seed)."""
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert invoke("run", str(EXAMPLES / "quickstart.yaml"), "--trace", str(a), "-q").exit_code == 0
    assert (
        invoke("run", str(EXAMPLES / "quickstart.yaml"), "--trace", str(b), "--seed", "8", "-q")
    ).exit_code == 0
    sids = [[json.loads(x).get("sid") for x in p.read_text().splitlines()] for p in (a, b)]
    assert sids[0] != sids[1]


def test_step_that_cannot_happen_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    """A step whose client is not connected is an ``error`` record; the run goes on."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        SMALL.replace("zed-not-yet", "bob").replace(
            "timeline:\n", "timeline:\n  - {at: 25, disconnect: {client: bob}}\n"
        )
    )
    trace = tmp_path / "t.jsonl"
    result = invoke("run", str(scenario), "--trace", str(trace))
    assert result.exit_code == 0, result.output
    assert "error at t=30 ms, timeline[3] (join): client 'bob' is not connected" in result.output
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    errors = [r for r in records if r["kind"] == "error"]
    assert errors == [
        {
            "t": 30,
            "kind": "error",
            "step": "timeline[3]",
            "action": "join",
            "message": "client 'bob' is not connected",
        }
    ]


@pytest.mark.parametrize(
    ("text", "expected", "errors"),
    [
        (
            SMALL.replace("rooms: [lobby]}\n  - {name: bob", "room: [lobby]}\n  - {name: bob"),
            ":5: clients[0].room: unknown key 'room'",
            2,  # and SMALL's own unknown client 'zed-not-yet'
        ),
        (SMALL.replace("{client: zed-not-yet", "{client: zed"), ":10: timeline[2].join.client", 1),
        (SMALL.replace("at: 20", "at: -1"), ":9: timeline[1].at", 2),
        ("cluster: {nodes: [n1, n2]\n", "", 1),
        ("", "empty", 1),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, text: str, expected: str, errors: int
) -> None:
    """Bad input: one line per error naming file, line and key, in line order,
    then a count when there are several; exit 2; no trace file.

    In process (click's runner keeps stdout and stderr apart); the exit is a
    ``SystemExit``, never another exception.
    """
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text)
    trace = tmp_path / "t.jsonl"
    result = CliRunner().invoke(main, ["run", str(scenario), "--trace", str(trace)])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert all(line.startswith(f"roomsim: {scenario}") for line in lines[:errors]), lines
    assert expected in lines[0]
    assert lines[errors:] == ([f"roomsim: found {errors} errors"] if errors > 1 else [])
    assert list(tmp_path.iterdir()) == [scenario]


def test_bad_input_in_a_real_process(tmp_path: Path) -> None:
    """The same as a separate process: one line on stderr, no traceback, exit 2, no trace."""
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(SMALL.replace("at: 20", "at: -1").replace("zed-not-yet", "bob"))
    trace = tmp_path / "t.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "roomsim.cli", "run", str(scenario), "--trace", str(trace)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert str(scenario) in proc.stderr and ":9: timeline[1].at" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == [scenario]


def test_missing_file_and_unwritable_trace(tmp_path: Path) -> None:
    """A missing scenario, or a trace under a file: one line, exit 2; a missing
    directory for the trace is made."""
    result = invoke("run", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "nope.yaml" in result.output and "not found" in result.output
    (tmp_path / "file").write_text("")
    result = invoke(
        "run", str(EXAMPLES / "quickstart.yaml"), "--trace", str(tmp_path / "file" / "t.jsonl")
    )
    assert result.exit_code == 2
    assert "cannot write the trace" in result.output
    result = invoke(
        "run", str(EXAMPLES / "quickstart.yaml"), "--trace", str(tmp_path / "x" / "t.jsonl"), "-q"
    )
    assert result.exit_code == 0 and (tmp_path / "x" / "t.jsonl").exists()


def test_validate_checks_without_running(tmp_path: Path) -> None:
    """``validate`` says ok for a good file and gives the one-line error for a bad one."""
    result = invoke("validate", str(EXAMPLES / "quickstart.yaml"))
    assert result.exit_code == 0
    assert "ok (3 nodes, 3 clients, 10 steps)" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"cluster": {"nodes": 2}, "clients": [{"name": "a", "node": "n9"}]}')
    result = invoke("validate", str(bad))
    assert result.exit_code == 2
    assert "clients[0].node" in result.output and "n9" in result.output
