"""What the pictures show: the artists on the Axes, read back, against the run they draw.

A picture test that only checks a PNG exists passes for a blank canvas.
These read the matplotlib ``Axes`` a drawer returns (markers, arrows,
texts, image cells and their colours) and compare them with what the trace
says, so a dropped edge, a missing label or a wrong colour fails.

The rules:

* a delivery graph draws one marker per graph node, coloured by the node's
  fate, one arrow per hop, the name of every server node inside it and a
  label for every client; every hop between server nodes and the broker
  carries its time; the clients drawn as ``delivered`` are exactly those
  the trace says received the message;
* the load per node shows, for each node, its deliver records, the broker
  copies it received (relay records) and those it threw away;
* broker traffic shows every publish and relay record in some bin;
* the latency CDF has one step line per kind of emit, through every
  delivery, ending at 1;
* the outcome grid has one row per client (in connection order) and one
  column per message (in emit order); a cell is ``delivered`` when the trace
  has that delivery, ``dropped`` when it has a drop for that client,
  otherwise ``not targeted``, and is painted in that outcome's colour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import pytest

matplotlib.use("Agg")

from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from roomsim import analysis, drawing
from roomsim.drawing.colours import FATE_COLOURS
from roomsim.drawing.colours import OUTCOME_COLOURS as COLOURS
from roomsim.runner import run_scenario
from roomsim.scenario import load_scenario
from roomsim.trace import Trace

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def discarded(relay: dict[str, Any]) -> bool:
    """A broker copy the node threw away: ignored, or no local recipient."""
    return bool(relay.get("ignored")) or relay["targets"] == 0


@pytest.fixture(scope="module")
def trace() -> Trace:
    return run_scenario(load_scenario(EXAMPLES / "disconnection.yaml")).trace


@pytest.fixture(scope="module")
def quickstart() -> Trace:
    return run_scenario(load_scenario(EXAMPLES / "quickstart.yaml")).trace


def drawn_markers(ax: Any) -> list[tuple[tuple[float, float], str]]:
    """Every node marker on ``ax``: (position, face colour); not the fates' glyphs."""
    markers = []
    for collection in ax.collections:
        if not isinstance(collection, PathCollection):
            continue
        if (collection.get_gid() or "").startswith("fate:"):
            continue
        colours = [to_hex(c) for c in collection.get_facecolors()]
        offsets = [tuple(map(float, xy)) for xy in collection.get_offsets()]
        if len(colours) == 1:
            colours *= len(offsets)
        markers += list(zip(offsets, colours, strict=True))
    return markers


@pytest.mark.parametrize("msg", ["m1", "m3", "m4", "m5"])
def test_a_delivery_graph_draws_every_node_hop_and_label(quickstart: Trace, msg: str) -> None:
    """One marker per node in its fate's colour, one arrow per hop, every name written."""
    G = analysis.delivery_graph(quickstart, msg)
    ax = drawing.draw_delivery_graph(G, ax=Figure().subplots())
    pos = drawing.cluster_layout(G)

    markers = drawn_markers(ax)
    expected = sorted(
        ((float(pos[k][0]), float(pos[k][1])), FATE_COLOURS[d["fate"]])
        for k, d in G.nodes(data=True)
    )
    assert sorted(markers) == expected

    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == G.number_of_edges()

    texts = [t.get_text() for t in ax.texts]
    for _, data in G.nodes(data=True):
        if data["kind"] == "node":
            assert data["name"] in texts
        elif data["kind"] == "client":
            assert any(t.startswith(data["name"]) for t in texts), data["name"]
    between_servers = [
        d for _, _, d in G.edges(data=True) if d["kind"] in ("publish", "relay", "emit")
    ]
    timed = [t for t in texts if t.split("\n")[0].endswith(" ms") and ":" not in t]
    assert len(timed) == len(between_servers)

    delivered = {
        d["name"]
        for _, d in G.nodes(data=True)
        if d["kind"] == "client" and d["fate"] == "delivered"
    }
    assert delivered == set(quickstart.recipients(msg))
    green = FATE_COLOURS["delivered"]
    client_pos = {
        (float(pos[k][0]), float(pos[k][1])) for k, d in G.nodes(data=True) if d["kind"] == "client"
    }
    assert sum(1 for xy, c in markers if xy in client_pos and c == green) == len(delivered)


def test_the_outcome_grid_has_a_cell_per_client_and_message(trace: Trace) -> None:
    """Rows are clients, columns messages; each cell is painted its pair's outcome."""
    records = list(trace)
    clients = list(dict.fromkeys(r["client"] for r in records if r["kind"] == "connect"))
    msgs = list(dict.fromkeys(r["msg"] for r in records if r["kind"] == "emit"))
    delivered = trace.deliveries()
    dropped = {(r["msg"], r["client"]) for r in records if r["kind"] == "drop" and "client" in r}
    assert dropped, "the example should show a drop"

    def outcome(m: str, c: str) -> str:
        if (m, c) in delivered:
            return "delivered"
        return "dropped" if (m, c) in dropped else "not targeted"

    ax = drawing.draw_outcomes(records, ax=Figure().subplots())
    (image,) = ax.images
    cells = image.get_array()
    assert cells.shape == (len(clients), len(msgs))
    assert [t.get_text() for t in ax.get_yticklabels()] == clients
    assert [t.get_text() for t in ax.get_xticklabels()] == msgs
    painted = image.to_rgba(cells)
    for row, client in enumerate(clients):
        for col, msg in enumerate(msgs):
            colour = to_hex(painted[row][col])
            assert colour == COLOURS[outcome(msg, client)], (msg, client)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["not targeted", "delivered", "dropped"]


def test_the_membership_picture_draws_every_socket_and_room(quickstart: Trace) -> None:
    """A marker per graph node (server nodes, sockets, rooms), one line per membership,
    and every name written."""
    G = analysis.membership_graph(quickstart, 55)
    ax = drawing.draw_membership(G, ax=Figure().subplots())
    assert len(drawn_markers(ax)) == G.number_of_nodes()
    members = [e for e in G.edges(data="kind") if e[2] == "member"]
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert members and sum(len(c.get_segments()) for c in lines) == len(members)
    texts = " ".join(t.get_text() for t in ax.texts)
    for _, data in G.nodes(data=True):
        assert data["name"] in texts, data["name"]


def test_the_load_per_node_shows_each_nodes_counts(quickstart: Trace) -> None:
    """Three bars per node: deliveries, broker copies received, copies discarded."""
    records = list(quickstart)
    nodes = list(dict.fromkeys(r["node"] for r in records if r["kind"] == "connect"))
    count = {
        "deliveries": lambda n: sum(r["kind"] == "deliver" and r["node"] == n for r in records),
        "relays": lambda n: sum(r["kind"] == "relay" and r["node"] == n for r in records),
        "discarded": lambda n: sum(
            r["kind"] == "relay" and r["node"] == n and discarded(r) for r in records
        ),
    }
    ax = drawing.draw_node_load(analysis.node_load(quickstart), ax=Figure().subplots())
    assert [t.get_text() for t in ax.get_xticklabels()] == nodes
    drawn = {c.get_label(): [b.get_height() for b in c] for c in ax.containers}
    assert drawn == {
        "deliveries": [count["deliveries"](n) for n in nodes],
        "broker copies received": [count["relays"](n) for n in nodes],
        "copies discarded": [count["discarded"](n) for n in nodes],
    }
    assert sum(drawn["copies discarded"]) > 0  # the example has something to show


def test_broker_traffic_shows_every_message(quickstart: Trace) -> None:
    """The published bars add up to the publish records, the relayed ones to the relays,
    the thrown-away ones to the discarded relays."""
    records = list(quickstart)
    ax = drawing.draw_broker_traffic(analysis.broker_traffic(quickstart), ax=Figure().subplots())
    total = {c.get_label(): sum(b.get_height() for b in c) for c in ax.containers}
    assert total == {
        "published (node to broker)": sum(r["kind"] == "publish" for r in records),
        "relayed (broker to node)": sum(r["kind"] == "relay" for r in records),
        "relayed, thrown away": sum(r["kind"] == "relay" and discarded(r) for r in records),
    }


def test_the_latency_cdf_steps_through_every_delivery(quickstart: Trace) -> None:
    """Each line starts at 0, rises at each delivery's latency (emit to deliver) and ends
    at 1; together they hold every delivery of a server-side emit."""
    records = list(quickstart)
    emitted = {r["msg"]: r["t"] for r in records if r["kind"] == "emit"}
    latencies = sorted(
        r["t"] - emitted[r["msg"]]
        for r in records
        if r["kind"] == "deliver" and r["msg"] in emitted
    )
    ax = drawing.draw_latency_cdf(analysis.latency_cdf(quickstart), ax=Figure().subplots())
    drawn = []
    for line in ax.lines:
        xs, ys = list(line.get_xdata()), list(line.get_ydata())
        assert ys[0] == 0 and ys[-1] == 1 and ys == sorted(ys)
        drawn += xs[1:]
    assert sorted(drawn) == latencies
