"""What cluster-wide requests share: waiting for answers, and remote sockets.

``fetch_sockets`` and ``server_side_emit`` ask the other nodes and wait for a
known number of answers, with a timeout; ``fetch_sockets`` returns the
sockets of other nodes as :class:`RemoteSocket` descriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from roomsim._sched import call_later

if TYPE_CHECKING:
    from roomsim.adapters.interface import AdapterNamespace

__all__ = ["PendingRequest", "RemoteSocket", "describe", "settle"]


def settle(event: simpy.Event, value: Any = None, error: BaseException | None = None) -> None:
    """Succeed or fail ``event`` once; a failure nobody waits for does not stop the run."""
    if event.triggered:
        return
    if error is None:
        event.succeed(value)
    else:
        event.defused = True
        event.fail(error)  # type: ignore[arg-type]  # simpy types it Exception


class PendingRequest:
    """A request waiting for ``expected`` answers, or for its timeout.

    ``on_done(answers)`` runs when the last answer arrives;
    ``on_timeout(answers_so_far, received)`` when time runs out first.
    """

    def __init__(
        self,
        env: simpy.Environment,
        expected: int,
        timeout_ms: float,
        on_done: Callable[[list[Any]], None],
        on_timeout: Callable[[list[Any], int], None],
        answers: list[Any] | None = None,
    ) -> None:
        self.expected = expected
        self.received = 0
        self.answers: list[Any] = answers if answers is not None else []
        self.open = True
        self._on_done = on_done
        self._on_timeout = on_timeout
        call_later(env, timeout_ms, self._expire)

    def answer(self, *items: Any) -> None:
        """One node answered with ``items``."""
        if not self.open:
            return
        self.received += 1
        self.answers.extend(items)
        if self.received >= self.expected:
            self.open = False
            self._on_done(self.answers)

    def _expire(self) -> None:
        if self.open:
            self.open = False
            self._on_timeout(self.answers, self.received)


@dataclass
class RemoteSocket:
    """A socket of another node, as ``fetch_sockets`` describes it.

    ``emit``, ``join``, ``leave`` and ``disconnect`` go through the cluster,
    as operators on the socket's own room.
    """

    id: str
    rooms: set[str]
    data: dict[str, Any]
    node: str
    nsp: AdapterNamespace = field(repr=False, compare=False)

    def emit(self, event: str, *args: Any, msg_id: str | None = None) -> str:
        return self.nsp.to(self.id).emit(event, *args, msg_id=msg_id)

    def join(self, rooms: str | list[str]) -> None:
        self.nsp.in_(self.id).sockets_join(rooms)

    def leave(self, room: str) -> None:
        self.nsp.in_(self.id).sockets_leave(room)

    def disconnect(self, close: bool = False) -> None:
        self.nsp.in_(self.id).disconnect_sockets(close)


def describe(
    nsp: AdapterNamespace, rooms_of: Mapping[str, Any], sids: list[str]
) -> list[dict[str, Any]]:
    """The wire description of local sockets: ``{id, rooms, data, node}`` each
    (``rooms_of``: socket id -> its rooms, the adapter's ``sids``)."""
    return [
        {
            "id": sid,
            "rooms": list(rooms_of.get(sid, ())),
            "data": nsp.sockets[sid].data,
            "node": nsp.node,
        }
        for sid in sids
        if sid in nsp.sockets
    ]
