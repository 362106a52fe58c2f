"""Links between clients and their nodes, and what arrives at the far end.

A packet written by a node to a set of its sockets arrives ``client_ms``
later.  On arrival the link checks that the client still holds that socket:
if the client went away meanwhile, the pair is recorded as a ``drop`` with
reason ``disconnected``; otherwise it is a ``deliver``, and any handler the
client has for the event runs.

This is the fan-out hot path.  A broadcast to *n* sockets costs one SimPy
event, not *n*: the recipients are a list of socket ids, turned into client
names in one pass, and only the few sockets that need a closer look (a
client with handlers, a socket whose client has gone) are looked at one by
one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy

from roomsim._sched import call_at, call_later, reachable
from roomsim.ids import rng
from roomsim.latency import Delay, delay
from roomsim.packet import Packet
from roomsim.trace import Trace
from roomsim.vocabulary import ACK, DISCONNECTED, LOSS, NODE_DOWN, VOLATILE

if TYPE_CHECKING:
    from roomsim.client import Client
    from roomsim.loop import NodeLoop

__all__ = ["ClientLinks", "LinkSpec"]


_NO_DELAY = Delay("constant", 0.0)


@dataclass(frozen=True)
class LinkSpec:
    """How a client's link behaves: its one-way ``latency``, the chance
    ``loss`` that a packet is lost, and ``transport_ms``, the time the
    transport takes to write one packet (a slow link stays busy longer)."""

    latency: Delay = _NO_DELAY
    loss: float = 0.0
    transport_ms: float = 0.0


class _Link:
    """The state of one socket's link: its random stream and what it is busy with."""

    __slots__ = ("busy_until", "last_arrival", "last_up", "last_write", "spec", "stream")

    def __init__(self, spec: LinkSpec, stream: Any) -> None:
        self.spec = spec
        self.stream = stream
        self.busy_until = 0.0
        #: when the last packet to the client, and the last one from it, arrives
        self.last_arrival = 0.0
        self.last_up = 0.0
        self.last_write = -1.0


class ClientLinks:
    """Every client's link to its node.

    Parameters
    ----------
    env : simpy.Environment
    trace : Trace
    client_ms : float or Delay
        The default one-way latency between a client and its node, in ms.
    seed : int
        Seeds each link's own random stream.

    Links may be set per node or per client with :meth:`configure`.  While
    every link is the constant default (no loss, no slow transport), a
    broadcast costs one SimPy event per node; otherwise the recipients are
    grouped by arrival time.  A link keeps its packets in order (FIFO), as a
    connection does.
    """

    def __init__(
        self, env: simpy.Environment, trace: Trace, client_ms: float | Delay = 0.0, seed: int = 0
    ) -> None:
        self.env = env
        self.trace = trace
        self.seed = seed
        self.default = LinkSpec(delay(client_ms))
        constant = self.default.latency.constant
        #: the default latency when it is constant (the fast path), else None
        self.client_ms = constant if constant is not None else self.default.latency.mean
        self._simple = constant is not None
        #: when the last packet sent the simple way arrives: links made later keep
        #: their packets behind it (a link set while packets are in flight)
        self._simple_until = 0.0
        self._by_node: dict[str, LinkSpec] = {}
        self._by_client: dict[str, LinkSpec] = {}
        self._links: dict[str, _Link] = {}
        self._written_at = -1.0
        self._written: list[list[str]] = []
        #: socket id -> client name, for every socket that ever connected
        self.names: dict[str, str] = {}
        #: socket ids whose deliveries need a closer look, and their client
        self.watched: dict[str, Client] = {}

    def configure(
        self,
        *,
        client: str | None = None,
        node: str | None = None,
        latency: Any = None,
        loss: float | None = None,
        transport_ms: float | None = None,
    ) -> None:
        """Set the link of one client, or of every client of one node.

        A client's own setting wins over its node's, which wins over the
        default.  Unset parts keep the value they had.
        """
        if (client is None) == (node is None):
            raise ValueError("configure one client or one node")
        table, key = (self._by_client, client) if client is not None else (self._by_node, node)
        base = table.get(key, self.default)  # type: ignore[arg-type]
        table[key] = LinkSpec(  # type: ignore[index]
            delay(latency) if latency is not None else base.latency,
            base.loss if loss is None else loss,
            base.transport_ms if transport_ms is None else transport_ms,
        )
        if not 0 <= table[key].loss <= 1:  # type: ignore[index]
            raise ValueError(f"loss must be a probability, got {loss}")
        if self._simple:
            for link in self._links.values():
                link.last_arrival = max(link.last_arrival, self._simple_until)
                link.last_up = max(link.last_up, self._simple_until)
        self._simple = False

    def _spec(self, name: str, node: str) -> LinkSpec:
        return self._by_client.get(name) or self._by_node.get(node) or self.default

    def _link(self, sid: str, node: str) -> _Link:
        link = self._links.get(sid)
        if link is None:
            name = self.names[sid]
            link = self._links[sid] = _Link(
                self._spec(name, node), rng(self.seed, f"link:{name}:{sid}")
            )
            link.last_arrival = link.last_up = self._simple_until
        return link

    def delay(self, client: Client) -> float:
        """One one-way trip on ``client``'s current link (client to server or back)."""
        if self._simple or client.sid is None:
            return self.client_ms
        link = self._link(client.sid, client.node)  # type: ignore[arg-type]
        return link.spec.latency.sample(link.stream)

    def carry(self, client: Client, direction: str, fn: Any, *args: Any) -> None:
        """Call ``fn(*args)`` when a packet ``client``'s link carries from now arrives.

        ``direction`` is ``"up"`` (client to server: an event, an
        acknowledgement, a close) or ``"down"`` (server to client: the
        connection, an acknowledgement's answer, the server's close).  Each
        direction is first in, first out, as a connection is: a packet never
        arrives before one sent earlier the same way (``down`` shares its
        order with the messages :meth:`send` writes).
        """
        if self._simple or client.sid is None:
            if self._simple:
                self._simple_until = self.env.now + self.client_ms
            call_later(self.env, self.client_ms, fn, *args)
            return
        link = self._link(client.sid, client.node)  # type: ignore[arg-type]
        now = self.env.now
        last = link.last_up if direction == "up" else link.last_arrival
        arrival = reachable(now, max(now + link.spec.latency.sample(link.stream), last))
        if direction == "up":
            link.last_up = arrival
        else:
            link.last_arrival = arrival
        call_at(self.env, arrival, fn, *args)

    # -- bookkeeping by the client side --------------------------------------
    def opened(self, sid: str, client: Client) -> None:
        """``client`` holds socket ``sid`` from now on."""
        self.names[sid] = client.name
        if client.has_handlers:
            self.watched[sid] = client

    def watch(self, sid: str, client: Client) -> None:
        """Look at each delivery to ``sid`` (its client reacts, or has gone)."""
        self.watched[sid] = client

    # -- server to client ------------------------------------------------------
    def send(
        self,
        packet: Packet,
        node: str,
        sids: list[str],
        volatile: bool = False,
        loop: NodeLoop | None = None,
    ) -> None:
        """Node ``node`` writes ``packet`` to each socket in ``sids`` now.

        A ``volatile`` packet is dropped for a client whose transport is not
        writable: still busy with an earlier packet, or written to at this
        very instant.  With the node's ``loop``, each frame leaves when the
        loop has written it (see :meth:`NodeLoop.writes`).
        """
        if not sids:
            return
        if loop is not None:
            self._send_costed(packet, node, sids, volatile, loop)
            return
        now = self.env.now
        if self._written_at != now:
            self._written_at, self._written = now, []
        if self._simple and not volatile:
            self._written.append(sids)
            self._simple_until = now + self.client_ms
            if self.client_ms:
                call_later(self.env, self.client_ms, self._arrive, packet, node, sids)
            else:
                self._arrive(packet, node, sids)
            return
        self._send_each(packet, node, sids, volatile, now)

    def _send_costed(
        self, packet: Packet, node: str, sids: list[str], volatile: bool, loop: NodeLoop
    ) -> None:
        """:meth:`send` through a node's loop: one event per group of frames."""
        now = self.env.now
        groups = loop.writes(len(sids), loop.size(packet))
        if self._written_at != now:
            self._written_at, self._written = now, []
        if not (self._simple and not volatile):
            departs = []
            first = 0
            for upto, t in groups:
                departs.extend([t] * (upto - first))
                first = upto
            self._send_each(packet, node, sids, volatile, now, departs)
            return
        self._written.append(sids)
        first = 0
        for upto, t in groups:
            arrival = t + self.client_ms
            self._simple_until = max(self._simple_until, arrival)
            batch = sids[first:upto] if first or upto < len(sids) else sids
            first = upto
            if arrival <= now:
                self._arrive(packet, node, batch)
            else:  # not call_at: finding the exact instant costs more than it is worth here
                call_later(self.env, arrival - now, self._arrive, packet, node, batch)

    def _send_each(
        self,
        packet: Packet,
        node: str,
        sids: list[str],
        volatile: bool,
        now: float,
        departs: list[float] | None = None,
    ) -> None:
        busy_now = {sid for batch in self._written for sid in batch} if volatile else set()
        trace, names = self.trace, self.names
        groups: dict[float, list[str]] = {}
        sent = []
        for i, sid in enumerate(sids):
            link = self._link(sid, node)
            if volatile and (link.busy_until > now or link.last_write == now or sid in busy_now):
                trace.drop(now, packet.msg, VOLATILE, client=names[sid], node=node)
                continue
            spec = link.spec
            if spec.loss and link.stream.random() < spec.loss:
                trace.drop(now, packet.msg, LOSS, client=names[sid], node=node)
                continue
            start = max(now if departs is None else departs[i], link.busy_until)
            link.busy_until = start + spec.transport_ms
            link.last_write = now
            # the instant the packet's event will have, never before the previous packet's
            arrival = reachable(
                now, max(link.busy_until + spec.latency.sample(link.stream), link.last_arrival)
            )
            link.last_arrival = arrival
            groups.setdefault(arrival, []).append(sid)
            sent.append(sid)
        self._written.append(sent)
        for arrival in sorted(groups):
            if arrival <= now:
                self._arrive(packet, node, groups[arrival])
            else:  # at the arrival time exactly: a packet never overtakes an earlier one
                call_at(self.env, arrival, self._arrive, packet, node, groups[arrival])

    def _arrive(self, packet: Packet, node: str, sids: list[str]) -> None:
        watched = self.watched
        now = self.env.now
        if packet.ack is None and (not watched or watched.keys().isdisjoint(sids)):
            self.trace.add_deliveries(
                now,
                packet.msg,
                node,
                packet.event,
                list(map(self.names.__getitem__, sids)),
            )
            return
        # Slow path: keep record order exact while some clients react or are gone.
        trace, names, msg, event = self.trace, self.names, packet.msg, packet.event
        run: list[str] = []
        for sid in sids:
            client = watched.get(sid)
            if client is None:
                run.append(names[sid])
                continue
            if client.sid != sid or not client.connected:
                trace.add_deliveries(now, msg, node, event, run)
                run = []
                reason = NODE_DOWN if client.lost_node(sid) else DISCONNECTED
                trace.drop(now, msg, reason, client=client.name, node=node)
                continue
            run.append(client.name)
            if packet.offset is not None:
                client.last_offset = packet.offset
            if client.handles(event):
                trace.add_deliveries(now, msg, node, event, run)
                run = []
                args = packet.args
                if packet.ack is not None:
                    args = (*args, self._acknowledger(packet, node, sid, client))
                client.dispatch(event, args)
        trace.add_deliveries(now, msg, node, event, run)

    # -- acknowledgements, client to server -------------------------------------------
    def _acknowledger(self, packet: Packet, node: str, sid: str, client: Client) -> Any:
        """The ``ack`` function a client's handler gets; it answers once."""
        answered = False

        def ack(*args: Any) -> None:
            nonlocal answered
            if answered:
                return
            answered = True
            if client.sid == sid and client.connected:
                self.carry(client, "up", self._ack_arrives, packet, node, sid, client, args)

        return ack

    def _ack_arrives(
        self, packet: Packet, node: str, sid: str, client: Client, args: tuple[Any, ...]
    ) -> None:
        socket = client.socket
        if socket is None or socket.id != sid or not socket.connected:
            return  # Socket.IO ignores packets from a socket that has gone
        if (loop := socket.nsp.ctx.loop) is not None:
            loop.charge(loop.profile.ack_ms, "ack")
        self.trace.record(self.env.now, ACK, msg=packet.msg, client=client.name, node=node)
        packet.ack(sid, args)  # type: ignore[misc]
