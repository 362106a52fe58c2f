"""Figures of a large run per node and per room, for pictures that stay readable.

A picture that draws every client (a row of the outcome grid, a lane of the
space-time diagram) is legible up to about :data:`DETAIL_CLIENTS` clients:
beyond, rows are thinner than a line of text and the picture needs many
minutes and gigabytes.  Beyond that size the pictures switch to aggregates
computed here in one or two passes over the records, in memory that grows
with nodes, rooms and time bins, never with deliveries:

- :func:`activity`: deliveries and drops per node and time bin (a heat map);
- :func:`target_outcomes`: deliveries and drops per room (or other target);
- :func:`group_clients`: a delivery graph with the clients of each node
  gathered into one group per fate (beyond :data:`GROUP_CLIENTS` clients).

:func:`slice_records` keeps the records of a slice (a client, a node, a room,
a message), which the detailed pictures then draw.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from roomsim.analysis.records import natural_key

__all__ = [
    "DETAIL_CLIENTS",
    "GROUP_CLIENTS",
    "GROUP_NODES",
    "Activity",
    "TargetOutcomes",
    "activity",
    "count_clients",
    "group_clients",
    "group_nodes",
    "slice_records",
    "target_outcomes",
]

Record = dict[str, Any]

#: Pictures draw each client up to this many clients, and aggregates beyond.
DETAIL_CLIENTS = 200
#: A delivery graph draws each recipient up to this many, and groups per node beyond.
GROUP_CLIENTS = 40
#: A delivery graph draws each server node up to this many, and groups them per fate beyond.
GROUP_NODES = 16


def _reiterable(records: Iterable[Record]) -> Iterable[Record]:
    """``records`` if it can be read twice (a list, a Trace), else a list of it."""
    return list(records) if iter(records) is records else records


def count_clients(records: Iterable[Record]) -> int:
    """How many distinct clients connected.

    Examples
    --------
    >>> count_clients([{"t": 0, "kind": "connect", "client": "a"}] * 2)
    1
    """
    tally = getattr(records, "tally", None)
    if tally is not None:
        return len(tally.clients)
    return len({r["client"] for r in records if r["kind"] == "connect"})


@dataclass
class Activity:
    """Deliveries and drops per node (rows) and time bin (columns).

    Attributes
    ----------
    nodes : list of str
        Row names, in natural order (``n2`` before ``n10``).
    edges : list of float
        The ``bins + 1`` bin edges in ms.
    delivered, dropped : list of list of int
        ``delivered[i][j]``: deliveries by node ``nodes[i]`` in bin ``j``.
    clients : int
        Clients that connected in the whole run.
    """

    nodes: list[str] = field(default_factory=list)
    edges: list[float] = field(default_factory=list)
    delivered: list[list[int]] = field(default_factory=list)
    dropped: list[list[int]] = field(default_factory=list)
    clients: int = 0

    @property
    def totals(self) -> tuple[int, int]:
        """All deliveries and all drops counted."""
        return sum(map(sum, self.delivered)), sum(map(sum, self.dropped))


def activity(
    records: Iterable[Record],
    bins: int = 60,
    start: float | None = None,
    end: float | None = None,
    nodes: Iterable[str] | None = None,
) -> Activity:
    """Count deliveries and drops per node and time bin, between ``start`` and ``end``.

    A drop of a copy that never reached a node (no ``client``) counts for
    that node too; a drop with no node is left out.

    Examples
    --------
    >>> recs = [
    ...     {"t": 0, "kind": "connect", "client": "a", "node": "n1"},
    ...     {"t": 0, "kind": "connect", "client": "b", "node": "n2"},
    ...     {"t": 1, "kind": "deliver", "msg": "m1", "client": "a", "node": "n1"},
    ...     {"t": 9, "kind": "deliver", "msg": "m2", "client": "b", "node": "n2"},
    ...     {"t": 9, "kind": "drop", "msg": "m2", "client": "a", "node": "n1", "reason": "x"},
    ... ]
    >>> act = activity(recs, bins=2)
    >>> act.nodes, act.edges, act.delivered, act.dropped
    (['n1', 'n2'], [0.0, 4.5, 9.0], [[1, 0], [0, 1]], [[0, 1], [0, 0]])
    """
    records = _reiterable(records)
    wanted = set(nodes) if nodes is not None else None
    seen: dict[str, None] = {}
    lo, hi = math.inf, -math.inf
    clients: set[str] = set()
    for rec in records:
        t = rec["t"]
        lo, hi = min(lo, t), max(hi, t)
        kind = rec["kind"]
        if kind == "connect":
            clients.add(rec["client"])
        node = rec.get("node")
        if node is not None and node.__class__ is str and (wanted is None or node in wanted):
            seen[node] = None
    lo = float(start if start is not None else (lo if lo != math.inf else 0.0))
    hi = float(end if end is not None else (hi if hi != -math.inf else lo))
    width = (hi - lo) / bins if hi > lo else 1.0
    names = sorted(seen, key=natural_key)
    row = {n: i for i, n in enumerate(names)}
    delivered = [[0] * bins for _ in names]
    dropped = [[0] * bins for _ in names]
    for rec in records:
        kind = rec["kind"]
        if kind != "deliver" and kind != "drop":
            continue
        i = row.get(rec.get("node"))  # type: ignore[arg-type]
        t = rec["t"]
        if i is None or t < lo or t > hi:
            continue
        j = min(bins - 1, int((t - lo) / width))
        (delivered if kind == "deliver" else dropped)[i][j] += 1
    edges = [lo + k * width for k in range(bins + 1)]
    return Activity(names, edges, delivered, dropped, len(clients))


@dataclass
class TargetOutcomes:
    """Deliveries and drops per target of the emits (a room, rooms, or everyone).

    Attributes
    ----------
    targets : list of str
        Each target, busiest first: a room name, rooms joined by ``+``, or
        ``(everyone)`` for a broadcast; ``(client events)`` for events clients sent.
    messages, delivered, dropped : list of int
        Per target: messages sent to it, deliveries and client drops.
    clients : int
        Clients that connected in the whole run.
    """

    targets: list[str] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    clients: int = 0


def _target(emit: Record, sids: set[str]) -> str:
    to = [str(x) for x in emit.get("to") or ()]
    rooms = [x for x in to if x not in sids]
    if not to:
        return "(everyone)"
    if not rooms:
        return "(private)"
    return "+".join(rooms)


def target_outcomes(records: Iterable[Record]) -> TargetOutcomes:
    """Count, per target of the emits, the messages, deliveries and drops (one pass).

    Examples
    --------
    >>> recs = [
    ...     {"t": 0, "kind": "connect", "client": "a", "node": "n1", "sid": "s1"},
    ...     {"t": 1, "kind": "emit", "msg": "m1", "node": "n1", "to": ["lobby"]},
    ...     {"t": 2, "kind": "deliver", "msg": "m1", "client": "a", "node": "n1"},
    ...     {"t": 3, "kind": "emit", "msg": "m2", "node": "n1", "to": []},
    ...     {"t": 4, "kind": "drop", "msg": "m2", "client": "a", "reason": "gone"},
    ... ]
    >>> out = target_outcomes(recs)
    >>> out.targets, out.messages, out.delivered, out.dropped
    (['(everyone)', 'lobby'], [1, 1], [0, 1], [1, 0])
    """
    sids: set[str] = set()
    clients: set[str] = set()
    of: dict[str, str] = {}
    messages: Counter[str] = Counter()
    delivered: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for rec in records:
        kind = rec["kind"]
        if kind == "deliver":
            delivered[of.get(rec["msg"], "(client events)")] += 1
        elif kind == "drop":
            if "client" in rec:
                dropped[of.get(rec["msg"], "(client events)")] += 1
        elif kind == "emit":
            target = of.setdefault(rec["msg"], _target(rec, sids))
            messages[target] += 1
        elif kind == "connect":
            if "sid" in rec:
                sids.add(rec["sid"])
            clients.add(rec["client"])
    names = sorted(
        set(messages) | set(delivered) | set(dropped),
        key=lambda n: (-(delivered[n] + dropped[n]), natural_key(n)),
    )
    return TargetOutcomes(
        names,
        [messages[n] for n in names],
        [delivered[n] for n in names],
        [dropped[n] for n in names],
        len(clients),
    )


def slice_records(
    records: Iterable[Record],
    *,
    client: str | None = None,
    node: str | None = None,
    room: str | None = None,
    msg: str | None = None,
) -> list[Record]:
    """The records of one slice of a run: what a picture of that slice needs.

    - ``client``: records naming that client, and the emits of messages it
      was sent or sent itself;
    - ``node``: records of that node and of its clients;
    - ``room``: joins and leaves of the room, messages sent to it, and
      everything those messages did;
    - ``msg``: every record of that message, and the connects.

    Connect and disconnect records of the clients kept are kept, so lanes
    and rows have their names.  Several filters keep what every one keeps.

    Examples
    --------
    >>> recs = [
    ...     {"t": 0, "kind": "connect", "client": "a", "node": "n1", "sid": "s1"},
    ...     {"t": 0, "kind": "connect", "client": "b", "node": "n2", "sid": "s2"},
    ...     {"t": 1, "kind": "join", "client": "a", "node": "n1", "room": "r"},
    ...     {"t": 2, "kind": "emit", "msg": "m1", "node": "n2", "to": ["r"]},
    ...     {"t": 3, "kind": "deliver", "msg": "m1", "client": "a", "node": "n1"},
    ...     {"t": 4, "kind": "emit", "msg": "m2", "node": "n2", "to": []},
    ...     {"t": 5, "kind": "deliver", "msg": "m2", "client": "b", "node": "n2"},
    ... ]
    >>> [(r["t"], r["kind"]) for r in slice_records(recs, room="r")]
    [(0, 'connect'), (1, 'join'), (2, 'emit'), (3, 'deliver')]
    >>> [(r["t"], r["kind"]) for r in slice_records(recs, node="n2")]
    [(0, 'connect'), (2, 'emit'), (4, 'emit'), (5, 'deliver')]
    """
    records = _reiterable(records)
    keep_msgs: set[str] | None = None
    keep_clients: set[str] | None = None
    if msg is not None:
        keep_msgs = {msg}
    if room is not None:
        sent = set()
        members = set()
        for rec in records:
            if rec["kind"] == "emit" and room in (rec.get("to") or ()):
                sent.add(rec["msg"])
            elif rec.get("room") == room:
                members.add(rec["client"])
        keep_msgs = sent if keep_msgs is None else keep_msgs & sent
        keep_clients = members
    if client is not None:
        mine = set()
        for rec in records:
            if rec.get("client") == client and "msg" in rec:
                mine.add(rec["msg"])
        keep_msgs = mine if keep_msgs is None else keep_msgs & mine
        keep_clients = {client} if keep_clients is None else keep_clients & {client}
    if node is not None:
        here = {r["client"] for r in records if r["kind"] == "connect" and r["node"] == node}
        keep_clients = here if keep_clients is None else keep_clients & here
    return list(_kept(records, keep_msgs, keep_clients, node))


def _kept(
    records: Iterable[Record],
    msgs: set[str] | None,
    clients: set[str] | None,
    node: str | None,
) -> Iterator[Record]:
    for rec in records:
        who = rec.get("client")
        m = rec.get("msg")
        if m is None:  # connect, join, crash, ...: of the clients (and node) kept
            if who is not None and clients is not None and who not in clients:
                continue
            if node is not None and rec.get("node") not in (None, node) and who is None:
                continue
            if who is None and rec["kind"] not in ("crash", "restart", "broker", "partition",
                                                     "heal", "error"):  # fmt: skip
                continue
            yield rec
            continue
        if msgs is not None and m not in msgs:
            continue
        if who is not None and clients is not None and who not in clients:
            continue
        if node is not None and who is None and rec.get("node") != node:
            continue
        yield rec


def group_clients(G: nx.DiGraph, most: int = GROUP_CLIENTS) -> nx.DiGraph:
    """A delivery graph with each node's recipients gathered per fate, beyond ``most`` clients.

    Each group is one graph node ``("client", "n1: 1,234 delivered")`` of
    kind ``client`` with ``group`` (how many clients), ``fate``, ``node``,
    ``t_ms`` (the first) and ``last_ms``; its edge from the node carries the
    same.  The sender stays itself.  ``G.graph["grouped"]`` is the number of
    clients gathered (``G`` itself is returned when it has at most ``most``).

    Examples
    --------
    >>> G = nx.DiGraph(msg="m1")
    >>> G.add_node(("node", "n1"), kind="node", name="n1", fate="origin", t_ms=0)
    >>> for i in range(3):
    ...     G.add_node(("client", f"c{i}"), kind="client", name=f"c{i}", fate="delivered",
    ...                t_ms=i, node="n1")
    ...     G.add_edge(("node", "n1"), ("client", f"c{i}"), kind="deliver", fate="delivered",
    ...                t_ms=i)
    >>> H = group_clients(G, most=2)
    >>> sorted(k for k in H if k[0] == "client"), H.graph["grouped"]
    ([('client', 'n1: 3 delivered')], 3)
    """
    recipients = [
        k for k, d in G.nodes(data=True) if d["kind"] == "client" and d["fate"] != "sender"
    ]
    if len(recipients) <= most:
        return G
    H: nx.DiGraph = nx.DiGraph(**G.graph)
    H.graph["grouped"] = len(recipients)
    chosen = set(recipients)
    for key, data in G.nodes(data=True):
        if key not in chosen:
            H.add_node(key, **data)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for key in recipients:
        data = G.nodes[key]
        node = data.get("node") or "?"
        group = groups.setdefault(
            (node, data["fate"]),
            {"group": 0, "t_ms": math.inf, "last_ms": -math.inf, "reasons": Counter()},
        )
        group["group"] += 1
        t = data.get("t_ms")
        if t is not None:
            group["t_ms"] = min(group["t_ms"], t)
            group["last_ms"] = max(group["last_ms"], t)
        if data.get("reason"):
            group["reasons"][data["reason"]] += 1
    name_of = {}
    for (node, fate), group in sorted(groups.items(), key=lambda kv: natural_key(kv[0][0])):
        name = f"{node}: {group['group']:,} {fate}"
        key = ("client", name)
        name_of[node, fate] = key
        first = group["t_ms"] if group["t_ms"] != math.inf else None
        last = group["last_ms"] if group["last_ms"] != -math.inf else None
        reason = group["reasons"].most_common(1)[0][0] if group["reasons"] else None
        H.add_node(
            key, kind="client", name=name, fate=fate, node=node, t_ms=first, last_ms=last,
            group=group["group"], reason=reason,
        )  # fmt: skip
    for u, v, data in G.edges(data=True):
        if v in chosen:
            d = G.nodes[v]
            target = name_of[d.get("node") or "?", d["fate"]]
            if not H.has_edge(u, target):
                H.add_edge(u, target, **{**data, "t_ms": H.nodes[target]["t_ms"]})
        elif u in chosen:
            continue
        else:
            H.add_edge(u, v, **data)
    return H


def group_nodes(G: nx.DiGraph, most: int = GROUP_NODES) -> nx.DiGraph:
    """A delivery graph with its server nodes gathered per fate, beyond ``most`` nodes.

    The emitting node stays itself; the others become one graph node per
    fate and reason, ``("node", "42 nodes relayed")`` with ``group`` (how
    many) and ``members`` (their names); clients keep their fate and are
    drawn under their node's group.  ``G.graph["grouped_nodes"]`` is the
    number of nodes gathered (``G`` itself is returned when it has at most
    ``most``).

    Examples
    --------
    >>> G = nx.DiGraph(msg="m1", origin="n1")
    >>> G.add_node(("node", "n1"), kind="node", name="n1", fate="origin", t_ms=0)
    >>> G.add_node(("broker", "c"), kind="broker", name="c", fate="published", t_ms=0)
    >>> for i in range(2, 5):
    ...     G.add_node(("node", f"n{i}"), kind="node", name=f"n{i}", fate="relayed", t_ms=1)
    ...     G.add_edge(("broker", "c"), ("node", f"n{i}"), kind="relay", fate="relayed", t_ms=1)
    >>> H = group_nodes(G, most=2)
    >>> sorted(k[1] for k in H if k[0] == "node"), H.graph["grouped_nodes"]
    (['3 nodes relayed', 'n1'], 3)
    """
    origin = G.graph.get("origin")
    servers = [k for k, d in G.nodes(data=True) if d["kind"] == "node" and d["name"] != origin]
    if len(servers) + (origin is not None) <= most:
        return G
    groups: dict[tuple[str, Any], list[Any]] = {}
    for key in servers:
        d = G.nodes[key]
        groups.setdefault((d["fate"], d.get("reason")), []).append(key)
    into: dict[Any, tuple[str, str]] = {}
    H: nx.DiGraph = nx.DiGraph(**G.graph)
    H.graph["grouped_nodes"] = len(servers)
    for (fate, reason), keys in groups.items():
        name = f"{len(keys):,} node{'s' * (len(keys) != 1)} {fate}"
        if reason:
            name += f" ({reason})"
        times = [G.nodes[k]["t_ms"] for k in keys if G.nodes[k].get("t_ms") is not None]
        group = ("node", name)
        H.add_node(
            group,
            kind="node",
            name=name,
            fate=fate,
            reason=reason,
            t_ms=min(times) if times else None,
            targets=sum(G.nodes[k].get("targets") or 0 for k in keys),
            group=len(keys),
            members=sorted((G.nodes[k]["name"] for k in keys), key=natural_key),
        )
        for key in keys:
            into[key] = group
    for key, data in G.nodes(data=True):
        if key in into:
            continue
        if data["kind"] == "client" and ("node", data.get("node")) in into:
            data = {**data, "node": into["node", data["node"]][1]}
        H.add_node(key, **data)
    for u, v, data in G.edges(data=True):
        a, b = into.get(u, u), into.get(v, v)
        if not H.has_edge(a, b):
            H.add_edge(
                a, b, **{**data, "t_ms": H.nodes[b]["t_ms"] if b in into.values() else data["t_ms"]}
            )
    return H
