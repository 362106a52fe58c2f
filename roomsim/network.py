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

from typing import TYPE_CHECKING, Any

import simpy

from roomsim._sched import call_later
from roomsim.packet import Packet
from roomsim.trace import Trace

if TYPE_CHECKING:
    from roomsim.client import Client

__all__ = ["ClientLinks"]


class ClientLinks:
    """Every client's link to its node, with one latency each way.

    Parameters
    ----------
    env : simpy.Environment
    trace : Trace
    client_ms : float
        One-way latency between a client and its node, in ms.
    """

    def __init__(self, env: simpy.Environment, trace: Trace, client_ms: float = 0.0) -> None:
        if client_ms < 0:
            raise ValueError(f"client_ms must be >= 0, got {client_ms}")
        self.env = env
        self.trace = trace
        self.client_ms = client_ms
        #: socket id -> client name, for every socket that ever connected
        self.names: dict[str, str] = {}
        #: socket ids whose deliveries need a closer look, and their client
        self.watched: dict[str, Client] = {}

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
    def send(self, packet: Packet, node: str, sids: list[str]) -> None:
        """Node ``node`` writes ``packet`` to each socket in ``sids`` now."""
        if not sids:
            return
        if self.client_ms:
            call_later(self.env, self.client_ms, self._arrive, packet, node, sids)
        else:
            self._arrive(packet, node, sids)

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
                trace.record(
                    now,
                    "drop",
                    msg=msg,
                    client=client.name,
                    node=node,
                    reason="disconnected",
                )
                continue
            run.append(client.name)
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
                call_later(
                    self.env, self.client_ms, self._ack_arrives, packet, node, sid, client, args
                )

        return ack

    def _ack_arrives(
        self, packet: Packet, node: str, sid: str, client: Client, args: tuple[Any, ...]
    ) -> None:
        socket = client.socket
        if socket is None or socket.id != sid or not socket.connected:
            return  # Socket.IO ignores packets from a socket that has gone
        self.trace.record(self.env.now, "ack", msg=packet.msg, client=client.name, node=node)
        packet.ack(sid, args)  # type: ignore[misc]
