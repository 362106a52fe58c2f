"""Why a client did, or did not, get a message: one sentence, from the trace alone.

The rules are Socket.IO's.  The emitting node picks its recipients when it
emits (with the classic Redis adapter; with the sharded one, when its
publish returns, the moment its own copy comes back); every other node
picks its own when the broker's copy arrives (the ``relay`` record), from
its rooms as they are then.  A socket is picked if it is in one of the ``to`` rooms (any socket of
the namespace when there is no ``to``) and in none of the ``except`` rooms;
every socket is in the room named by its own id, and a socket that sends
(``socket.to``, ``socket.broadcast``) puts its own id in ``except``.  A
picked socket gets the message one client latency later, unless it has
disconnected meanwhile, or the link lost it (a ``drop``, with its reason);
a copy that never reached a node (node down, broker down, partition, a
subscription not yet in place) is a ``drop`` of that node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import roomsim.vocabulary as vocab
from roomsim.analysis.history import History, SocketLife
from roomsim.analysis.records import (
    Message,
    as_records,
    check_client,
    message_records,
    round_ms,
)

__all__ = ["REASONS", "Explanation", "explain", "why_not"]

#: Every reason :func:`explain` can give, roughly in the order it looks for them.
REASONS = (
    "delivered",
    "client to server",
    "not emitted",
    "disconnected in flight",
    "dropped",
    "sender",
    "other namespace",
    "joined late",
    "left early",
    "old socket id",
    "not in room",
    "excepted",
    "disconnected",
    "not connected",
    "local",
    "not published",
    "ignored",
    "not relayed",
    "in flight at end",
)


@dataclass(frozen=True)
class Explanation:
    """The answer of :func:`explain`: a reason code and the sentence that says it.

    Attributes
    ----------
    msg, client : str
        The question.
    reason : str
        One of :data:`REASONS`.
    sentence : str
        The answer in words (also ``str(explanation)``).
    """

    msg: str
    client: str
    reason: str
    sentence: str

    def __str__(self) -> str:
        return self.sentence


def why_not(trace: Iterable[dict[str, Any]], msg: str, client: str) -> str:
    """One sentence: why ``client`` did or did not get ``msg``.

    See :func:`explain` (which also gives the reason as a code).

    Examples
    --------
    >>> from roomsim.runner import run_scenario
    >>> from roomsim.scenario import parse_scenario
    >>> run = run_scenario(parse_scenario('''
    ... cluster: {nodes: [n1, n2], adapter: redis}
    ... latency: {client_ms: 5, adapter_ms: 2}
    ... clients: [{name: alice, node: n1}, {name: bob, node: n2, rooms: [game]}]
    ... timeline:
    ...   - {at: 10, emit: {id: m1, from: n1, to: [game], event: tick}}
    ...   - {at: 11, join: {client: alice, rooms: [game]}}
    ... '''))
    >>> print(why_not(run.trace, "m1", "bob"))
    bob got m1: delivered at t=17 ms via n2, which picked its recipients at t=12 ms.
    >>> print(why_not(run.trace, "m1", "alice"))
    alice did not get m1: alice joined game at t=11 ms, after n1 (the emitting node)
    picked the recipients at t=10 ms.
    """
    return explain(trace, msg, client).sentence


def explain(trace: Iterable[dict[str, Any]], msg: str, client: str) -> Explanation:
    """Why ``client`` did or did not get ``msg``, reconstructed from the trace alone.

    Memberships come from the ``connect``, ``join``, ``leave`` and
    ``disconnect`` records; targets from the ``emit`` record's ``to`` and
    ``except`` (rooms and socket ids); the moment each node picked its
    recipients from the ``emit`` (the emitting node) and ``relay`` records.

    Parameters
    ----------
    trace : Trace or iterable of dict
    msg : str
        A message id.
    client : str
        A client name.

    Returns
    -------
    Explanation
        ``reason`` is one of :data:`REASONS`; ``sentence`` says it.

    Raises
    ------
    NotInTrace
        If the trace names no such message or client.

    Examples
    --------
    >>> from roomsim.runner import run_scenario
    >>> from roomsim.scenario import parse_scenario
    >>> run = run_scenario(parse_scenario('''
    ... cluster: {nodes: [n1]}
    ... clients: [{name: alice, node: n1, rooms: [a]}, {name: bob, node: n1, rooms: [a]}]
    ... timeline: [{at: 10, emit: {id: m1, from: alice, to: [a], event: chat}}]
    ... '''))
    >>> e = explain(run.trace, "m1", "alice")
    >>> e.reason
    'sender'
    >>> print(e)
    alice did not get m1: alice sent it, and socket.to and socket.broadcast leave the sender out.
    """
    records = as_records(trace)
    m = message_records(records, msg)
    check_client(records, client)
    return _Explainer(m, client, History(records)).answer()


#: What a drop's reason means, in words.
_DROP_WORDS = {
    vocab.NOT_SUBSCRIBED: "the node's subscription to the channel was not in place yet",
    vocab.LOSS: "the packet was lost on the client's link",
    vocab.VOLATILE: "a volatile message, and the client's transport was busy",
    vocab.NODE_DOWN: "the node was down",
    vocab.BROKER_DOWN: "the broker was down",
    vocab.PARTITION: "the node was cut off from the broker",
}


def _ms(t: float | None) -> str:
    return f"t={round_ms(t)} ms" if t is not None else "an unknown time"


class _Explainer:
    def __init__(self, m: Message, client: str, history: History) -> None:
        self.m, self.client, self.history = m, client, history

    def say(self, reason: str, text: str) -> Explanation:
        return Explanation(self.m.msg, self.client, reason, text)

    def no(self, reason: str, text: str) -> Explanation:
        return self.say(reason, f"{self.client} did not get {self.m.msg}: {text}.")

    def answer(self) -> Explanation:
        m, client = self.m, self.client
        picks = m.pick_times()
        for _, rec in m.delivers:
            if rec["client"] == client:
                node = rec["node"]
                picked = picks.get(node)
                at = f", which picked its recipients at {_ms(picked[1])}" if picked else ""
                return self.say(
                    "delivered",
                    f"{client} got {m.msg}: delivered at {_ms(rec['t'])} via {node}{at}.",
                )
        if m.emit is None:
            return self.not_emitted()
        for _, rec in m.drops:
            if rec.get("client") == client:
                return self.dropped(rec, picks)
        emit = m.emit
        if emit.get("from") == client:
            return self.no(
                "sender",
                f"{client} sent it, and socket.to and socket.broadcast leave the sender out",
            )
        namespace = emit.get("namespace", "/")
        lives = self.history.by_client.get(client, [])
        mine = [life for life in lives if life.namespace == namespace]
        if lives and not mine:
            return self.no(
                "other namespace",
                f"{client} is in namespace {lives[-1].namespace}, and {m.msg} was emitted in"
                f" {namespace} (rooms and broadcasts are per namespace)",
            )
        for life in mine:
            pick = picks.get(life.node)
            if pick is not None and life.alive(pick[0]):
                return self.picking(life, *pick)
        at_emit = [life for life in mine if life.alive(m.emit_seq)]
        if at_emit:
            return self.elsewhere(at_emit[0], picks)
        return self.not_connected(mine, picks)

    # -- no emit: a client-to-server event, or a step that failed -------------------
    def not_emitted(self) -> Explanation:
        m, client = self.m, self.client
        first = m.client_emit or next((rec for _, rec in m.drops), None)
        if first is None:
            why = "; ".join(f"{e.get('step', '?')}: {e.get('message', '')}" for e in m.errors)
            return self.no("not emitted", f"it was never emitted ({why or 'no emit record'})")
        sender, node = first["client"], first.get("node")
        to = f"its node {node}" if node else "the server"
        if sender == client:
            arrived = [rec for _, rec in m.receives]
            lost = [rec for _, rec in m.drops]
            if arrived:
                fate = f"it reached {arrived[0]['node']} at {_ms(arrived[0]['t'])}"
            elif lost:
                fate = f"it was dropped at {_ms(lost[0]['t'])} ({lost[0].get('reason')})"
            else:
                fate = "it had not arrived when the trace ends"
            return self.say(
                "client to server",
                f"{client} sent {m.msg} to {to} (an event for the server, not for clients):"
                f" {fate}.",
            )
        return self.no(
            "client to server",
            f"it is an event {sender} sent to {to}, not a message to clients",
        )

    # -- a drop record for this client ------------------------------------------------
    def dropped(self, rec: dict[str, Any], picks: dict[str, tuple[int, float]]) -> Explanation:
        client, node = self.client, rec.get("node")
        reason = rec.get("reason")
        pick = picks.get(node) if node is not None else None
        life = None
        if reason == vocab.DISCONNECTED and pick is not None:
            life = next(
                (
                    life
                    for life in self.history.by_client.get(client, [])
                    if life.node == node and life.alive(pick[0])
                ),
                None,
            )
        if life is not None and pick is not None:
            if life.end_ms is not None and life.end_ms <= rec["t"]:
                gone = f"{client} disconnected at {_ms(life.end_ms)}"
            elif life.end_ms is not None:
                gone = (
                    f"{client} had closed its socket (the server heard of it at {_ms(life.end_ms)})"
                )
            else:
                gone = f"{client} had closed its socket"
            return self.no(
                "disconnected in flight",
                f"{node} wrote it to {client} at {_ms(pick[1])}, but {gone} while it was in"
                f" flight, so it was dropped at {_ms(rec['t'])}",
            )
        where = f" on {node}" if node else ""
        words = _DROP_WORDS.get(reason or "")
        why = f"{reason}: {words}" if words else reason
        return self.no("dropped", f"it was dropped{where} at {_ms(rec['t'])} ({why})")

    # -- the client's socket was there when its node picked the recipients ------------
    def picking(self, life: SocketLife, seq: int, t: float) -> Explanation:
        moment = f"{self.picker(life.node)} picked the recipients at {_ms(t)}"
        judged = self.judge(life, seq, moment)
        if judged is not None:
            return judged
        return self.no(
            "in flight at end",
            f"{self.picker(life.node)} picked {self.client} at {_ms(t)}, but the run ended"
            f" before it arrived (the trace's last record is at {_ms(self.history.end_ms)})",
        )

    def judge(self, life: SocketLife, seq: int, moment: str) -> Explanation | None:
        """Why the socket was not picked at record ``seq`` (None if it was a target)."""
        emit = self.m.emit
        assert emit is not None
        rooms = life.rooms_at(seq)
        to, excepted = emit.get("to") or [], emit.get("except") or []
        if to and not any(room in rooms for room in to):
            late = self.room_change(life, seq, to, moment)
            if late is not None:
                return late
            return self.no(
                "not in room",
                f"{self.client} was in none of {self.m.msg}'s target rooms ({self.names(to)}) on"
                f" {life.node} when {moment}",
            )
        hit = next((room for room in excepted if room in rooms), None)
        if hit is not None:
            what = "its own room (its socket id)" if hit == life.sid else hit
            return self.no(
                "excepted",
                f"{self.client} was in {what}, which {self.m.msg} leaves out"
                f" (except: {self.names(excepted)})",
            )
        return None

    def room_change(
        self, life: SocketLife, seq: int, to: list[str], moment: str
    ) -> Explanation | None:
        """Joined a target room just after ``seq``, left one just before, or an old id."""
        for s, when, kind, room in life.changes:
            if s > seq and kind == vocab.JOIN and room in to:
                return self.no(
                    "joined late", f"{self.client} joined {room} at {_ms(when)}, after {moment}"
                )
        left = None
        for s, when, kind, room in life.changes:
            if s > seq:
                break
            if kind == vocab.LEAVE and room in to and room in life.rooms_at(s):
                left = (room, when)
        if left is not None:
            return self.no(
                "left early", f"{self.client} left {left[0]} at {_ms(left[1])}, before {moment}"
            )
        old = [sid for sid in to if sid != life.sid and self.history.owner(sid) == self.client]
        if old:
            return self.no(
                "old socket id",
                f"it was sent to {self.client}'s earlier socket id {old[0]}, and"
                f" {self.client} was connected again as {life.sid} (since"
                f" {_ms(life.connect_ms)})",
            )
        return None

    # -- connected, on a node that did not pick recipients ----------------------------
    def elsewhere(self, life: SocketLife, picks: dict[str, tuple[int, float]]) -> Explanation:
        m, client, node = self.m, self.client, life.node
        emit = m.emit
        assert emit is not None
        origin = emit["node"]
        if node in picks:
            return self.no(
                "disconnected",
                f"{client} disconnected from {node} at {_ms(life.end_ms)}, before {node}"
                f" picked the recipients at {_ms(picks[node][1])}",
            )
        if emit.get("local"):
            return self.no(
                "local",
                f"it was a local emit on {origin} (only that node's sockets), and {client}"
                f" was on {node}",
            )
        if not m.publishes:
            return self.no(
                "not published",
                f"{origin} did not publish it to the broker, so no other node had it, and"
                f" {client} was on {node}",
            )
        relays = [(s, rec) for s, rec in m.relays if rec["node"] == node]
        if relays:
            seq, rec = relays[0]
            ignored = rec.get("ignored")
            if ignored == vocab.UNKNOWN_ROOM:
                to = emit.get("to") or []
                moment = f"{node} picked the recipients at {_ms(rec['t'])}"
                late = self.room_change(life, seq, to, moment)
                if late is not None:
                    return late
                ignored = f"unknown room: no socket on {node} was in {self.names(to[:1])}"
            return self.no(
                "ignored",
                f"{node}, {client}'s node, ignored the broker's copy at {_ms(rec['t'])}"
                f" ({ignored})",
            )
        lost = m.node_drops().get(node)
        if lost is not None:
            return self.no(
                "not relayed",
                f"the broker's copy never reached {node}, {client}'s node (dropped at"
                f" {_ms(lost['t'])}: {lost.get('reason')})",
            )
        # no record of this node's pick: judge by the rooms when it was emitted
        judged = self.judge(
            life,
            m.emit_seq,
            f"it was emitted at {_ms(emit['t'])} (the trace has no record of {node}'s pick)",
        )
        if judged is not None:
            return judged
        return self.no(
            "not relayed",
            f"{node}, {client}'s node, never received the broker's copy (the trace's last"
            f" record is at {_ms(self.history.end_ms)})",
        )

    # -- not connected when it was emitted -----------------------------------------------
    def not_connected(
        self, mine: list[SocketLife], picks: dict[str, tuple[int, float]]
    ) -> Explanation:
        m, client = self.m, self.client
        assert m.emit is not None
        sent = f"when it was emitted at {_ms(m.emit['t'])}"
        later = [life for life in mine if life.connect_seq > m.emit_seq]
        if later:
            life = later[0]
            return self.no(
                "not connected",
                f"{client} was not connected {sent} (it connected to {life.node} at"
                f" {_ms(life.connect_ms)})",
            )
        if mine:
            return self.no(
                "not connected",
                f"{client} was not connected {sent} (it disconnected at {_ms(mine[-1].end_ms)})",
            )
        return self.no("not connected", f"{client} never connected")

    # -- words ----------------------------------------------------------------------
    def picker(self, node: str) -> str:
        emit = self.m.emit
        return f"{node} (the emitting node)" if emit is not None and emit["node"] == node else node

    def names(self, rooms: list[Any]) -> str:
        """Rooms by name, a socket id as "bob's own room"."""
        out = []
        for room in rooms:
            owner = self.history.owner(room) if room is not None else None
            out.append(f"{owner}'s own room" if owner is not None else str(room))
        return ", ".join(out)
