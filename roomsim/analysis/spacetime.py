"""A space-time diagram of a run: one lane per client, node and the broker; hops between them.

Each message leaves a trail of hops: ``emit`` (a client's socket emits on
its node), ``publish`` (node to broker), ``relay`` (broker to each node),
``deliver`` or ``drop`` (node to client, from the moment the node picked the
client), and for a client-to-server event ``client_emit`` (client to node).
Marks are the instants on one lane: ``connect``, ``reconnect`` (a client
connecting again, ``recovered`` when state recovery gave it its old
socket back), ``join``, ``leave``, ``disconnect``, ``emit``, and the
failures: ``crash`` and ``restart`` (node lane), ``broker`` (down or up, on
the broker lane), ``partition`` and ``heal`` (node lane), and
``reconnect_failed`` (client lane).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import roomsim.vocabulary as vocab
from roomsim.analysis.history import History
from roomsim.analysis.records import as_records, natural_key
from roomsim.trace import format_time

__all__ = [
    "BROKER",
    "FAILURE_MARKS",
    "Hop",
    "Lane",
    "Mark",
    "SpaceTime",
    "hops_and_marks",
    "spacetime",
]

Key = tuple[str, str]

#: The broker's lane key.
BROKER: Key = ("broker", "broker")
#: The kinds of mark that tell of a failure or a return (always labelled first).
FAILURE_MARKS = (
    "crash",
    "restart",
    "broker",
    "partition",
    "heal",
    "reconnect",
    "reconnect_failed",
)


@dataclass(frozen=True)
class Lane:
    """One horizontal line of the diagram.

    ``key`` is ``("client", name)``, ``("node", name)`` or :data:`BROKER`;
    ``node`` is a client's first node (None for the others).
    """

    key: Key
    kind: str
    name: str
    node: str | None = None


@dataclass(frozen=True)
class Hop:
    """One arrow: message ``msg`` going from lane ``src`` at ``t0_ms`` to ``dst`` at ``t1_ms``."""

    msg: str
    kind: str
    src: Key
    dst: Key
    t0_ms: float
    t1_ms: float
    fate: str


@dataclass(frozen=True)
class Mark:
    """One instant on one lane (a join, an emit, ...), with a short ``label``.

    ``msg`` is set for an emit, ``room`` for a join or leave.
    """

    lane: Key
    t_ms: float
    kind: str
    label: str
    msg: str | None = None
    room: str | None = None


@dataclass
class SpaceTime:
    """What :func:`spacetime` computes and :func:`~roomsim.drawing.draw_spacetime` draws.

    Attributes
    ----------
    lanes : list of Lane
        Top to bottom: the clients of the first half of the nodes above their
        node, the broker in the middle, the other nodes above their clients.
    hops : list of Hop
        In trace order.
    marks : list of Mark
        In trace order.
    messages : list of str
        Every message with a hop or a mark, in order of first appearance (its
        index picks its colour).
    start_ms, end_ms : float
        The window.
    """

    lanes: list[Lane] = field(default_factory=list)
    hops: list[Hop] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    start_ms: float = 0
    end_ms: float = 0


def spacetime(
    trace: Iterable[dict[str, Any]],
    start: float | None = None,
    end: float | None = None,
    msg: str | None = None,
    room: str | None = None,
    client: str | None = None,
) -> SpaceTime:
    """Lanes, hops and marks of a run, in a time window, optionally filtered.

    Parameters
    ----------
    trace : Trace or iterable of dict
    start, end : float, optional
        The window, in ms (default: from the first to the last hop or mark
        kept).  A hop is kept if it overlaps the window.
    msg : str, optional
        Only this message's hops and marks.
    room : str, optional
        Only messages sent to this room (in their ``to``), and the joins and
        leaves of this room.
    client : str, optional
        Only what this client sent or was sent (the way there included), and
        its own connects, joins, leaves and disconnects.

    With a filter, only the lanes something happens on are kept; without,
    every client, node and (if anything was published) the broker has one.

    Examples
    --------
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="bob", node="n2", sid="s2", namespace="/")
    >>> trace.record(10, "emit", msg="m1", node="n1", event="e", **{"from": "n1"},
    ...              to=[], **{"except": []})
    >>> trace.record(10, "publish", msg="m1", node="n1", channel="c")
    >>> trace.record(12, "relay", msg="m1", node="n2", channel="c", targets=1)
    >>> trace.add_deliveries(17, "m1", "n2", "e", ["bob"])
    >>> data = spacetime(trace)
    >>> [lane.name for lane in data.lanes]
    ['n1', 'broker', 'n2', 'bob']
    >>> [(h.kind, h.src[1], h.dst[1], h.t0_ms, h.t1_ms) for h in data.hops]
    [('publish', 'n1', 'broker', 10, 11),
     ('relay', 'broker', 'n2', 11, 12),
     ('deliver', 'n2', 'bob', 12, 17)]
    >>> [(m.kind, m.label) for m in data.marks]
    [('connect', 'connect n2'), ('emit', 'm1')]
    """
    records = as_records(trace)
    history = History(records)
    hops, marks = hops_and_marks(records)
    filtered = msg is not None or room is not None or client is not None
    if filtered:
        hops, marks = _filter(records, hops, marks, msg, room, client)
    lo = start if start is not None else _first(hops, marks)
    hi = end if end is not None else _last(hops, marks)
    hops = [h for h in hops if h.t1_ms >= lo and h.t0_ms <= hi]
    marks = [m for m in marks if lo <= m.t_ms <= hi]
    messages: dict[str, None] = {}
    items: list[Hop | Mark] = [*hops, *marks]
    for item in sorted(items, key=_time):
        if item.msg is not None:
            messages[item.msg] = None
    used: set[Key] | None = None
    if filtered:
        used = {h.src for h in hops} | {h.dst for h in hops} | {m.lane for m in marks}
    broker = (
        any(r["kind"] in (vocab.PUBLISH, vocab.BROKER) for r in records)
        if used is None
        else BROKER in used
    )
    lanes = _lanes(history, used, broker)
    return SpaceTime(lanes, hops, marks, list(messages), lo, hi)


def _time(item: Hop | Mark) -> float:
    return item.t0_ms if isinstance(item, Hop) else item.t_ms


def _first(hops: list[Hop], marks: list[Mark]) -> float:
    return min([h.t0_ms for h in hops] + [m.t_ms for m in marks], default=0)


def _last(hops: list[Hop], marks: list[Mark]) -> float:
    return max([h.t1_ms for h in hops] + [m.t_ms for m in marks], default=0)


def hops_and_marks(records: list[dict[str, Any]]) -> tuple[list[Hop], list[Mark]]:
    """Every hop and mark of the run, in trace order (no window, no filter)."""
    emits: dict[str, dict[str, Any]] = {}
    published: dict[str, list[dict[str, Any]]] = {}
    relayed: dict[str, dict[str, float]] = {}
    first_relay: dict[str, float] = {}
    for rec in records:
        kind = rec["kind"]
        if kind == vocab.EMIT:
            emits.setdefault(rec["msg"], rec)
            relayed.setdefault(rec["msg"], {})[rec["node"]] = rec["t"]
        elif kind == vocab.PUBLISH:
            published.setdefault(rec["msg"], []).append(rec)
        elif kind == vocab.RELAY:
            msg, node = rec["msg"], rec["node"]
            first_relay.setdefault(msg, rec["t"])
            picks = relayed.setdefault(msg, {})
            if not rec.get("ignored"):
                picks.setdefault(node, rec["t"])
            elif rec["ignored"] == vocab.OWN_MESSAGE and _awaits(
                emits.get(msg), published.get(msg)
            ):
                picks[node] = rec["t"]  # the emitting node delivers when its publish returns
    client_emits: dict[str, dict[str, Any]] = {}
    hops: list[Hop] = []
    marks: list[Mark] = []
    connected: set[str] = set()
    for rec in records:
        kind, t = rec["kind"], rec["t"]
        msg = rec.get("msg") or ""
        if not msg and kind in (vocab.PUBLISH, vocab.RELAY, vocab.DROP):
            continue  # a cluster utility's message, or a drop of no message
        if kind == vocab.DROP and "client" not in rec and "node" in rec and msg in published:
            pub = published[msg][0]["t"]
            mid = format_time((pub + first_relay[msg]) / 2) if msg in first_relay else pub
            hops.append(Hop(msg, "relay", BROKER, ("node", rec["node"]), mid, t, "dropped"))
        elif (
            kind in (vocab.DELIVER, vocab.DROP)
            and msg in emits
            and "client" in rec
            and "node" in rec
        ):
            node = rec["node"]
            picked = relayed.get(msg, {}).get(node, t)
            fate = "delivered" if kind == vocab.DELIVER else "dropped"
            hops.append(Hop(msg, kind, ("node", node), ("client", rec["client"]), picked, t, fate))
        elif kind in (vocab.RECEIVE, vocab.DROP) and msg in client_emits and "node" in rec:
            sent = client_emits[msg]
            fate = "received" if kind == vocab.RECEIVE else "dropped"
            hops.append(
                Hop(
                    msg,
                    "client_emit",
                    ("client", sent["client"]),
                    ("node", rec["node"]),
                    sent["t"],
                    t,
                    fate,
                )
            )
        elif kind == vocab.EMIT:
            sender = rec.get("from", rec["node"])
            lane = ("node", sender) if sender == rec["node"] else ("client", sender)
            marks.append(Mark(lane, t, "emit", msg, msg))
            if lane[0] == "client":
                hops.append(Hop(msg, "emit", lane, ("node", rec["node"]), t, t, "sent"))
        elif kind == vocab.PUBLISH:
            mid = format_time((t + first_relay[msg]) / 2) if msg in first_relay else t
            hops.append(Hop(msg, "publish", ("node", rec["node"]), BROKER, t, mid, "published"))
        elif kind == vocab.RELAY:
            pubs = published.get(msg, [])
            mid = format_time((pubs[0]["t"] + first_relay[msg]) / 2) if pubs else t
            if rec.get("ignored"):
                fate = "ignored"
            else:
                fate = "relayed" if rec.get("targets") else "discarded"
            hops.append(Hop(msg, "relay", BROKER, ("node", rec["node"]), mid, t, fate))
        elif kind == vocab.CLIENT_EMIT:
            client_emits[msg] = rec
            marks.append(Mark(("client", rec["client"]), t, "emit", msg, msg))
        elif kind == vocab.CONNECT:
            name = rec["client"]
            if name not in connected:
                connected.add(name)
                marks.append(Mark(("client", name), t, kind, f"connect {rec['node']}"))
            else:
                again = "recovered" if rec.get("recovered") else "reconnect"
                marks.append(Mark(("client", name), t, "reconnect", f"{again} {rec['node']}"))
        elif kind in (vocab.CRASH, vocab.RESTART, vocab.HEAL):
            marks.append(Mark(("node", rec["node"]), t, kind, kind))
        elif kind == vocab.PARTITION:
            direction = rec.get("direction")
            label = f"partition ({direction})" if direction else "partition"
            marks.append(Mark(("node", rec["node"]), t, kind, label))
        elif kind == vocab.BROKER:
            marks.append(Mark(BROKER, t, kind, f"broker {rec.get('state', '?')}"))
        elif kind == vocab.RECONNECT_FAILED:
            marks.append(Mark(("client", rec["client"]), t, kind, "gave up reconnecting"))
        elif kind == vocab.JOIN:
            room = rec["room"]
            marks.append(Mark(("client", rec["client"]), t, kind, f"+{room}", room=room))
        elif kind == vocab.LEAVE:
            room = rec["room"]
            marks.append(Mark(("client", rec["client"]), t, kind, f"-{room}", room=room))
        elif kind == vocab.DISCONNECT:
            marks.append(Mark(("client", rec["client"]), t, kind, "disconnect"))
    return hops, marks


def _awaits(emit: dict[str, Any] | None, publishes: list[dict[str, Any]] | None) -> bool:
    """Whether the emitting node delivered only when its publish returned (a typed publish)."""
    return emit is not None and any(
        p.get("type") and p["node"] == emit["node"] for p in publishes or ()
    )


def _filter(
    records: list[dict[str, Any]],
    hops: list[Hop],
    marks: list[Mark],
    msg: str | None,
    room: str | None,
    client: str | None,
) -> tuple[list[Hop], list[Mark]]:
    keep: set[str] | None = None
    if msg is not None:
        keep = {msg}
    if room is not None:
        sent = {
            r["msg"] for r in records if r["kind"] == vocab.EMIT and room in (r.get("to") or [])
        }
        keep = sent if keep is None else keep & sent
    reach: set[tuple[str, Key]] = set()
    if client is not None:
        mine = {
            r["msg"]
            for r in records
            if "msg" in r
            and (r.get("client") == client or (r["kind"] == vocab.EMIT and r.get("from") == client))
        }
        keep = mine if keep is None else keep & mine
        reach = {(h.msg, h.src) for h in hops if h.dst == ("client", client) and h.kind != "emit"}

    def wanted_hop(h: Hop) -> bool:
        if keep is not None and h.msg not in keep:
            return False
        if client is None:
            return True
        if h.kind in ("deliver", "drop"):
            return h.dst == ("client", client)
        if h.kind == "relay":
            return (h.msg, h.dst) in reach
        return True

    def wanted_mark(m: Mark) -> bool:
        if m.msg is not None:
            return keep is None or m.msg in keep
        if client is not None and m.lane != ("client", client):
            return False
        if room is not None:
            return m.room == room
        return msg is None

    return [h for h in hops if wanted_hop(h)], [m for m in marks if wanted_mark(m)]


def _lanes(history: History, used: set[Key] | None, broker: bool) -> list[Lane]:
    clients_of: dict[str, list[str]] = {}
    for name in history.clients:
        clients_of.setdefault(history.home(name), []).append(name)
    nodes = list(history.nodes)
    for node in clients_of:
        if node not in nodes:
            nodes.append(node)
    nodes.sort(key=natural_key)
    half = (len(nodes) + 1) // 2
    lanes: list[Lane] = []
    for i, node in enumerate(nodes):
        clients = [Lane(("client", c), "client", c, node) for c in clients_of.get(node, [])]
        here = Lane(("node", node), "node", node)
        if i < half:
            lanes += [*clients, here]
            if i == half - 1 and broker:
                lanes.append(Lane(BROKER, "broker", "broker"))
        else:
            lanes += [here, *clients]
    if used is not None:
        lanes = [lane for lane in lanes if lane.key in used]
    return lanes
