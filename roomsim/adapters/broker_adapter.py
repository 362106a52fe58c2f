"""What every broker-backed adapter shares: publishing and recording relays."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from roomsim.adapters.memory import InMemoryAdapter
from roomsim.broker import Broker, BrokerMessage
from roomsim.packet import wire_size

if TYPE_CHECKING:
    from roomsim.namespace import Namespace

__all__ = ["BrokerAdapter"]


class BrokerAdapter(InMemoryAdapter):
    """An adapter that reaches the other nodes through the simulated broker."""

    joins_nodes = True

    def __init__(self, nsp: Namespace, broker: Broker, uid: str) -> None:
        super().__init__(nsp)
        self.broker = broker
        self.uid = uid

    def publish(
        self,
        channel: str,
        payload: Any,
        msg: str | None,
        on_reply: Callable[[], None] | None = None,
    ) -> None:
        """Publish ``payload`` on ``channel``, with a ``publish`` record."""
        nsp = self.nsp
        size = wire_size(payload)
        nsp.trace.record(
            nsp.env.now, "publish", msg=msg, node=nsp.node, channel=channel, bytes=size
        )
        self.broker.publish(channel, BrokerMessage(payload, msg, nsp.node, size), on_reply)

    def relay(
        self, message: BrokerMessage, channel: str, targets: int, ignored: str | None
    ) -> None:
        """Record what this node made of a copy the broker handed it."""
        nsp = self.nsp
        extra = {"ignored": ignored} if ignored is not None else {}
        nsp.trace.record(
            nsp.env.now,
            "relay",
            msg=message.msg,
            node=nsp.node,
            channel=channel,
            targets=targets,
            **extra,
        )
