"""Checks a trace against Socket.IO's guarantees, and the accounting of every message.

:func:`check` reports, as :class:`Violation` s:

- ``duplicate``: a socket got the same message twice (at most once, per
  connection: a client that reconnects elsewhere may get it again on its new
  socket, as in Socket.IO);
- ``order``: a connection got two messages of one node out of the order
  that node wrote them (per-connection order);
- ``disconnected``: a message reached a socket that was not connected when
  its node picked the recipients, or after the socket's ``disconnect``
  when the client had closed it (a server-side disconnect or a crash reaches
  the client one latency later: packets written before it may still arrive);
- ``non-member``: a socket in none of the target rooms, or in an excluded one;
- ``sender``: the socket that sent a ``socket.to(...)``/``broadcast`` got it;
- ``namespace``: a socket of another namespace than the emit's got it;
- ``time``: a record before time 0 or before the record above it, a
  delivery before its emit;
- ``lost``: a targeted (message, socket) pair with neither ``deliver`` nor
  ``drop``: a socket its node picked, a socket a dropped copy was meant
  for (a node-level ``drop`` is followed by one for each of them), or a
  node with sockets the message targets that has no ``relay``, no ``pick``
  and no node-level ``drop`` of it;
- ``accounting``: a node picked more (or fewer) sockets than match the
  emit, or more ``deliver``/``drop`` records than it picked.

The checks read the records only, in one pass, so they work on a saved
trace too, and on a trace of any size: what they keep is the sockets and
their rooms, and the messages still in flight (a message's recipients are
forgotten once each has its outcome).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import roomsim.vocabulary as vocab
from roomsim.vocabulary import CLIENT_SIDE_REASONS

__all__ = ["AFTER_PICK", "Checker", "Violation", "check"]

Record = dict[str, Any]

#: drop reasons of a socket that was picked (the others: its node never got the message)
AFTER_PICK = frozenset({vocab.DISCONNECTED, vocab.NODE_DOWN, vocab.VOLATILE, vocab.LOSS})

#: at most this many ``lost`` violations per picked set; the rest are counted in one
LOST_SHOWN = 5


@dataclass(frozen=True)
class Violation:
    """One broken rule: its ``rule``, the message and client, what happened, and when."""

    rule: str
    msg: str
    client: str | None
    detail: str
    t: float | None = None

    def __str__(self) -> str:
        who = f", client {self.client}" if self.client else ""
        when = f"t={self.t} " if self.t is not None else ""
        return f"{when}{self.rule}: message {self.msg}{who}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        """The violation as plain data (for ``roomsim check --json``)."""
        return {
            "rule": self.rule,
            "msg": self.msg,
            "client": self.client,
            "t": self.t,
            "detail": self.detail,
        }


class _Sock:
    """One server-side socket: from its ``connect`` record to its ``disconnect``."""

    __slots__ = (
        "client",
        "client_closed",
        "closed_seq",
        "closed_t",
        "last_pick",
        "namespace",
        "node",
        "opened_seq",
        "other",
        "prev",
        "rooms",
        "sid",
    )

    def __init__(self, client: str, sid: str, node: str, namespace: str, seq: int) -> None:
        self.client, self.sid, self.node, self.namespace = client, sid, node, namespace
        self.opened_seq = seq
        self.closed_seq: int | None = None
        self.closed_t: float | None = None
        self.client_closed = False
        self.rooms: tuple[str, ...] = ()
        self.last_pick = -1
        #: the client's socket on another node (a short chain, usually empty)
        self.other: _Sock | None = None
        #: the client's socket before this one on the same node (packets may be in flight)
        self.prev: _Sock | None = None


class _Expect:
    """Sockets that must each end as a ``deliver`` or ``drop``: a node's ``pick``,
    or the sockets a copy the node never got was meant for (a node-level ``drop``)."""

    __slots__ = ("done", "msg", "node", "pending", "seq", "t", "targets")

    def __init__(
        self, msg: str, node: str, seq: int, t: float, targets: int | None, pending: set[_Sock]
    ) -> None:
        self.msg, self.node, self.seq, self.t, self.targets = msg, node, seq, t, targets
        self.pending = pending
        self.done: set[_Sock] = set()


class _Emit:
    __slots__ = ("ack", "exclude", "namespace", "node", "nodes", "sender", "t", "to")

    def __init__(self, rec: Record) -> None:
        self.t = rec["t"]
        self.node = rec["node"]
        self.namespace = rec.get("namespace", "/")
        self.to = tuple(rec.get("to") or ())
        self.exclude = tuple(rec.get("except") or ())
        self.sender = rec.get("from")
        self.ack = bool(rec.get("ack"))
        #: nodes that had sockets it targets and have not yet said what became of it
        self.nodes: set[str] = set()


class Checker:
    """The checks of :func:`check`, fed one record at a time.

    Parameters
    ----------
    complete : bool
        Whether the run ended by itself; ``False`` (a run stopped by
        ``until``) skips what is still in flight at the end.

    Examples
    --------
    >>> checker = Checker()
    >>> checker.add({"t": 5, "kind": "deliver", "msg": "m1", "client": "a", "node": "n1"})
    >>> [v.rule for v in checker.finish()]
    ['time']
    """

    def __init__(self, complete: bool = True) -> None:
        self.complete = complete
        self.violations: list[Violation] = []
        self._seq = -1
        self._t: float = 0
        self._emits: dict[str, _Emit] = {}
        self._expects: dict[tuple[str, str], list[_Expect]] = {}
        self._ended: dict[tuple[str, str], int] = {}  # (msg, node) -> seq of its last finished set
        self._retired: deque[tuple[float, _Expect]] = deque()
        self._grace: float = 0  # the longest a picked socket waited for its outcome
        self._by_client: dict[str, _Sock] = {}
        self._by_sid: dict[str, _Sock] = {}
        self._rooms: dict[tuple[str, str], dict[str, set[_Sock]]] = {}
        self._all: dict[tuple[str, str], set[_Sock]] = {}
        self._waiting: dict[str, set[str]] = {}  # node -> messages it owes a record of
        self._last_connect: dict[str, _Sock] = {}

    # -- feeding -------------------------------------------------------------------
    def add(self, rec: Record) -> None:
        """Check one record (records must come in trace order)."""
        self._seq += 1
        t = rec["t"]
        kind = rec["kind"]
        if t < 0:
            self._flag("time", rec, rec.get("client"), f"a {kind} record at a negative time")
        elif t < self._t:
            self._flag(
                "time",
                rec,
                rec.get("client"),
                f"a {kind} record before the one above (t={self._t})",
            )
        else:
            self._t = t
        if self._retired and self._retired[0][0] + self._grace < self._t:
            self._forget()
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, rec)

    def add_relays(
        self, t: int | float, msg: str, nodes: list[str], channel: str, ignored: str
    ) -> None:
        """Check the ``relay`` records of :meth:`Trace.relays <roomsim.trace.Trace.relays>`
        (each node of ``nodes`` threw its copy away), as :meth:`add` would one by one."""
        if t < self._t or t < 0 or (self._retired and self._retired[0][0] + self._grace < t):
            for node in nodes:  # something to flag or forget: the careful path
                self.add(
                    {"t": t, "kind": vocab.RELAY, "msg": msg, "node": node,
                     "channel": channel, "targets": 0, "ignored": ignored}
                )  # fmt: skip
            return
        self._seq += len(nodes)
        self._t = t
        if msg in self._emits:
            for node in nodes:
                self._heard(msg, node)

    def finish(self) -> list[Violation]:
        """Every violation found (what is still owed counts as ``lost`` when complete)."""
        if self.complete:
            for expects in self._expects.values():
                for expect in expects:
                    self._lost(expect)
            for msg, emit in self._emits.items():
                for node in sorted(emit.nodes):
                    self.violations.append(
                        Violation(
                            "lost",
                            msg,
                            None,
                            f"node {node} had sockets it targets but has no relay, pick or drop",
                            emit.t,
                        )
                    )
        self._expects.clear()
        return self.violations

    # -- helpers ---------------------------------------------------------------------
    def _flag(self, rule: str, rec: Record, client: str | None, detail: str, t: Any = None) -> None:
        msg = rec.get("msg") or "-"
        self.violations.append(Violation(rule, msg, client, detail, rec["t"] if t is None else t))

    def _socket(self, client: str, node: str) -> _Sock | None:
        sock = self._by_client.get(client)
        while sock is not None and sock.node != node:
            sock = sock.other
        return sock

    def _room(self, node: str, namespace: str, room: str) -> Iterable[_Sock]:
        members = self._rooms.get((node, namespace), {}).get(room)
        if members is not None:
            return members
        own = self._by_sid.get(room)
        if own is not None and own.node == node and own.namespace == namespace:
            return (own,)
        return ()

    def _select(self, emit: _Emit, node: str) -> set[_Sock]:
        """The sockets of ``node`` the emit targets now: union of ``to`` minus ``except``."""
        ns = emit.namespace
        if emit.to:
            found: set[_Sock] = set()
            for room in emit.to:
                found.update(self._room(node, ns, room))
        else:
            found = set(self._all.get((node, ns), ()))
        for room in emit.exclude:
            found.difference_update(self._room(node, ns, room))
        return found

    def _targets_any(self, emit: _Emit, node: str) -> bool:
        ns = emit.namespace
        excluded: set[_Sock] = set()
        for room in emit.exclude:
            excluded.update(self._room(node, ns, room))
        if emit.to:
            return any(s not in excluded for room in emit.to for s in self._room(node, ns, room))
        return any(s not in excluded for s in self._all.get((node, ns), ()))

    def _expect(self, rec: Record, targets: int | None, pending: set[_Sock]) -> None:
        expect = _Expect(rec["msg"], rec["node"], self._seq, rec["t"], targets, pending)
        self._expects.setdefault((expect.msg, expect.node), []).append(expect)
        if not pending:
            self._retire(expect)

    def _retire(self, expect: _Expect) -> None:
        self._retired.append((self._t, expect))

    def _forget(self) -> None:
        """Forget finished sets whose outcomes are long past (a late one is still caught)."""
        retired = self._retired
        while retired and retired[0][0] + self._grace < self._t:
            _, expect = retired.popleft()
            key = (expect.msg, expect.node)
            expects = self._expects.get(key)
            if expects is None or expect not in expects:
                continue
            expects.remove(expect)
            if not expects:
                del self._expects[key]
            self._ended[key] = expect.seq

    def _lost(self, expect: _Expect) -> None:
        if not expect.pending:
            return
        names = sorted(s.client for s in expect.pending)
        where = f"node {expect.node} {'picked' if expect.targets is not None else 'lost'} it"
        for name in names[:LOST_SHOWN]:
            self.violations.append(
                Violation(
                    "lost", expect.msg, name, f"{where} for it: no deliver, no drop", expect.t
                )
            )
        if len(names) > LOST_SHOWN:
            self.violations.append(
                Violation(
                    "lost",
                    expect.msg,
                    None,
                    f"{where} for {len(names) - LOST_SHOWN} more sockets: no deliver, no drop",
                    expect.t,
                )
            )

    def _heard(self, msg: str | None, node: str) -> None:
        """Node ``node`` said what became of ``msg`` (a relay, pick or drop)."""
        emit = self._emits.get(msg) if msg is not None else None
        if emit is not None and node in emit.nodes:
            emit.nodes.discard(node)
            waiting = self._waiting.get(node)
            if waiting is not None:
                waiting.discard(msg)  # type: ignore[arg-type]

    def _excuse(self, node: str, crashed: bool = False) -> None:
        """A socket left a room on ``node``, or ``node`` crashed: what it owed for a
        message it now has no socket for may rightly never come (the room may be
        gone, and with it the subscription).  What it still has sockets for it owes."""
        waiting = self._waiting.get(node)
        if not waiting:
            return
        for msg in list(waiting):
            emit = self._emits.get(msg)
            if emit is None or crashed or not self._targets_any(emit, node):
                waiting.discard(msg)
                if emit is not None:
                    emit.nodes.discard(node)

    def _close(self, sock: _Sock, rec: Record) -> None:
        sock.closed_seq, sock.closed_t = self._seq, rec["t"]
        # a crash closes the connection at the server's end: what the node had
        # written before it still reaches the client (as the real thing does)
        sock.client_closed = rec.get("reason") in CLIENT_SIDE_REASONS and not rec.get("crash")
        key = (sock.node, sock.namespace)
        self._all.get(key, set()).discard(sock)
        rooms = self._rooms.get(key, {})
        for room in sock.rooms:
            members = rooms.get(room)
            if members is not None:
                members.discard(sock)
                if not members:
                    del rooms[room]
        if self._by_sid.get(sock.sid) is sock:
            del self._by_sid[sock.sid]
        self._excuse(sock.node)

    # -- records -----------------------------------------------------------------------
    def _on_connect(self, rec: Record) -> None:
        client, node = rec["client"], rec["node"]
        sock = _Sock(client, rec["sid"], node, rec.get("namespace", "/"), self._seq)
        first = self._by_client.get(client)
        if first is not None:  # keep one socket per node: the newest
            chain: _Sock | None = first
            previous: _Sock | None = None
            while chain is not None and chain.node != node:
                previous, chain = chain, chain.other
            if chain is not None:
                sock.other, sock.prev = chain.other, chain
                chain.other = None
                if previous is None:
                    first = sock
                else:
                    previous.other = sock
            else:
                sock.other = first
                first = sock
            self._by_client[client] = first
        else:
            self._by_client[client] = sock
        self._by_sid[sock.sid] = sock
        self._all.setdefault((node, sock.namespace), set()).add(sock)
        self._last_connect[node] = sock

    def _on_join(self, rec: Record) -> None:
        sock = self._socket(rec["client"], rec["node"])
        room = rec["room"]
        if sock is None or sock.closed_seq is not None or room == sock.sid or room in sock.rooms:
            return
        sock.rooms = (*sock.rooms, room)
        rooms = self._rooms.setdefault((sock.node, sock.namespace), {})
        rooms.setdefault(room, set()).add(sock)

    def _on_leave(self, rec: Record) -> None:
        sock = self._socket(rec["client"], rec["node"])
        room = rec["room"]
        if sock is None or sock.closed_seq is not None or room not in sock.rooms:
            return
        sock.rooms = tuple(r for r in sock.rooms if r != room)
        rooms = self._rooms.get((sock.node, sock.namespace), {})
        members = rooms.get(room)
        if members is not None:
            members.discard(sock)
            if not members:
                del rooms[room]
        self._excuse(sock.node)

    def _on_disconnect(self, rec: Record) -> None:
        sock = self._by_sid.get(rec.get("sid", ""))
        if sock is None or sock.node != rec["node"]:
            sock = self._socket(rec["client"], rec["node"])
        if sock is not None and sock.closed_seq is None:
            self._close(sock, rec)

    def _on_crash(self, rec: Record) -> None:
        self._excuse(rec["node"], crashed=True)

    def _on_emit(self, rec: Record) -> None:
        emit = self._emits[rec["msg"]] = _Emit(rec)
        node = emit.node
        if self._targets_any(emit, node):  # its own node always writes to its sockets
            emit.nodes.add(node)
            self._waiting.setdefault(node, set()).add(rec["msg"])

    def _on_publish(self, rec: Record) -> None:
        emit = self._emits.get(rec.get("msg"))  # type: ignore[arg-type]
        if emit is None or emit.t != rec["t"] or rec["node"] != emit.node:
            return
        for node, ns in list(self._all):  # the other nodes it targets must each say
            if (
                ns == emit.namespace
                and node != emit.node
                and node not in emit.nodes
                and self._targets_any(emit, node)
            ):
                emit.nodes.add(node)
                self._waiting.setdefault(node, set()).add(rec["msg"])

    def _on_relay(self, rec: Record) -> None:
        self._heard(rec.get("msg"), rec["node"])

    def _on_pick(self, rec: Record) -> None:
        msg, node, targets = rec["msg"], rec["node"], rec["targets"]
        self._heard(msg, node)
        if rec.get("recovered"):  # a packet the reconnected socket missed
            sock = self._last_connect.get(node)
            self._expect(rec, targets, {sock} if sock is not None and targets else set())
            return
        emit = self._emits.get(msg)
        if emit is None:
            self._flag("time", rec, None, f"node {node} picked recipients before the emit")
            return
        pending = self._select(emit, node)
        if len(pending) != targets:
            self._flag(
                "accounting",
                rec,
                None,
                f"node {node} picked {targets} sockets but {len(pending)} match the emit",
            )
        self._expect(rec, targets, pending)

    def _on_drop(self, rec: Record) -> None:
        msg, node = rec.get("msg"), rec.get("node")
        if msg is None or node is None:
            return  # a client-side drop (sent while not connected)
        client = rec.get("client")
        if client is None:  # a copy the node never got; its sockets' drops follow
            self._heard(msg, node)
            emit = self._emits.get(msg)
            if emit is not None:
                self._expect(rec, None, self._select(emit, node))
            return
        sock = self._socket(client, node)
        if sock is not None and self._match(msg, node, sock, rec["t"]) is not None:
            return
        if rec.get("reason") in AFTER_PICK and (
            (msg, node) in self._expects or (msg, node) in self._ended
        ):
            self._flag(
                "accounting", rec, client, f"a drop more than the sockets node {node} picked"
            )

    def _match(self, msg: str, node: str, sock: _Sock, t: float) -> tuple[_Sock, _Expect] | None:
        """The socket of ``sock``'s client on ``node`` (it, or an earlier one) and the
        open set it was waiting in for ``msg``, now ended."""
        expects = self._expects.get((msg, node))
        if not expects:
            return None
        candidate: _Sock | None = sock
        while candidate is not None:
            for expect in expects:
                if candidate in expect.pending:
                    expect.pending.discard(candidate)
                    expect.done.add(candidate)
                    if t - expect.t > self._grace:
                        self._grace = t - expect.t
                    if not expect.pending:
                        self._retire(expect)
                    return candidate, expect
            candidate = candidate.prev
        return None

    def _on_deliver(self, rec: Record) -> None:
        msg, client, node, t = rec["msg"], rec["client"], rec["node"], rec["t"]
        emit = self._emits.get(msg)
        if emit is not None and t < emit.t:
            self._flag("time", rec, client, f"delivered before its emit at t={emit.t}")
        newest = self._socket(client, node)
        found = self._match(msg, node, newest, t) if newest is not None else None
        if found is not None:
            sock, expect = found
            if sock.client_closed and sock.closed_seq is not None:
                self._flag(
                    "disconnected",
                    rec,
                    client,
                    f"delivered after the socket's disconnect at t={sock.closed_t}",
                )
            elif expect.targets is None:
                self._flag("lost", rec, client, f"delivered on {node}, which never got it")
            if sock.last_pick > expect.seq:
                self._flag("order", rec, client, f"arrived after a message {node} wrote later")
            else:
                sock.last_pick = expect.seq
            return
        self._stray(rec, emit, newest)

    def _stray(self, rec: Record, emit: _Emit | None, sock: _Sock | None) -> None:
        """A delivery to a socket no open set was waiting for: say which rule it breaks."""
        msg, client, node = rec["msg"], rec["client"], rec["node"]
        expects = self._expects.get((msg, node), [])
        if any(s in e.done for s in _chain(sock) for e in expects):
            if emit is None or not emit.ack:
                # (a broadcast with acknowledgements whose request outlives its
                # timeout reaches the classic Redis adapter's own sockets twice,
                # as in Socket.IO: not counted)
                self._flag("duplicate", rec, client, "delivered again")
            return
        if emit is None:
            self._flag("time", rec, client, "delivered before its emit")
            return
        picked = [e.seq for e in expects if e.targets is not None]
        if (msg, node) in self._ended:
            picked.append(self._ended[(msg, node)])
        if not picked:
            self._flag("accounting", rec, client, f"delivered on {node}, which never picked it")
            return
        if sock is None:
            self._flag("non-member", rec, client, f"no socket on {node}")
        elif sock.namespace != emit.namespace:
            self._flag(
                "namespace",
                rec,
                client,
                f"its socket is in {sock.namespace}, the emit in {emit.namespace}",
            )
        elif sock.opened_seq > max(picked) or (
            sock.closed_seq is not None and sock.closed_seq < max(picked)
        ):
            self._flag("disconnected", rec, client, f"not connected to {node} when it picked")
        elif emit.sender == client and sock.sid in emit.exclude:
            self._flag("sender", rec, client, "the sender got its own broadcast")
        elif (msg, node) in self._ended and not expects:
            self._flag("duplicate", rec, client, f"an outcome more than node {node} picked")
        else:
            self._flag("non-member", rec, client, f"not in the rooms {list(emit.to)} targets")


def _chain(sock: _Sock | None) -> Iterable[_Sock]:
    while sock is not None:
        yield sock
        sock = sock.prev


_HANDLERS = {
    vocab.CONNECT: Checker._on_connect,
    vocab.JOIN: Checker._on_join,
    vocab.LEAVE: Checker._on_leave,
    vocab.DISCONNECT: Checker._on_disconnect,
    vocab.CRASH: Checker._on_crash,
    vocab.EMIT: Checker._on_emit,
    vocab.PUBLISH: Checker._on_publish,
    vocab.RELAY: Checker._on_relay,
    vocab.PICK: Checker._on_pick,
    vocab.DROP: Checker._on_drop,
    vocab.DELIVER: Checker._on_deliver,
}


def check(trace: Iterable[Record], *, complete: bool = True) -> list[Violation]:
    """Every violation in ``trace`` (an empty list when all is well).

    ``trace`` is a :class:`~roomsim.trace.Trace` or any iterable of records
    in trace order (a saved trace read line by line: see
    :func:`roomsim.analysis.jsonl.read_records`); it is read once.
    ``complete=False`` skips the accounting of messages still in flight at
    the end of the trace (a run stopped by ``until``).

    Examples
    --------
    >>> import roomsim
    >>> sim = roomsim.Cluster(nodes=2, client_ms=5, adapter_ms=2)
    >>> a = sim.connect("a", node="n1", rooms=["r"]); b = sim.connect("b", node="n2")
    >>> _ = sim.io("n2").to("r").emit("news")
    >>> sim.run()
    >>> check(sim.trace)
    []
    >>> records = list(sim.trace) + [dict(list(sim.trace.records("deliver"))[0])]
    >>> [(v.rule, v.client) for v in check(records)]
    [('duplicate', 'a')]
    """
    if isinstance(trace, str):
        raise TypeError(
            f"check(trace) checks a trace against Socket.IO's rules; {trace!r} is not a trace."
            " To check an exercise answer, call"
            " roomsim.exercises.check_answer(exercise_id, answer)."
        )
    checker = Checker(complete)
    for rec in trace:
        checker.add(rec)
    return checker.finish()
