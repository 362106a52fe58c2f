"""Fixed positions for the pictures (pure computation, no matplotlib, no randomness).

The cluster layout puts the nodes in a row of columns, each node's clients
in a block under it (a little to its right, so edges fan out), and the
broker above, between the nodes.  The
membership layout gives each node a block: its clients on the left, its
rooms on the right.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

from roomsim.analysis.records import natural_key

__all__ = ["cluster_layout", "cluster_positions", "membership_layout"]

Pos = dict[Any, tuple[float, float]]

#: Clients stacked in one column up to this many; beyond, a square-ish block.
_ONE_COLUMN = 8
_DX, _DY = 0.6, 0.55
#: Clients sit a little right of their node, so the node's edges to them fan out.
_SIDE = 0.35


def _block(count: int) -> tuple[int, int]:
    """Columns and rows of a block of ``count`` clients."""
    if count <= _ONE_COLUMN:
        return 1, count
    cols = math.ceil(math.sqrt(count))
    return cols, math.ceil(count / cols)


def cluster_positions(
    nodes: Iterable[str],
    clients: Mapping[str, str | None],
    brokers: Iterable[Any] = (),
) -> Pos:
    """Positions of ``("node", n)``, ``("client", c)`` and each broker key.

    Parameters
    ----------
    nodes : iterable of str
        Node names, left to right.
    clients : mapping
        client -> the node it is drawn under (None: under the first node).
    brokers : iterable
        Broker keys (such as ``("broker", channel)``), spread above the nodes.

    Examples
    --------
    >>> pos = cluster_positions(["n1", "n2"], {"alice": "n1", "bob": "n2", "carol": "n2"},
    ...                         [("broker", "c")])
    >>> pos["node", "n1"], pos["node", "n2"], pos["broker", "c"]
    ((0.0, 0.0), (1.8, 0.0), (0.9, 1.3))
    >>> pos["client", "bob"], pos["client", "carol"]
    ((2.15, -1.0), (2.15, -1.55))
    """
    names = list(nodes)
    under: dict[str, list[str]] = {n: [] for n in names}
    for client, node in clients.items():
        if node not in under:
            node = names[0] if names else "?"
            under.setdefault(node, [])
            if node not in names:
                names.append(node)
        under[node].append(client)
    width = max([_block(len(under[n]))[0] for n in names] + [1])
    step = max(1.8, width * _DX + 1.2)
    pos: Pos = {}
    for i, node in enumerate(names):
        x = round(i * step, 6)
        pos["node", node] = (x, 0.0)
        cols, _ = _block(len(under[node]))
        for j, client in enumerate(under[node]):
            col, row = j % cols, j // cols
            cx = x + _SIDE + col * _DX
            pos["client", client] = (round(cx, 6), round(-1.0 - row * _DY, 6))
    keys = list(brokers)
    middle = (len(names) - 1) * step / 2 if names else 0.0
    for k, key in enumerate(keys):
        pos[key] = (round(middle + (k - (len(keys) - 1) / 2) * step, 6), 1.3)
    return pos


def cluster_layout(G: nx.Graph) -> Pos:
    """The cluster layout of a graph whose nodes have a ``kind`` (client, node, broker).

    A client is drawn under its ``node`` attribute; nodes in natural order.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_node(("node", "n1"), kind="node")
    >>> G.add_node(("client", "alice"), kind="client", node="n1")
    >>> cluster_layout(G)
    {('node', 'n1'): (0.0, 0.0), ('client', 'alice'): (0.35, -1.0)}
    """
    kinds = nx.get_node_attributes(G, "kind")
    nodes = sorted((k[1] for k, kind in kinds.items() if kind == "node"), key=natural_key)
    clients = {k[1]: G.nodes[k].get("node") for k, kind in kinds.items() if kind == "client"}
    brokers = [k for k, kind in kinds.items() if kind == "broker"]
    pos = cluster_positions(nodes, clients, brokers)
    return {key: pos[key] for key in G}


def membership_layout(G: nx.Graph) -> Pos:
    """Positions for :func:`~roomsim.analysis.membership_graph`: one block per node.

    The node sits on top of its block, its clients in a column on the left
    and its rooms in a column on the right.

    Examples
    --------
    >>> G = nx.Graph()
    >>> G.add_node(("node", "n1"), kind="node", name="n1")
    >>> G.add_node(("client", "alice"), kind="client", node="n1")
    >>> G.add_node(("room", "n1", "/", "lobby"), kind="room", node="n1")
    >>> membership_layout(G)
    {('node', 'n1'): (0.75, 0.8), ('client', 'alice'): (0.0, 0.0),
     ('room', 'n1', '/', 'lobby'): (1.5, 0.0)}
    """
    nodes = sorted(
        (d["name"] for _, d in G.nodes(data=True) if d.get("kind") == "node"), key=natural_key
    )
    clients: dict[str, list[Any]] = {n: [] for n in nodes}
    rooms: dict[str, list[Any]] = {n: [] for n in nodes}
    for key, data in G.nodes(data=True):
        kind = data.get("kind")
        if kind in ("client", "room"):
            node: Any = data.get("node")
            if node not in clients:
                nodes.append(node)
                clients[node], rooms[node] = [], []
            (clients if kind == "client" else rooms)[node].append(key)
    pos: Pos = {}
    for i, node in enumerate(nodes):
        x = i * 3.0
        pos["node", node] = (x + 0.75, 0.8)
        for j, key in enumerate(clients[node]):
            pos[key] = (x, -j * 0.5)
        # rooms spread over the clients' height, each near the middle of its members
        span = max(len(clients[node]), len(rooms[node])) - 1
        gap = 0.5 * span / (len(rooms[node]) - 1) if len(rooms[node]) > 1 else 0.5

        def middle(room: Any) -> tuple[float, tuple[Any, ...]]:
            ys = [pos[c][1] for c in G[room] if c in pos and G.nodes[c].get("kind") == "client"]
            return (-sum(ys) / len(ys) if ys else 0.0, natural_key(str(G.nodes[room].get("name"))))

        for j, key in enumerate(sorted(rooms[node], key=middle)):
            pos[key] = (x + 1.5, round(-j * gap, 6))
    return {key: pos[key] for key in G}
