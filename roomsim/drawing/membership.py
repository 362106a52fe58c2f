"""Drawing room membership at one instant (:func:`~roomsim.analysis.membership_graph`)."""

from __future__ import annotations

from typing import Any

import networkx as nx

from roomsim.analysis.records import round_ms
from roomsim.drawing.colours import message_colours
from roomsim.drawing.layout import membership_layout
from roomsim.drawing.output import new_axes

__all__ = ["draw_membership", "membership_figsize"]

#: With more clients than this the clients are drawn without their names.
_MOST_NAMES = 150


def membership_figsize(G: nx.Graph) -> tuple[float, float]:
    """A figure size that fits the membership layout."""
    pos = membership_layout(G)
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]
    return (
        min(24.0, max(6.0, 1.5 * (max(xs) - min(xs)) + 3.5)),
        min(18.0, max(2.8, 0.9 * (max(ys) - min(ys)) + 2.0)),
    )


def draw_membership(G: nx.Graph, ax: Any = None) -> Any:
    """Draw who is in which room: per node, its clients (left) linked to its rooms (right).

    Clients are coloured by node; a socket's own room (if the graph has
    them) is pale.

    Parameters
    ----------
    G : networkx.Graph
        From :func:`~roomsim.analysis.membership_graph`.
    ax : matplotlib Axes, optional
        Where to draw (default: a new pyplot figure).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from roomsim.analysis import membership_graph
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1", namespace="/")
    >>> trace.record(1, "join", client="alice", node="n1", room="lobby")
    >>> ax = draw_membership(membership_graph(trace, 1), ax=Figure().subplots())
    >>> ax.get_title()
    'rooms at t=1 ms: 1 client, 1 room'
    """
    from matplotlib.patches import FancyBboxPatch

    ax = new_axes(membership_figsize(G), ax)
    pos = membership_layout(G)
    by_kind: dict[str, list[Any]] = {"node": [], "client": [], "room": []}
    for key, data in G.nodes(data=True):
        by_kind[data["kind"]].append(key)
    nodes = [G.nodes[k]["name"] for k in by_kind["node"]]
    colour = dict(zip(nodes, message_colours(len(nodes)), strict=True))
    many = len(by_kind["client"]) > 60
    members = [(u, v) for u, v, d in G.edges(data=True) if d["kind"] == "member"]
    nx.draw_networkx_edges(G, pos, edgelist=members, edge_color="#888888", width=0.9, ax=ax)
    nx.draw_networkx_nodes(
        G,
        pos,
        nodelist=by_kind["node"],
        node_shape="s",
        node_size=900,
        node_color=[colour[G.nodes[k]["name"]] for k in by_kind["node"]],
        edgecolors="#333333",
        ax=ax,
    )
    nx.draw_networkx_nodes(
        G,
        pos,
        nodelist=by_kind["client"],
        node_size=80 if many else 300,
        node_color=[colour.get(G.nodes[k]["node"], "#777777") for k in by_kind["client"]],
        edgecolors="#333333",
        linewidths=0.6,
        ax=ax,
    )
    nx.draw_networkx_nodes(
        G,
        pos,
        nodelist=by_kind["room"],
        node_shape="h",
        node_size=80 if many else 380,
        node_color=["#eeeeee" if G.nodes[k]["own"] else "#f7d08a" for k in by_kind["room"]],
        edgecolors="#555555",
        linewidths=0.8,
        ax=ax,
    )
    font = 6 if many else 8
    left = {k: (x - 0.2, y) for k, (x, y) in pos.items()}
    right = {k: (x + 0.2, y) for k, (x, y) in pos.items()}
    named = by_kind["client"] if len(by_kind["client"]) <= _MOST_NAMES else []
    nx.draw_networkx_labels(
        G,
        left,
        labels={k: G.nodes[k]["name"] for k in named},
        font_size=font,
        horizontalalignment="right",
        ax=ax,
    )
    nx.draw_networkx_labels(
        G,
        right,
        labels={k: _room_label(G, k) for k in by_kind["room"][: _MOST_NAMES * 2]},
        font_size=font,
        horizontalalignment="left",
        ax=ax,
    )
    nx.draw_networkx_labels(
        G,
        pos,
        labels={k: G.nodes[k]["name"] for k in by_kind["node"]},
        font_size=9,
        font_color="white",
        font_weight="bold",
        ax=ax,
    )
    lowest = min((y for _, y in pos.values()), default=0.0)
    for k in by_kind["node"]:
        x, y = pos[k]
        ax.add_patch(
            FancyBboxPatch(
                (x - 1.4, lowest - 0.35),
                2.8,
                y - lowest + 0.75,
                boxstyle="round,pad=0.02,rounding_size=0.15",
                facecolor=colour[G.nodes[k]["name"]],
                alpha=0.08,
                edgecolor="none",
                zorder=0,
            )
        )
    t = G.graph.get("t_ms", 0)
    n_clients, n_rooms = len(by_kind["client"]), len(by_kind["room"])
    ax.set_title(
        f"rooms at t={round_ms(t)} ms: {n_clients} client{'s' * (n_clients != 1)},"
        f" {n_rooms} room{'s' * (n_rooms != 1)}"
        + ("" if named or not n_clients else " (too many clients to name)")
    )
    ax.margins(0.25, 0.1)
    ax.set_axis_off()
    return ax


def _room_label(G: nx.Graph, key: Any) -> str:
    data = G.nodes[key]
    name = data["name"]
    ns = data.get("namespace", "/")
    if data.get("own"):
        name = f"{name[:6]}... (own room)"
    text = name if ns == "/" else f"{ns} {name}"
    return f"{text} ({data['members']})"
