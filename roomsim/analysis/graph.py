"""The way of one message: sender, emitting node, broker, nodes, clients, and each one's fate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

import roomsim.vocabulary as vocab
from roomsim.analysis.delivery import emit_kind
from roomsim.analysis.records import Message, NotInTrace, as_records, message_records
from roomsim.trace import format_time

__all__ = ["FATES", "delivery_graph"]

#: Every ``fate`` a graph node or edge can have, in legend order.
FATES = (
    "sender",
    "origin",
    "published",
    "relayed",
    "received",
    "delivered",
    "discarded",
    "ignored",
    "dropped",
)


def delivery_graph(trace: Iterable[dict[str, Any]], msg: str) -> nx.DiGraph:
    """The way message ``msg`` went, as a directed graph, from the trace alone.

    Graph nodes (every one has ``kind``, ``name``, ``fate``, ``t_ms`` and ``reason``):

    - ``("client", name)``: the sender (``fate="sender"``, at the emit time),
      or a recipient: ``delivered`` at ``t_ms`` or ``dropped`` (``reason``);
      also ``node``, the node it was reached through;
    - ``("node", name)``: the emitting node (``fate="origin"``, at the emit)
      or a node the broker's copy reached (at the ``relay``): ``relayed`` to
      ``targets`` local sockets, ``discarded`` (no recipient there), or
      ``ignored`` (``reason``: own message, unknown room, other namespace);
      for a client-to-server event, ``received`` (or ``dropped``);
    - ``("broker", channel)``: the broker channel it was published on.

    Edges (each has ``kind``, ``t_ms`` (when it reached the head), ``fate``
    and ``reason``): ``emit`` (sender client to its node), ``publish`` (node
    to broker), ``relay`` (broker to node, with ``targets``; ``fate``
    ``dropped`` when the copy never reached the node), ``deliver`` or
    ``drop`` (node to client, with ``sent_ms``, when the node picked the
    client, and ``latency_ms`` from the emit), ``client_emit`` (client to
    node, with ``sent_ms``).  A time the trace does not record (the arrival
    of a copy some adapters do not log) is None.

    ``G.graph`` holds the emit: ``msg``, ``event``, ``sender``, ``origin``,
    ``t_ms``, ``to``, ``except``, ``namespace``, ``local``, ``emit_kind``
    (``room``, ``broadcast``, ``private``, or ``client`` for an event a client
    sent to its node).

    Raises
    ------
    NotInTrace
        If no record names ``msg``, or its emit step failed.

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="bob", node="n2", sid="s2", namespace="/")
    >>> trace.record(10, "emit", msg="m1", node="n1", event="news", **{"from": "n1"},
    ...              to=[], **{"except": []})
    >>> trace.record(10, "publish", msg="m1", node="n1", channel="socket.io#/#")
    >>> trace.record(11, "relay", msg="m1", node="n1", channel="socket.io#/#", targets=0,
    ...              ignored="own message")
    >>> trace.record(11, "relay", msg="m1", node="n2", channel="socket.io#/#", targets=1)
    >>> trace.add_deliveries(16, "m1", "n2", "news", ["bob"])
    >>> G = delivery_graph(trace, "m1")
    >>> for u, v, d in G.edges(data=True):
    ...     print(u[1], "->", v[1], d["kind"], d["t_ms"], d["fate"])
    n1 -> socket.io#/# publish 10 published
    socket.io#/# -> n1 relay 11 ignored
    socket.io#/# -> n2 relay 11 relayed
    n2 -> bob deliver 16 delivered
    >>> G.nodes["client", "bob"]["latency_ms"], G.graph["emit_kind"]
    (6, 'broadcast')
    """
    records = as_records(trace)
    m = message_records(records, msg)
    G: nx.DiGraph = nx.DiGraph()
    if m.emit is not None:
        _server_emit(G, m, {r["sid"] for r in records if r["kind"] == vocab.CONNECT})
    elif m.client_emit is not None or m.drops:
        _client_emit(G, m)
    else:
        why = "; ".join(f"{e.get('step', '?')}: {e.get('message', '')}" for e in m.errors)
        raise NotInTrace(f"message {msg!r} was never emitted ({why or 'no emit record'})")
    return G


def _add(G: nx.DiGraph, key: tuple[str, Any], fate: str, t: float | None, **attrs: Any) -> None:
    attrs.setdefault("reason", None)
    G.add_node(key, kind=key[0], name=key[1], fate=fate, t_ms=t, **attrs)


def _link(
    G: nx.DiGraph, u: Any, v: Any, kind: str, t: float | None, fate: str, **attrs: Any
) -> None:
    attrs.setdefault("reason", None)
    G.add_edge(u, v, kind=kind, t_ms=t, fate=fate, **attrs)


def _server_emit(G: nx.DiGraph, m: Message, sids: set[str]) -> None:
    emit = m.emit
    assert emit is not None
    origin, t0, sender = emit["node"], emit["t"], emit.get("from", emit["node"])
    G.graph.update(
        msg=m.msg,
        event=emit["event"],
        sender=sender,
        origin=origin,
        t_ms=t0,
        to=list(emit.get("to", [])),
        **{"except": list(emit.get("except", []))},
        namespace=emit.get("namespace", "/"),
        local=bool(emit.get("local", False)),
        emit_kind=emit_kind(emit, sids),
    )
    _add(G, ("node", origin), "origin", t0, targets=0)
    if sender != origin:
        _add(G, ("client", sender), "sender", t0, node=origin)
        _link(G, ("client", sender), ("node", origin), "emit", t0, "sent")
    for _, rec in m.publishes:
        broker = ("broker", rec["channel"])
        _add(G, broker, "published", rec["t"])
        _link(G, ("node", rec["node"]), broker, "publish", rec["t"], "published")
    for _, rec in m.relays:
        node, ignored, targets = rec["node"], rec.get("ignored"), rec.get("targets", 0)
        fate = "ignored" if ignored else "relayed" if targets else "discarded"
        broker = ("broker", rec["channel"])
        if broker not in G:
            _add(G, broker, "published", rec["t"])
        if node != origin:
            _add(G, ("node", node), fate, rec["t"], targets=targets, reason=ignored)
        _link(G, broker, ("node", node), "relay", rec["t"], fate, targets=targets, reason=ignored)
    picks = m.pick_times()
    unrecorded: set[str] = set()
    for kind, records in (("deliver", m.delivers), ("drop", m.drops)):
        for _, rec in records:
            node = rec.get("node")
            if "client" not in rec:
                if node is not None:
                    _node_drop(G, rec, origin)
                continue
            fate = "delivered" if kind == vocab.DELIVER else "dropped"
            client = ("client", rec["client"])
            if G.nodes.get(client, {}).get("fate") != "delivered":
                _add(G, client, fate, rec["t"], node=node, reason=rec.get("reason"))
                if fate == "delivered":
                    G.nodes[client]["latency_ms"] = format_time(rec["t"] - t0)
            if node is None:
                continue
            if ("node", node) not in G:
                _unrecorded_relay(G, node)
                unrecorded.add(node)
            if node == origin or node in unrecorded:
                G.nodes["node", node]["targets"] += 1
            if not G.has_edge(("node", node), client):
                _link(
                    G,
                    ("node", node),
                    client,
                    kind,
                    rec["t"],
                    fate,
                    reason=rec.get("reason"),
                    sent_ms=picks[node][1] if node in picks else None,
                    latency_ms=format_time(rec["t"] - t0),
                )


def _unrecorded_relay(G: nx.DiGraph, node: str) -> None:
    """A node that delivered a copy whose arrival the trace does not record (its time is None)."""
    _add(G, ("node", node), "relayed", None, targets=0)
    brokers = [key for key, kind in G.nodes(data="kind") if kind == "broker"]
    if len(brokers) == 1:
        _link(G, brokers[0], ("node", node), "relay", None, "relayed", targets=None)


def _node_drop(G: nx.DiGraph, rec: dict[str, Any], origin: str) -> None:
    """A broker copy that never reached a node: the node, and the broker's edge to it."""
    node, reason, t = rec["node"], rec.get("reason"), rec["t"]
    if node != origin:
        _add(G, ("node", node), "dropped", t, targets=0, reason=reason)
    channel = rec.get("channel")
    if channel is not None:
        broker = ("broker", channel)
        if broker not in G:
            _add(G, broker, "published", t)
        _link(G, broker, ("node", node), "relay", t, "dropped", targets=0, reason=reason)


def _client_emit(G: nx.DiGraph, m: Message) -> None:
    first = m.client_emit if m.client_emit is not None else m.drops[0][1]
    client, t0 = first["client"], first["t"]
    node = m.client_emit["node"] if m.client_emit is not None else None
    G.graph.update(
        msg=m.msg,
        event=first.get("event"),
        sender=client,
        origin=node,
        t_ms=t0,
        to=[],
        **{"except": []},
        namespace=None,
        local=False,
        emit_kind="client",
    )
    _add(G, ("client", client), "sender", t0, node=node)
    for kind, records in (("receive", m.receives), ("drop", m.drops)):
        for _, rec in records:
            fate = "received" if kind == vocab.RECEIVE else "dropped"
            if rec.get("node") is None:
                G.nodes["client", client].update(fate="dropped", reason=rec.get("reason"))
                continue
            _add(G, ("node", rec["node"]), fate, rec["t"], targets=0, reason=rec.get("reason"))
            _link(
                G,
                ("client", client),
                ("node", rec["node"]),
                "client_emit",
                rec["t"],
                fate,
                reason=rec.get("reason"),
                sent_ms=t0,
            )
