"""Parquet traces: ``--trace OUT.parquet`` holds the same records, keys and
order as JSON Lines, and every command that reads a trace reads both."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pq = pytest.importorskip("pyarrow.parquet")
pd = pytest.importorskip("pandas")

import roomsim  # noqa: E402
from roomsim import trace_parquet  # noqa: E402
from roomsim.analysis.jsonl import TraceReader  # noqa: E402
from roomsim.generate import generate_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "roomsim" / "examples"


def _roomsim(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "roomsim.cli", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _run(scenario: Path, out: Path) -> None:
    from roomsim.cli import main

    with pytest.raises(SystemExit) as done:
        main(["run", str(scenario), "--trace", str(out), "-q"], standalone_mode=True)
    assert done.value.code in (0, None, 1)


@pytest.mark.parametrize("name", ["failures", "disconnection", "user_devices"])
def test_a_parquet_trace_holds_the_json_lines_records_record_for_record(
    tmp_path: Path, name: str
) -> None:
    """The same scenario and seed traced to .jsonl and to .parquet give the
    same records, with the same keys in the same order, in the same order."""
    _run(EXAMPLES / f"{name}.yaml", tmp_path / "t.jsonl")
    _run(EXAMPLES / f"{name}.yaml", tmp_path / "t.parquet")
    lines = list(TraceReader(tmp_path / "t.jsonl"))
    rows = list(TraceReader(tmp_path / "t.parquet"))
    assert lines and rows == lines
    assert [list(r) for r in rows] == [list(r) for r in lines]


@pytest.mark.slow
def test_a_large_trace_is_streamed_in_row_groups_and_reads_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trace longer than a row group is written as several row groups (a
    broadcast's deliveries split across them) and reads back equal to JSON Lines;
    the same run twice gives the same Parquet content."""
    monkeypatch.setattr(trace_parquet, "ROW_GROUP", 500)
    scenario = tmp_path / "big.json"
    scenario.write_text(json.dumps(generate_scenario(clients=1500, nodes=3, rooms=5, room_emits=4)))
    for out in ("t.jsonl", "a.parquet", "b.parquet"):
        _run(scenario, tmp_path / out)
    lines = list(TraceReader(tmp_path / "t.jsonl"))
    assert len(lines) > 3000
    file = pq.ParquetFile(tmp_path / "a.parquet")
    assert file.num_row_groups == -(-len(lines) // 500)
    assert list(TraceReader(tmp_path / "a.parquet")) == lines
    assert pq.read_table(tmp_path / "a.parquet").equals(pq.read_table(tmp_path / "b.parquet"))


def test_odd_values_and_unknown_keys_survive_the_round_trip(tmp_path: Path) -> None:
    """A value that does not fit its column (``from`` null, a number as a
    room) and a key no column has come back as they were, keys in order."""
    trace = roomsim.Trace(tmp_path / "t.parquet")
    records = [
        {"t": 0, "kind": "connect", "client": "a", "node": "n1", "sid": "s1", "namespace": "/"},
        {"t": 1.5, "kind": "emit", "msg": "m1", "node": "n1", "event": "e", "from": None,
         "to": ["r"], "except": [], "local": True},
        {"t": 2, "kind": "join", "client": "a", "node": "n1", "room": 7},
        {"t": 3, "kind": "relay", "msg": "m1", "node": "n1", "channel": "c", "targets": 0,
         "ignored": "own message", "bytes": 120, "nested": {"x": [1, 2]}},
        {"t": 4, "kind": "error", "step": 3, "action": "emit", "message": "ünïcode"},
    ]  # fmt: skip
    for rec in records:
        trace.record(
            rec["t"], rec["kind"], **{k: v for k, v in rec.items() if k not in ("t", "kind")}
        )
    trace.add_deliveries(5, "m1", "n1", "e", ["a", "b"])
    trace.close()
    back = list(TraceReader(tmp_path / "t.parquet"))
    assert back[:5] == records and [list(r) for r in back[:5]] == [list(r) for r in records]
    assert [(r["client"], r["t"]) for r in back[5:]] == [("a", 5), ("b", 5)]


def test_read_trace_gives_the_same_frame_for_either_format(tmp_path: Path) -> None:
    """``roomsim.read_trace`` returns one row per record and one column per
    key, the same for the JSON Lines and the Parquet trace of a run."""
    _run(EXAMPLES / "failures.yaml", tmp_path / "t.jsonl")
    _run(EXAMPLES / "failures.yaml", tmp_path / "t.parquet")
    lines = roomsim.read_trace(tmp_path / "t.jsonl")
    rows = roomsim.read_trace(tmp_path / "t.parquet")
    records = list(TraceReader(tmp_path / "t.jsonl"))
    assert len(rows) == len(records)
    assert set(rows.columns) == {k for r in records for k in r}
    pd.testing.assert_frame_equal(rows, lines, check_like=True)
    delivered = rows[rows.kind == "deliver"]
    assert sorted(zip(delivered.msg, delivered.client, strict=True)) == sorted(
        (r["msg"], r["client"]) for r in records if r["kind"] == "deliver"
    )


@pytest.mark.slow
def test_draw_why_and_check_read_a_parquet_trace(tmp_path: Path) -> None:
    """``roomsim check``, ``why`` and ``draw`` say the same of a Parquet trace
    as of the JSON Lines trace of the same run."""
    for out in ("t.jsonl", "t.parquet"):
        _run(EXAMPLES / "quickstart.yaml", tmp_path / out)
    said = {}
    for suffix in ("jsonl", "parquet"):
        trace = tmp_path / f"t.{suffix}"
        check = _roomsim("check", trace, cwd=tmp_path)
        why = _roomsim("why", trace, "--msg", "m1", "--client", "alice", cwd=tmp_path)
        draw = _roomsim("draw", trace, "--kind", "load", "--out", f"{suffix}.png", cwd=tmp_path)
        assert draw.returncode == 0, draw.stderr
        assert (tmp_path / f"{suffix}.png").stat().st_size > 1000
        said[suffix] = (check.returncode, check.stdout, why.returncode, why.stdout)
    assert said["parquet"] == said["jsonl"]
    assert said["jsonl"][0] == 0 and "alice" in said["jsonl"][3]


@pytest.mark.slow
def test_a_file_that_is_not_parquet_is_refused_in_one_line(tmp_path: Path) -> None:
    """A .parquet file that is not Parquet: exit 2, one line naming the file."""
    bad = tmp_path / "bad.parquet"
    bad.write_text('{"t":0,"kind":"connect"}\n')
    for args in (("check", bad), ("why", bad, "--msg", "m1", "--client", "a")):
        done = _roomsim(*args, cwd=tmp_path)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and str(bad) in lines[0] and "Parquet" in lines[0], done.stderr
