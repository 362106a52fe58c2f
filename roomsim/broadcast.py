"""The broadcast operator: ``to``, ``in_``, ``except_``, ``local`` ... then ``emit``.

As in Socket.IO 4, the operator is immutable: each call returns a new one,
so ``io.to("a")`` on one line never leaks into ``io.emit()`` on the next.
``in`` and ``except`` are Python keywords, hence ``in_`` and ``except_``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import simpy

from roomsim._sched import call_later, run_handler
from roomsim.packet import RESERVED_EVENTS, BroadcastOptions, Packet
from roomsim.vocabulary import ACK_RESULT, EMIT

if TYPE_CHECKING:
    from roomsim.namespace import Namespace
    from roomsim.socket import Socket

__all__ = ["BroadcastOperator", "check_event"]

Rooms = str | Iterable[str]


def _rooms(rooms: Rooms) -> tuple[str, ...]:
    if isinstance(rooms, str):
        return (rooms,)
    out = tuple(rooms)
    for room in out:
        if not isinstance(room, str):
            raise TypeError(f"a room is a string, got {room!r}")
    return out


def _union(current: tuple[str, ...], more: Rooms) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*current, *_rooms(more))))


def check_event(event: str) -> None:
    """Refuse an event name Socket.IO reserves for itself.

    Examples
    --------
    >>> check_event("chat")
    >>> check_event("disconnect")
    Traceback (most recent call last):
    ...
    ValueError: "disconnect" is a reserved event name
    """
    if event in RESERVED_EVENTS:
        raise ValueError(f'"{event}" is a reserved event name')


class BroadcastOperator:
    """A set of target rooms, rooms to leave out, and flags; ``emit`` sends.

    Made by ``io.to(...)``, ``namespace.except_(...)``, ``socket.broadcast``
    and friends, never directly.  A ``to`` chain is a union, each socket gets
    the message once, and ``except_`` is taken away after the union.  One
    started from a socket always leaves that socket out.
    """

    __slots__ = ("_nsp", "_opts", "_sender")

    def __init__(
        self,
        nsp: Namespace,
        opts: BroadcastOptions | None = None,
        sender: Socket | None = None,
    ) -> None:
        self._nsp = nsp
        self._opts = opts if opts is not None else BroadcastOptions()
        self._sender = sender

    def _with(self, **changes: Any) -> BroadcastOperator:
        return BroadcastOperator(self._nsp, replace(self._opts, **changes), self._sender)

    def to(self, rooms: Rooms) -> BroadcastOperator:
        """Target a room, or a list of rooms (a union with those already named)."""
        return self._with(rooms=_union(self._opts.rooms, rooms))

    in_ = to

    def except_(self, rooms: Rooms) -> BroadcastOperator:
        """Leave out the members of a room or rooms (a socket id is a room)."""
        return self._with(except_rooms=_union(self._opts.except_rooms, rooms))

    @property
    def local(self) -> BroadcastOperator:
        """Only the sockets of this node (nothing is published)."""
        return self._with(local=True)

    @property
    def volatile(self) -> BroadcastOperator:
        """The message may be dropped for a client that cannot take it now."""
        return self._with(volatile=True)

    def compress(self, compress: bool = True) -> BroadcastOperator:
        """Whether to compress (it changes no one's delivery)."""
        return self._with(compress=compress)

    def timeout(self, ms: float) -> BroadcastOperator:
        """Wait at most ``ms`` for acknowledgements."""
        return self._with(timeout=ms)

    @property
    def rooms(self) -> tuple[str, ...]:
        """The target rooms, in the order named (empty: everyone)."""
        return self._opts.rooms

    @property
    def except_rooms(self) -> tuple[str, ...]:
        """The rooms left out (with the sender's own room, from a socket)."""
        return self._opts.except_rooms

    def emit(
        self,
        event: str,
        *args: Any,
        ack: Callable[[BaseException | None, list[Any]], Any] | None = None,
        msg_id: str | None = None,
    ) -> str:
        """Send ``event`` with ``args`` to every matching socket; return its message id.

        With ``ack``, every recipient, on every node, is asked for an
        acknowledgement and ``ack(err, responses)`` runs once: ``err`` is None
        when all answered in time (``responses`` holds each first answer, in
        arrival order), else ``TimeoutError("operation has timed out")`` with
        the answers so far.  Set the wait with :meth:`timeout`: without it the
        timeout fires at once, as in Socket.IO.

        Raises
        ------
        ValueError
            If ``event`` is reserved by Socket.IO (``"disconnect"``, ...).
        """
        check_event(event)
        nsp = self._nsp
        opts = self._opts
        msg = nsp.ctx.new_msg_id(msg_id)
        sender = self._sender
        record: dict[str, Any] = {
            "msg": msg,
            "node": nsp.node,
            "event": event,
            "from": sender.client.name if sender is not None else nsp.node,
            "to": list(opts.rooms),
            "except": list(opts.except_rooms),
        }
        if opts.local:
            record["local"] = True
        if opts.volatile:
            record["volatile"] = True
        if ack is not None:
            record["ack"] = True
        if nsp.name != "/":
            record["namespace"] = nsp.name
        nsp.trace.record(nsp.env.now, EMIT, **record)
        packet = Packet(msg, event, args, nsp.name)
        if (loop := nsp.ctx.loop) is not None:  # room lookup and encoding, once
            loop.charge(loop.profile.emit_cost(loop.size(packet)), "emit")
        if ack is None:
            nsp.adapter.broadcast(packet, opts)
        else:
            _gather_acks(nsp, packet, opts, ack)
        return msg

    # -- utility methods: the same filters, other actions -----------------------------
    def sockets_join(self, rooms: Rooms) -> None:
        """Make every matching socket join ``rooms``, on every node the adapter reaches."""
        self._nsp.adapter.add_sockets(self._opts, list(_rooms(rooms)))

    def sockets_leave(self, rooms: Rooms) -> None:
        """Make every matching socket leave ``rooms``."""
        self._nsp.adapter.del_sockets(self._opts, list(_rooms(rooms)))

    def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every matching socket (``server namespace disconnect``)."""
        self._nsp.adapter.disconnect_sockets(self._opts, close)

    def fetch_sockets(self) -> simpy.Event:
        """An event (``yield`` it) whose value is the matching sockets.

        This node's sockets come as :class:`~roomsim.socket.Socket`, other
        nodes' as :class:`~roomsim.adapters.requests.RemoteSocket`.  If a node
        does not answer in time the event fails with ``TimeoutError``.
        """
        return self._nsp.adapter.fetch_sockets(self._opts)

    def __repr__(self) -> str:
        o = self._opts
        flags = "".join(f".{f}" for f in ("local", "volatile") if getattr(o, f))
        return (
            f"<BroadcastOperator {self._nsp.node}{self._nsp.name}{flags}"
            f" to={list(o.rooms)} except={list(o.except_rooms)}>"
        )


def _gather_acks(
    nsp: Namespace,
    packet: Packet,
    opts: BroadcastOptions,
    ack: Callable[[BaseException | None, list[Any]], Any],
) -> None:
    """Socket.IO's broadcast with acknowledgements.

    Every node reports how many of its sockets it asked; the callback runs
    when every node has reported and every asked socket has answered, or
    when the timeout fires first.
    """
    env = nsp.env
    responses: list[Any] = []
    expected_servers = nsp.adapter.server_count()
    reported = [0, 0]  # nodes that reported, sockets they asked
    settled = False

    def finish(error: BaseException | None) -> None:
        nonlocal settled
        settled = True
        answers = list(responses)
        nsp.trace.record(
            env.now,
            ACK_RESULT,
            msg=packet.msg,
            node=nsp.node,
            error=str(error) if error else None,
            responses=answers,
        )
        run_handler(env, ack, error, answers)

    def check() -> None:
        if not settled and reported[0] == expected_servers and len(responses) == reported[1]:
            finish(None)

    def client_count(count: int) -> None:
        reported[0] += 1
        reported[1] += count
        check()

    def on_answer(answer: Any) -> None:
        if not settled:
            responses.append(answer)
            check()

    def on_timeout() -> None:
        if not settled:
            finish(TimeoutError("operation has timed out"))

    call_later(env, opts.timeout or 0, on_timeout)
    nsp.adapter.broadcast_with_ack(packet, opts, client_count, on_answer)
