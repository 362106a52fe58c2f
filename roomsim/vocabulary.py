"""The trace's words: every record kind, drop reason and ``ignored`` value a run writes.

One list per kind of word, in the order docs/scenario-format.md gives them.
The model still writes these as plain strings; a test checks that the
strings it writes, this module and the format's tables are the same sets,
so a new kind or reason cannot be added to one and forgotten in the others.

Examples
--------
>>> from roomsim import vocabulary as v
>>> v.DROP in v.KINDS and "loss" in v.DROP_REASONS
True
>>> v.OWN_MESSAGE in v.IGNORED
True
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ACK",
    "ACK_RESULT",
    "BROKER",
    "BROKER_DOWN",
    "CLIENT_EMIT",
    "CLIENT_SIDE_REASONS",
    "CONNECT",
    "CRASH",
    "DELIVER",
    "DISCONNECT",
    "DISCONNECTED",
    "DISCONNECTING",
    "DROP",
    "DROP_REASONS",
    "EMIT",
    "ERROR",
    "FETCH_RESULT",
    "HEAL",
    "IGNORED",
    "JOIN",
    "KINDS",
    "LEAVE",
    "LOSS",
    "NODE_DOWN",
    "NOT_CONNECTED",
    "NOT_SUBSCRIBED",
    "OTHER_NAMESPACE",
    "OWN_MESSAGE",
    "PARTITION",
    "PICK",
    "PUBLISH",
    "RECEIVE",
    "RECONNECT_FAILED",
    "RELAY",
    "RESTART",
    "SERVER_SIDE_RECEIVE",
    "UNKNOWN_ROOM",
    "VOLATILE",
]

# -- record kinds of version 1 -----------------------------------------------------------

CONNECT: Final = "connect"  #: a socket is connected (server side)
JOIN: Final = "join"  #: one socket joined one room
LEAVE: Final = "leave"  #: one socket left one room
EMIT: Final = "emit"  #: an emit starts on a node
DELIVER: Final = "deliver"  #: a client received a message
DROP: Final = "drop"  #: a message meant for a client or a node was lost (with a reason)
DISCONNECTING: Final = "disconnecting"  #: the socket is going; it still has its rooms
DISCONNECT: Final = "disconnect"  #: the socket is gone; it is in no room
ERROR: Final = "error"  #: a step that could not be done

# -- record kinds roomsim adds -----------------------------------------------------------

PUBLISH: Final = "publish"  #: a node hands a message to the broker
RELAY: Final = "relay"  #: the broker's copy reaches a node
CLIENT_EMIT: Final = "client_emit"  #: a client sends an event to its node
RECEIVE: Final = "receive"  #: a client's event reaches its node
ACK: Final = "ack"  #: a client's acknowledgement reaches its node
PICK: Final = "pick"  #: a node chose its local recipients of a message
CRASH: Final = "crash"  #: a node dies
RESTART: Final = "restart"  #: a node comes back, empty
RECONNECT_FAILED: Final = "reconnect_failed"  #: a client stops retrying
BROKER: Final = "broker"  #: the broker goes down or comes up (``state``)
PARTITION: Final = "partition"  #: a node is cut from the broker
HEAL: Final = "heal"  #: the cut is repaired
ACK_RESULT: Final = "ack_result"  #: the answers to an emit or request asking for them
FETCH_RESULT: Final = "fetch_result"  #: the sockets ``fetch_sockets`` found
SERVER_SIDE_RECEIVE: Final = "server_side_receive"  #: a node got a ``serverSideEmit``

#: every record kind a run writes
KINDS: Final[tuple[str, ...]] = (
    CONNECT,
    JOIN,
    LEAVE,
    EMIT,
    DELIVER,
    DROP,
    DISCONNECTING,
    DISCONNECT,
    ERROR,
    PUBLISH,
    RELAY,
    CLIENT_EMIT,
    RECEIVE,
    ACK,
    PICK,
    CRASH,
    RESTART,
    RECONNECT_FAILED,
    BROKER,
    PARTITION,
    HEAL,
    ACK_RESULT,
    FETCH_RESULT,
    SERVER_SIDE_RECEIVE,
)

# -- the ``reason`` of a ``drop`` record ---------------------------------------------------

DISCONNECTED: Final = "disconnected"  #: the client no longer held that socket
NODE_DOWN: Final = "node down"  #: the node had crashed
BROKER_DOWN: Final = "broker down"  #: the broker was down
# PARTITION (above) is also a drop reason: the node was cut from the broker
NOT_SUBSCRIBED: Final = "not subscribed"  #: a sharded room channel was not yet subscribed
VOLATILE: Final = "volatile"  #: a volatile packet for a busy transport
LOSS: Final = "loss"  #: the client's link lost the packet
NOT_CONNECTED: Final = "not connected"  #: a client emitted while it was not connected

#: every drop reason a run writes
DROP_REASONS: Final[tuple[str, ...]] = (
    DISCONNECTED,
    NODE_DOWN,
    BROKER_DOWN,
    PARTITION,
    NOT_SUBSCRIBED,
    VOLATILE,
    LOSS,
    NOT_CONNECTED,
)

# -- the ``ignored`` of a ``relay`` record -------------------------------------------------

OWN_MESSAGE: Final = "own message"  #: the node's own broadcast, back from the broker
UNKNOWN_ROOM: Final = "unknown room"  #: a room the node does not have
OTHER_NAMESPACE: Final = "other namespace"  #: a namespace the node does not serve

#: every reason a node gives for throwing a broker's copy away
IGNORED: Final[tuple[str, ...]] = (OWN_MESSAGE, UNKNOWN_ROOM, OTHER_NAMESPACE)


#: Disconnect reasons that start at the client's end (or its transport's): the
#: client is gone at once.  For the others the server tells the client, which
#: learns of it one link latency later, after what the server wrote before.
CLIENT_SIDE_REASONS: Final = frozenset(
    {
        "client namespace disconnect",
        "transport close",
        "transport error",
        "ping timeout",
        "parse error",
    }
)
