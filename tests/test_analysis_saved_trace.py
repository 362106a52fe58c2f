"""Every picture's data can be recomputed from a saved trace file alone, without matplotlib."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from roomsim.analysis import (
    broker_traffic,
    delivery_frames,
    delivery_graph,
    explain,
    latency_cdf,
    membership_graph,
    node_load,
    spacetime,
)
from roomsim.analysis.history import History
from roomsim.runner import run_scenario
from roomsim.scenario import load_scenario
from roomsim.trace import Trace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def as_data(G: nx.Graph) -> tuple[Any, ...]:
    """A graph as plain data: its attributes, nodes and edges (in order)."""
    return G.graph, list(G.nodes(data=True)), list(G.edges(data=True))


def everything(trace: Any) -> dict[str, Any]:
    """Every picture's data and every answer of a run."""
    records = list(trace)
    msgs = list(dict.fromkeys(r["msg"] for r in records if r.get("msg")))
    end = records[-1]["t"]
    graphs = {}
    for msg in msgs:
        if any(r.get("msg") == msg and r["kind"] in ("emit", "client_emit") for r in records):
            graphs[msg] = as_data(delivery_graph(records, msg))
    return {
        "delivery": graphs,
        "membership": [as_data(membership_graph(records, t)) for t in (0, end / 2, end)],
        "timeline": spacetime(records),
        "timeline m": [spacetime(records, msg=m) for m in msgs],
        "latency": latency_cdf(records),
        "broker": broker_traffic(records),
        "load": node_load(records),
        "frames": delivery_frames(records),
        "why": [explain(records, m, c) for m in msgs for c in History(records).clients],
    }


@pytest.mark.parametrize(
    "name", ["quickstart.yaml", "disconnection.yaml", "sharded_loss_window.yaml"]
)
def test_a_saved_trace_gives_the_same_pictures(name: str, tmp_path: Path) -> None:
    """Run, save the trace (streamed as ``run --trace`` does, and written afterwards), load
    it back: every graph, table and explanation is equal to the one from memory."""
    scenario = load_scenario(EXAMPLES / name)
    streamed = tmp_path / "streamed.jsonl"
    live = Trace(streamed)
    run_scenario(scenario, trace=live)
    live.close()
    in_memory = everything(live)
    written = tmp_path / "written.jsonl"
    live.write_jsonl(written)
    for path in (streamed, written):
        assert everything(Trace.read_jsonl(path)) == in_memory


def test_analysis_does_not_import_matplotlib() -> None:
    """``import roomsim.analysis`` and computing every graph and table needs no matplotlib."""
    code = f"""
import sys
import roomsim.analysis as a
from roomsim.runner import run_scenario
from roomsim.scenario import load_scenario
import roomsim.draw_commands
trace = run_scenario(load_scenario({str(EXAMPLES / "quickstart.yaml")!r})).trace
a.delivery_graph(trace, "m4"); a.membership_graph(trace, 50); a.spacetime(trace)
a.latency_cdf(trace); a.broker_traffic(trace); a.node_load(trace); a.delivery_frames(trace)
a.why_not(trace, "m3", "bob")
import roomsim.drawing.layout
roomsim.drawing.layout.cluster_layout(a.delivery_graph(trace, "m4"))
print("matplotlib" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
