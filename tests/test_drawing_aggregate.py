"""Pictures at any size: beyond 200 clients they draw aggregates, and say so.

The rules (each checked on the matplotlib artists against the trace):

* up to 200 clients the outcome grid has a row per client; beyond, it is
  one bar per room whose delivered and dropped lengths are the trace's
  deliveries and drops of the messages sent to that room, and its title says
  "aggregate view" and how many clients;
* the run's timeline beyond 200 clients is a heat map whose cells hold the
  deliveries of each node in each time bin (rows sum to the node's
  deliveries), with a cross in every bin where clients lost messages;
* a delivery graph with more than 40 recipients draws one group per node
  and fate, whose numbers add up to the recipients;
* ``roomsim draw`` on a 20,000-client trace draws the aggregates, and a
  ``--client``, ``--node`` or ``--room`` slice draws the detail of that slice.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import matplotlib
import pytest

matplotlib.use("Agg")

from click.testing import CliRunner
from matplotlib.figure import Figure

from roomsim import analysis, drawing
from roomsim.analysis.aggregate import activity, group_clients
from roomsim.cli import main
from roomsim.drawing.aggregate import draw_activity
from roomsim.generate import generate_scenario
from roomsim.runner import run_scenario
from roomsim.scenario import scenario_from_dict
from roomsim.trace import Trace


def _run(clients: int, **options: Any) -> Trace:
    data = generate_scenario(clients=clients, nodes=3, rooms=6, room_emits=8, **options)
    return run_scenario(scenario_from_dict(data), progress=False).trace


@pytest.fixture(scope="module")
def big() -> Trace:
    return _run(300)


def _by_gid(ax: Any, gid: str) -> list[Any]:
    return [a for a in ax.get_children() if a.get_gid() == gid]


def _room_counts(records: list[dict[str, Any]]) -> tuple[Counter[str], Counter[str]]:
    """Deliveries and client drops per room of the emit (broadcasts under '(everyone)')."""
    target: dict[str, str] = {}
    delivered: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for rec in records:
        if rec["kind"] == "emit":
            target[rec["msg"]] = "+".join(rec["to"]) if rec["to"] else "(everyone)"
        elif rec["kind"] == "deliver":
            delivered[target[rec["msg"]]] += 1
        elif rec["kind"] == "drop" and "client" in rec:
            dropped[target[rec["msg"]]] += 1
    return delivered, dropped


def test_up_to_200_clients_the_outcome_grid_has_a_row_per_client() -> None:
    """150 clients: the detailed grid, one row per client, one dot per delivery."""
    trace = _run(150)
    ax = drawing.draw_outcomes(trace, ax=Figure().subplots())
    assert len(ax.get_yticklabels()) == 150
    dots = _by_gid(ax, "outcome:delivered")
    assert len(dots[0].get_offsets()) == len(trace.deliveries())
    assert "aggregate" not in ax.get_title()


def test_beyond_200_clients_the_outcome_picture_counts_per_room(big: Trace) -> None:
    """300 clients: one bar per room, as long as its deliveries and drops."""
    records = list(big)
    ax = drawing.draw_outcomes(big, ax=Figure().subplots())
    assert "aggregate view: 300 clients (more than 200)" in ax.get_title()
    delivered, dropped = _room_counts(records)
    labels = [t.get_text().split(" (")[0] for t in ax.get_yticklabels()]
    bars = [p.get_width() for p in _by_gid(ax, "aggregate:delivered")]
    drops = [p.get_width() for p in _by_gid(ax, "aggregate:dropped")]
    assert dict(zip(labels, bars, strict=True)) == {k: delivered[k] for k in labels}
    assert dict(zip(labels, drops, strict=True)) == {k: dropped[k] for k in labels}
    assert sum(bars) == len(records) - sum(r["kind"] != "deliver" for r in records)


def test_beyond_200_clients_the_timeline_is_a_heat_map_per_node(big: Trace) -> None:
    """Each heat-map row sums to its node's deliveries; the whole to all of them."""
    ax = draw_activity(activity(big), ax=Figure().subplots())
    [image] = _by_gid(ax, "aggregate:delivered")
    cells = image.get_array().filled(0)
    nodes = [t.get_text() for t in ax.get_yticklabels()]
    per_node = Counter(r["node"] for r in big if r["kind"] == "deliver")
    assert {n: int(row.sum()) for n, row in zip(nodes, cells, strict=True)} == per_node
    assert "aggregate view: 300 clients" in ax.get_title()


def test_the_heat_map_marks_every_bin_with_drops() -> None:
    """A drop at t=9 on n2 puts a cross in n2's last bin, and nowhere else."""
    records = [
        {"t": 0, "kind": "connect", "client": "a", "node": "n1", "sid": "s1"},
        {"t": 0, "kind": "connect", "client": "b", "node": "n2", "sid": "s2"},
        {"t": 1, "kind": "deliver", "msg": "m1", "client": "a", "node": "n1", "event": "e"},
        {"t": 9, "kind": "drop", "msg": "m2", "client": "b", "node": "n2", "reason": "x"},
    ]
    ax = draw_activity(activity(records, bins=3), ax=Figure().subplots())
    [crosses] = _by_gid(ax, "aggregate:dropped")
    assert crosses.get_offsets().tolist() == [[7.5, 1.0]]


def test_a_delivery_graph_of_many_recipients_groups_them_per_node(big: Trace) -> None:
    """A broadcast to 300 clients on 3 nodes: one group per node, 300 in all."""
    msg = next(r["msg"] for r in big if r["kind"] == "emit" and not r["to"])
    G = analysis.delivery_graph(big, msg)
    H = group_clients(G)
    groups = {k: d for k, d in H.nodes(data=True) if d.get("group")}
    assert sorted(d["node"] for d in groups.values()) == ["n1", "n2", "n3"]
    assert sum(d["group"] for d in groups.values()) == 300
    ax = drawing.draw_delivery_graph(G, ax=Figure().subplots())
    assert "300 recipients (more than 40) grouped per node" in ax.get_title()
    texts = [t.get_text() for t in ax.texts]
    for d in groups.values():
        assert any(t.startswith(d["name"]) for t in texts), d["name"]


@pytest.mark.slow
def test_the_overview_draws_aggregates_and_shows_progress(
    tmp_path: Path, big: Trace, capsys
) -> None:
    """``save_overview`` of a 300-client run writes its five pictures and,
    asked to, a progress bar that counts them."""
    written = drawing.save_overview(big, tmp_path, progress=True)
    assert [p.name for p in written] == list(drawing.overview.OVERVIEW_FILES)
    assert all(p.stat().st_size > 1000 for p in written)
    assert "pictures: 100%" in capsys.readouterr().err


@pytest.fixture()
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every figure ``roomsim draw`` saves, kept for reading its artists."""
    saved: list[Any] = []

    def keep(fig: Any, path: Any, dpi: int = 120) -> Path:
        saved.append(fig)
        return Path(path)

    monkeypatch.setattr(drawing.output, "save_figure", keep)
    monkeypatch.setattr(drawing, "save_figure", keep)
    return saved


def _draw(*args: str) -> Any:
    result = CliRunner().invoke(main, ["draw", *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.slow
def test_draw_slices_a_run_by_node_and_client(tmp_path: Path, big: Trace, figures) -> None:
    """``--node n2`` keeps the clients of n2 (a row each); ``--client`` one lane."""
    path = tmp_path / "t.jsonl"
    big.write_jsonl(path)
    _draw(str(path), "--kind", "outcomes", "--node", "n2", "--out", str(tmp_path / "o.png"))
    ax = figures[-1].axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == [r["client"] for r in big if r["kind"] == "connect" and r["node"] == "n2"]
    who = rows[0]
    _draw(str(path), "--kind", "timeline", "--client", who, "--out", str(tmp_path / "c.png"))
    ax = figures[-1].axes[0]
    lanes = [t.get_text() for t in ax.get_yticklabels()]
    assert who in lanes and not any(x in lanes for x in rows[1:])
    assert "aggregate" not in ax.get_title()


def test_a_wrong_view_is_refused_in_one_line(tmp_path: Path) -> None:
    """``--view all``: exit 2 and one line naming the choices."""
    result = CliRunner().invoke(
        main, ["draw", "x.jsonl", "--kind", "outcomes", "--view", "all", "--out", "x.png"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        "roomsim: draw: --view 'all': expected one of auto, detail, aggregate"
    )


@pytest.mark.slow
def test_draw_on_a_20000_client_trace_draws_aggregates(tmp_path: Path, figures) -> None:
    """``roomsim draw`` of a 20,000-client trace: the timeline is the per-node
    heat map and the outcomes the per-room bars, each holding every delivery;
    ``--room`` draws that room's members only."""
    data = generate_scenario(clients=20_000, nodes=4, rooms=40, room_emits=20)
    scenario = tmp_path / "big.json"
    scenario.write_text(json.dumps(data))
    path = tmp_path / "big.jsonl"
    trace = run_scenario(scenario_from_dict(data), progress=False).trace
    trace.write_jsonl(path)
    deliveries = trace.tally.kinds["deliver"]
    _draw(str(path), "--kind", "timeline", "--out", str(tmp_path / "t.png"))
    ax = figures[-1].axes[0]
    [image] = _by_gid(ax, "aggregate:delivered")
    assert int(image.get_array().filled(0).sum()) == deliveries
    assert re.search(r"aggregate view: 20,000 clients", ax.get_title())
    _draw(str(path), "--kind", "outcomes", "--out", str(tmp_path / "o.png"))
    ax = figures[-1].axes[0]
    assert sum(p.get_width() for p in _by_gid(ax, "aggregate:delivered")) == deliveries
    room = next(r["to"][0] for r in trace if r["kind"] == "emit" and r["to"])
    members = {r["client"] for r in trace if r["kind"] == "join" and r["room"] == room}
    _draw(str(path), "--kind", "outcomes", "--room", room, "--out", str(tmp_path / "r.png"))
    ax = figures[-1].axes[0]
    if len(members) <= 200:
        assert {t.get_text() for t in ax.get_yticklabels()} == members
    else:
        labels = [t.get_text().split(" (")[0] for t in ax.get_yticklabels()]
        assert labels[0] == room and "aggregate view" in ax.get_title()


def test_a_delivery_graph_of_many_nodes_groups_them_per_fate() -> None:
    """30 nodes: the emitting node stays, the 29 others are gathered per fate
    (relayed, ignored ...), their sizes adding up to 29; each group's members
    are the nodes the trace gives that fate."""
    data = generate_scenario(clients=250, nodes=30, rooms=6, room_emits=4)
    trace = run_scenario(scenario_from_dict(data), progress=False).trace
    msg = next(r["msg"] for r in trace if r["kind"] == "emit" and r["to"])
    G = analysis.delivery_graph(trace, msg)
    ax = drawing.draw_delivery_graph(G, ax=Figure().subplots())
    assert "29 nodes (more than 16) grouped per fate" in ax.get_title()
    from roomsim.analysis.aggregate import group_nodes

    H = group_nodes(G)
    groups = [d for _, d in H.nodes(data=True) if d["kind"] == "node" and d.get("group")]
    assert sum(d["group"] for d in groups) == 29
    relays = {r["node"]: r for r in trace if r["kind"] == "relay" and r["msg"] == msg}
    for d in groups:
        for name in d["members"]:
            rec = relays[name]
            fate = "ignored" if rec.get("ignored") else "relayed" if rec["targets"] else "discarded"
            assert fate == d["fate"], (name, d["name"])
