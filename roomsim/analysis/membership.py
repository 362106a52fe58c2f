"""Room membership at one instant: which client is in which room, on which node."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from roomsim.analysis.history import History

__all__ = ["membership_graph"]


def membership_graph(
    trace: Iterable[dict[str, Any]], t: float, *, own_rooms: bool = False
) -> nx.Graph:
    """The client-room graph at time ``t`` (every record at or before ``t`` counted).

    Rooms belong to one node and one namespace, so the same room name on two
    nodes is two graph nodes.  Built from the trace alone.

    Parameters
    ----------
    trace : Trace or iterable of dict
    t : float
        Simulated time, ms.
    own_rooms : bool
        Also show each socket's own room (named by its socket id).

    Returns
    -------
    networkx.Graph
        Graph nodes (``kind`` attribute first):

        - ``("node", name)``: ``kind="node"``, ``name``;
        - ``("client", name)``: ``kind="client"``, ``name``, ``node``, ``sid``,
          ``namespace``, ``since_ms`` (connected), ``bipartite=0``;
        - ``("room", node, namespace, name)``: ``kind="room"``, ``name``,
          ``node``, ``namespace``, ``members``, ``own`` (a socket's own room),
          ``bipartite=1``.

        Edges: client-room ``kind="member"``, ``since_ms`` (joined);
        node-client ``kind="connected"``, ``since_ms``.  ``G.graph["t_ms"]`` is ``t``.

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1", namespace="/")
    >>> trace.record(0, "connect", client="bob", node="n2", sid="s2", namespace="/")
    >>> trace.record(5, "join", client="alice", node="n1", room="lobby")
    >>> trace.record(5, "join", client="bob", node="n2", room="lobby")
    >>> trace.record(8, "leave", client="bob", node="n2", room="lobby")
    >>> G = membership_graph(trace, 6)
    >>> sorted(G.edges(("client", "bob"), data="kind"))
    [(('client', 'bob'), ('node', 'n2'), 'connected'),
     (('client', 'bob'), ('room', 'n2', '/', 'lobby'), 'member')]
    >>> G = membership_graph(trace, 8)
    >>> [n for n, kind in G.nodes(data="kind") if kind == "room"]
    [('room', 'n1', '/', 'lobby')]
    """
    history = History(trace)
    seq = history.cutoff(t)
    G: nx.Graph = nx.Graph(t_ms=t)
    for node in history.nodes:
        G.add_node(("node", node), kind="node", name=node)
    for life in history.alive_at(seq):
        client = ("client", life.client)
        G.add_node(
            client,
            kind="client",
            name=life.client,
            node=life.node,
            sid=life.sid,
            namespace=life.namespace,
            since_ms=life.connect_ms,
            bipartite=0,
        )
        G.add_edge(("node", life.node), client, kind="connected", since_ms=life.connect_ms)
        for room, since in life.rooms_at(seq).items():
            own = room == life.sid
            if own and not own_rooms:
                continue
            key = ("room", life.node, life.namespace, room)
            if key not in G:
                G.add_node(
                    key,
                    kind="room",
                    name=room,
                    node=life.node,
                    namespace=life.namespace,
                    members=0,
                    own=own,
                    bipartite=1,
                )
            G.nodes[key]["members"] += 1
            G.add_edge(client, key, kind="member", since_ms=since)
    return G
