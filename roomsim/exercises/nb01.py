"""Exercises of notebook 01: rooms, join and leave.

01.1 asks for the adapter's room events, in order, for a few joins and
leaves.  The check plays the same calls on a one-node cluster and listens to
the adapter, so the right answer is whatever the simulator does.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from roomsim.cluster import Cluster
from roomsim.exercises import Result, exercise
from roomsim.exercises.answers import AnswerError, describe
from roomsim.rooms import ROOM_EVENTS

#: The calls of exercise 01.1, as the notebook shows them (client, method, argument).
STEPS_01_1: tuple[tuple[str, str, Any], ...] = (
    ("alice", "join", ["a", "b"]),
    ("bob", "join", "b"),
    ("alice", "leave", "b"),
    ("bob", "join", ["a", "b"]),
    ("bob", "leave", "b"),
)

Event = tuple[str, ...]


def _room_events(steps: tuple[tuple[str, str, Any], ...] = STEPS_01_1) -> list[Event]:
    """Play ``steps`` on one node (alice and bob already connected) and return the
    room events the adapter fired, with client names in place of socket ids."""
    sim = Cluster(nodes=1)
    clients = {name: sim.connect(name, node="n1") for name in ("alice", "bob")}
    names = {c.id: c.name for c in clients.values()}
    adapter = sim.io("n1").of("/").adapter
    events: list[Event] = []
    for kind in ROOM_EVENTS:
        adapter.on(
            kind, lambda *args, kind=kind: events.append((kind, *(names.get(a, a) for a in args)))
        )
    for who, method, arg in steps:
        getattr(clients[who].socket, method)(arg)
    return events


def _as_events(answer: Any) -> list[Event]:
    if isinstance(answer, (set, frozenset)):
        raise AnswerError(
            "give a list of tuples, not a set: the order of the events matters and a set has none"
        )
    if isinstance(answer, (str, bytes, dict)) or not hasattr(answer, "__iter__"):
        raise AnswerError(
            f"give a list of tuples, such as [('create-room', 'a'), ...], not {describe(answer)}"
        )
    events = []
    for item in answer:
        if isinstance(item, (str, bytes, dict)) or not hasattr(item, "__iter__"):
            raise AnswerError(
                f"each event is a tuple such as ('join-room', 'a', 'alice'), not {describe(item)}"
            )
        parts = tuple(item)
        if not all(isinstance(part, str) for part in parts):
            raise AnswerError(f"each part of an event is a string: {parts!r}")
        if len(parts) not in (2, 3):
            raise AnswerError(
                f"an event has a name, a room, and for join/leave a client: {parts!r}"
            )
        events.append(parts)
    return events


def _why_extra(event: Event) -> str:
    kind, room, *who = event
    if kind not in ROOM_EVENTS:
        return f"{kind!r} is not a room event; they are {', '.join(ROOM_EVENTS)}."
    if kind == "create-room":
        return (
            f"create-room {room!r} comes once, when the room is new; a room that exists"
            " is not created again."
        )
    if kind == "join-room":
        return (
            f"{who[0] if who else '?'} was already in {room!r} at that point: joining again"
            " changes nothing and fires no event."
        )
    if kind == "delete-room":
        return f"{room!r} still had a member then: only an empty room is deleted."
    return f"{who[0] if who else '?'} was not in {room!r} then: leaving fires no event."


def _why_missing(event: Event) -> str:
    """The rule behind a missing event, without naming its room or client."""
    kind = event[0]
    if kind == "create-room":
        return "a new room is created (create-room) just before its first member joins."
    if kind == "join-room":
        return "every join of a room the socket was not in fires join-room: check each join."
    if kind == "delete-room":
        return (
            "when the last member leaves a room, the room is deleted at once (delete-room,"
            " right after the leave-room)."
        )
    return "every leave of a room the socket was in fires leave-room."


@exercise(
    "01.1",
    "The adapter's room events for a few joins and leaves",
    answer="a list of tuples such as ('join-room', 'a', 'alice')",
    rule=(
        "each call fires its events at once, in order: create-room before the first"
        " join-room of a room, leave-room before delete-room of an emptied room, nothing"
        " for a join or leave that changes nothing."
    ),
)
def events_in_order(answer: Any) -> Result:
    """The answer is the list of room events, with client names for socket ids."""
    expected = _room_events()
    given = _as_events(answer)
    if not given:
        return Result(
            False,
            "list the events as tuples, such as ('create-room', 'a') and"
            " ('join-room', 'a', 'alice').",
        )
    if given == expected:
        return Result(True, f"the adapter fired exactly these {len(expected)} events.")
    extra = Counter(given) - Counter(expected)
    missing = Counter(expected) - Counter(given)
    if extra:
        event = next(e for e in given if e in extra)
        times = expected.count(event)
        said = f"{event} happens only once." if times == 1 else f"{event} does not happen."
        return Result(False, f"{said} {_why_extra(event)}")
    if missing:
        event = next(e for e in expected if e in missing)
        return Result(False, f"an event is missing: {_why_missing(event)}")
    first = next(i for i, (g, e) in enumerate(zip(given, expected, strict=False)) if g != e)
    return Result(
        False,
        f"the events are right but not their order (from event #{first + 1}): they come"
        " call by call; within one join([...]) room by room, create-room before join-room;"
        " leave-room before delete-room.",
    )
