"""Drawing one message's way (:func:`~roomsim.analysis.delivery_graph`) on the cluster layout."""

from __future__ import annotations

from typing import Any

import networkx as nx

from roomsim.analysis.aggregate import GROUP_CLIENTS, GROUP_NODES, group_clients, group_nodes
from roomsim.analysis.graph import FATES
from roomsim.analysis.records import round_ms
from roomsim.drawing.colours import FATE_COLOURS, FATE_LINESTYLES, FATE_MARKERS
from roomsim.drawing.layout import cluster_layout
from roomsim.drawing.output import new_axes

__all__ = ["delivery_figsize", "draw_delivery_graph"]

_SHAPES = {"client": "o", "node": "s", "broker": "D"}
#: Edges drawn curved (a node's own copy comes back from the broker) and straight.
_CURVED = ("publish", "relay")
_STRAIGHT = ("emit", "client_emit", "deliver", "drop")
#: More edges than this (of one style) are drawn as plain lines, without arrow heads.
_MOST_ARROWS = 300
#: Hops whose time is written at the client rather than on the edge.
_AT_CLIENT = ("deliver", "drop")


def delivery_figsize(G: nx.DiGraph) -> tuple[float, float]:
    """A figure size that fits the graph's cluster layout (clients grouped as drawn)."""
    pos = cluster_layout(group_clients(group_nodes(G)))
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]
    return (
        min(24.0, max(7.0, 2.2 * (max(xs) - min(xs)) + 4.0)),
        min(18.0, max(4.5, 1.3 * (max(ys) - min(ys)) + 2.5)),
    )


def _label(key: Any, data: dict[str, Any]) -> str:
    name = str(data.get("name", key[-1]))
    if data.get("kind") == "broker":
        return f"broker\n{name}"
    return name


def _edge_label(data: dict[str, Any]) -> str:
    t = data["t_ms"]
    text = f"{round_ms(t)} ms" if t is not None else "(not recorded)"
    if data.get("reason"):
        text += f"\n{data['reason']}"
    return text


def _client_label(data: dict[str, Any]) -> str:
    if data.get("group"):
        first, last = data.get("t_ms"), data.get("last_ms")
        if first is None or last is None:
            return str(data["name"])
        span = (
            f"{round_ms(first)} ms" if first == last else f"{round_ms(first)}-{round_ms(last)} ms"
        )
        why = f"\n({data['reason']})" if data.get("reason") else ""
        return f"{data['name']}: {span}{why}"
    fate, t = data["fate"], round_ms(data["t_ms"])
    if fate == "delivered":
        return f"{data['name']}: {t} ms"
    if fate == "dropped":
        return f"{data['name']}: dropped {t} ms\n({data.get('reason')})"
    return f"{data['name']} ({fate})"


def _ink(colour: str) -> str:
    """White on a dark fill, near-black on a light one."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else "#222222"


def _draw_glyphs(G: nx.DiGraph, pos: dict[Any, Any], size: float, ax: Any) -> None:
    """A glyph for each graph node's fate (gid ``fate:<fate>``): a cue without colour.

    On a client, in its middle (white on a dark fill); beside a server node
    or the broker, at its upper right corner (their names are inside).
    """
    from matplotlib.transforms import offset_copy

    beside = offset_copy(ax.transData, fig=ax.figure, x=17, y=17, units="points")
    groups: dict[tuple[str, bool], list[Any]] = {}
    for key, data in G.nodes(data=True):
        if FATE_MARKERS.get(data["fate"]):
            groups.setdefault((data["fate"], data["kind"] == "client"), []).append(key)
    for (fate, on_client), keys in groups.items():
        marker = FATE_MARKERS[fate]
        filled = marker not in ("+", "_", "x", "|")
        colour = FATE_COLOURS.get(fate, "#777777")
        ax.scatter(
            [pos[k][0] for k in keys],
            [pos[k][1] for k in keys],
            s=size * 0.3 if on_client else 110,
            marker=marker,
            c=_ink(colour) if on_client else (colour if filled else "#222222"),
            edgecolors=("none" if on_client else "#222222") if filled else None,
            linewidths=1.6 if not filled else 0.8,
            zorder=3,
            transform=ax.transData if on_client else beside,
            gid=f"fate:{fate}",
        )


def draw_delivery_graph(G: nx.DiGraph, ax: Any = None, *, labels: bool | None = None) -> Any:
    """Draw a delivery graph: nodes in columns, clients under their node, the broker above.

    Graph nodes and edges are coloured by ``fate`` (a legend says which),
    and each fate has a second cue that needs no colour: a glyph on every
    client and node (a dot delivered, a cross dropped, a dash discarded, ...;
    :data:`~roomsim.drawing.colours.FATE_MARKERS`), and a line style on
    every hop (dashed dropped, dotted ignored, dash-dot discarded).  Every hop
    carries its time (a delivery's is written beside its client).

    Parameters
    ----------
    G : networkx.DiGraph
        From :func:`~roomsim.analysis.delivery_graph`.
    ax : matplotlib Axes, optional
        Where to draw (default: a new pyplot figure).
    labels : bool, optional
        Name every client (default: when there are at most 40).

    Beyond :data:`~roomsim.analysis.aggregate.GROUP_CLIENTS` recipients, the
    clients of each node are drawn as one group per fate
    (:func:`~roomsim.analysis.aggregate.group_clients`), labelled with their
    number and times; beyond :data:`~roomsim.analysis.aggregate.GROUP_NODES`
    server nodes, the nodes are grouped per fate first
    (:func:`~roomsim.analysis.aggregate.group_nodes`).  The title says so.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from roomsim.analysis import delivery_graph
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "emit", msg="m1", node="n1", event="e", to=[], **{"except": []})
    >>> trace.add_deliveries(5, "m1", "n1", "e", ["alice"])
    >>> ax = draw_delivery_graph(delivery_graph(trace, "m1"), ax=Figure().subplots())
    >>> ax.get_title()
    'm1 ("e") from n1: broadcast, emitted at t=0 ms'
    """
    from matplotlib.lines import Line2D

    G = group_clients(group_nodes(G))
    ax = new_axes(delivery_figsize(G), ax)
    pos = cluster_layout(G)
    clients = [k for k, d in G.nodes(data=True) if d["kind"] == "client"]
    if labels is None:
        labels = len(clients) <= 40
    size = 500 if len(clients) <= 40 else max(40, 500 * 40 // len(clients))
    for kind, shape in _SHAPES.items():
        keys = [k for k, d in G.nodes(data=True) if d["kind"] == kind]
        if not keys:
            continue
        nx.draw_networkx_nodes(
            G,
            pos,
            nodelist=keys,
            node_shape=shape,
            node_size=size if kind == "client" else 900,
            node_color=[FATE_COLOURS.get(G.nodes[k]["fate"], "#777777") for k in keys],
            edgecolors="#333333",
            linewidths=0.8,
            ax=ax,
        )
    _draw_glyphs(G, pos, size, ax)
    edges = list(G.edges(data=True))
    for kinds, rad in ((_CURVED, 0.12), (_STRAIGHT, 0.0)):
        for line in ("solid", *sorted(set(FATE_LINESTYLES.values()))):
            chosen = [
                (u, v)
                for u, v, d in edges
                if d["kind"] in kinds and FATE_LINESTYLES.get(d["fate"], "solid") == line
            ]
            if not chosen:
                continue
            style: dict[str, Any] = {
                "edge_color": [FATE_COLOURS.get(G.edges[e]["fate"], "#777777") for e in chosen],
                "style": line,
                "width": 1.6 if len(edges) <= 60 else 0.9,
            }
            if len(chosen) <= _MOST_ARROWS:
                style.update(
                    arrows=True,
                    arrowsize=14 if len(edges) <= 60 else 8,
                    node_size=size if kinds is _STRAIGHT else 900,
                    connectionstyle=f"arc3,rad={rad}",
                )
            else:  # one line collection: fast; the layout shows the direction
                style["arrows"] = False
            drawn = nx.draw_networkx_edges(G, pos, edgelist=chosen, ax=ax, **style)
            for artist in drawn if isinstance(drawn, list) else [drawn]:
                artist.set_gid(f"hops:{line}")
        hops = [(u, v) for u, v, d in edges if d["kind"] in kinds and d["kind"] not in _AT_CLIENT]
        if hops:
            nx.draw_networkx_edge_labels(
                G,
                pos,
                edge_labels={e: _edge_label(G.edges[e]) for e in hops},
                font_size=7,
                connectionstyle=f"arc3,rad={rad}",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
                ax=ax,
            )
    inside = {
        k: f"{d['group']:,}" if d.get("group") else d["name"]
        for k, d in G.nodes(data=True)
        if d["kind"] == "node"
    }
    below = {
        k: d["name"].replace(" (", "\n(") for k, d in G.nodes(data=True)
        if d["kind"] == "node" and d.get("group")
    }  # fmt: skip
    nx.draw_networkx_labels(
        G, {k: (x, y - 0.32) for k, (x, y) in pos.items()}, labels=below, font_size=7, ax=ax
    )
    nx.draw_networkx_labels(G, pos, labels=inside, font_size=8, font_color="white", ax=ax)
    broker = {k: _label(k, d) for k, d in G.nodes(data=True) if d["kind"] == "broker"}
    nx.draw_networkx_labels(
        G, {k: (x, y - 0.3) for k, (x, y) in pos.items()}, labels=broker, font_size=8, ax=ax
    )
    if labels:
        nx.draw_networkx_labels(
            G,
            {k: (x + 0.13, y) for k, (x, y) in pos.items()},
            labels={k: _client_label(G.nodes[k]) for k in clients},
            font_size=7,
            horizontalalignment="left",
            ax=ax,
        )
    present = [f for f in FATES if any(d["fate"] == f for _, d in G.nodes(data=True))]
    present += [
        f
        for f in ("dropped", "ignored", "discarded")
        if f not in present and any(d["fate"] == f for *_, d in edges)
    ]
    hop_fates = {d["fate"] for *_, d in edges}
    line_of: dict[str, Any] = {f: FATE_LINESTYLES.get(f, "solid") for f in hop_fates}
    handles = [
        Line2D(
            [],
            [],
            marker=FATE_MARKERS.get(f) or "o",
            linestyle=line_of.get(f, ""),
            markersize=8,
            color=FATE_COLOURS[f],
            markeredgecolor="#333333",
            label=f,
        )
        for f in present
    ]
    handles += [
        Line2D(
            [],
            [],
            marker=_SHAPES[k],
            linestyle="",
            markersize=8,
            markerfacecolor="white",
            markeredgecolor="#333333",
            label=k,
        )
        for k in ("client", "node", "broker")
        if any(d["kind"] == k for _, d in G.nodes(data=True))
    ]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8
    )
    info = G.graph
    if info.get("msg"):
        title = (
            f'{info["msg"]} ("{info["event"]}") from {info["sender"]}: {info["emit_kind"]},'
            f" emitted at t={round_ms(info['t_ms'])} ms"
        )
        if info.get("grouped_nodes"):
            title += (
                f"\naggregate view: {info['grouped_nodes']:,} nodes (more than {GROUP_NODES})"
                " grouped per fate"
            )
        if info.get("grouped"):
            title += (
                f"\naggregate view: {info['grouped']:,} recipients (more than {GROUP_CLIENTS})"
                " grouped per node and fate"
            )
        ax.set_title(title)
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]
    ax.set_xlim(min(xs) - 0.7, max(xs) + (1.9 if labels and clients else 0.7))
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.5)
    ax.set_axis_off()
    return ax
