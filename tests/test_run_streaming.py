"""``roomsim run`` computes its summary, checks and latency figures as it goes.

Rule: without ``--out`` no record is held in memory to be read back after
the run (with or without ``--trace``), and the figures are the ones
``roomsim check`` finds in the written trace: the same latency table and the
same verdict, here on a run where a crash loses messages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from roomsim.cli import main
from roomsim.trace import Trace

SCENARIO = """\
name: streamed
cluster: {nodes: [n1, n2], adapter: redis}
latency: {client_ms: 2, adapter_ms: 1}
clients:
  - {name: alice, node: n1, rooms: [lobby]}
  - {name: bob, node: n2, rooms: [lobby]}
  - {name: carol, node: n2, rooms: [lobby, side]}
timeline:
  - {at: 10, emit: {id: hello, from: alice, to: [lobby], event: chat}}
  - {at: 15, crash: {node: n2}}
  - {at: 20, emit: {id: all, from: n1, event: news}}
  - {at: 30, emit: {id: side, from: n1, to: [side], event: chat}}
"""


@pytest.mark.parametrize("check", ["--check", "--no-check"])
@pytest.mark.parametrize("traced", [False, True])
def test_the_run_never_reads_its_records_back(
    tmp_path: Path, monkeypatch, traced: bool, check: str
) -> None:
    """Reading records from the in-memory trace fails the test; the run's
    figures still equal those ``roomsim check`` reads from the trace file
    (with ``--no-check`` the latency table counts deliveries in batches)."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)
    trace_file = tmp_path / "t.jsonl"
    runner = CliRunner()
    first = runner.invoke(main, ["run", str(scenario), "--trace", str(trace_file), "-q"])
    assert first.exit_code == 0, first.output
    from_file = json.loads(runner.invoke(main, ["check", str(trace_file), "--json"]).stdout)

    def refuse(self: Trace):
        raise AssertionError("the run read its records back from memory")

    monkeypatch.setattr(Trace, "__iter__", refuse)
    again = tmp_path / "again.jsonl"
    result = runner.invoke(
        main,
        ["run", str(scenario), "--json", check, *(["--trace", str(again)] if traced else [])],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["delivery"] == from_file["delivery"]
    assert figures["delivery"]["room"]["delivered"] == 2  # bob and carol, before n2 crashed
    if check == "--check":
        assert figures["checks"]["violations"] == from_file["violations"] == []
    if traced:
        assert again.read_bytes() == trace_file.read_bytes()
