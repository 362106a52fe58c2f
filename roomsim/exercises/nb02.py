"""Exercises of notebook 02: ``to`` and ``in_``, unions, ``except_``, the immutable operator.

Both exercises use the same clients on one node (:data:`MEMBERS`).  Each
check plays the emit in a simulation and reads who got it from the trace.
02.1 takes a per-student :class:`~roomsim.exercises.Variant`: other names,
other rooms.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from roomsim.broadcast import BroadcastOperator
from roomsim.cluster import Cluster
from roomsim.exercises import Result, Variant, exercise
from roomsim.exercises.answers import names, whole_number
from roomsim.exercises.variants import variant as _variant
from roomsim.server import Server

#: Who is in which room (besides each socket's own room), in the notebook's version.
MEMBERS: dict[str, list[str]] = {
    "alice": ["a"],
    "bob": ["a", "b"],
    "carol": ["b", "c"],
    "dave": ["c"],
    "erin": ["b"],
    "frank": [],
}


@functools.lru_cache(maxsize=256)
def _base_members(v: Variant) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Who is in which of the rooms a, b, c, in base names: the notebook's
    :data:`MEMBERS`, or a student's own draw, drawn again until the emit of 02.1 reaches
    somebody, someone in a target room is also in c (the except_ rule matters),
    someone is in no target room, and the recipients are not the notebook's."""
    if v.is_default:
        return tuple((n, tuple(rooms)) for n, rooms in MEMBERS.items())
    draw = v.draw("02.1")
    while True:
        drawn = {n: tuple(r for r in ("a", "b", "c") if draw.random() < 0.45) for n in MEMBERS}
        targeted = {n for n, rooms in drawn.items() if {"a", "b"} & set(rooms)}
        right = {n for n in targeted if "c" not in drawn[n]}
        if right and right != targeted and targeted != set(MEMBERS) and right != _NOTEBOOK:
            return tuple(drawn.items())


#: The recipients of 02.1 in the notebook's version (base names).
_NOTEBOOK = {"alice", "bob", "erin"}


def _members(v: Variant) -> dict[str, list[str]]:
    return {v.name(n): [v.room(r) for r in rooms] for n, rooms in _base_members(v)}


def _cluster(v: Variant) -> tuple[Cluster, Server]:
    sim = Cluster(nodes=1, client_ms=5)
    for name, rooms in _members(v).items():
        sim.connect(name, node="n1", rooms=rooms)
    return sim, sim.io("n1")


def _deliveries(emit: Callable[[Server], str], v: Variant | None = None) -> list[str]:
    """Run ``emit(io)`` on a fresh cluster of the members; the clients that got it."""
    sim, io = _cluster(v or _variant())
    msg = emit(io)
    sim.run()
    return sim.trace.recipients(msg)


def _rooms_of(members: dict[str, list[str]], name: str) -> str:
    rooms = members[name]
    return f"in {', '.join(map(repr, rooms))}" if rooms else "in no room but its own"


def _scenario_02_1(v: Variant) -> str:
    members = _members(v)
    who = "; ".join(f"{n} is {_rooms_of(members, n)}" for n in members)
    a, b, c = v.room("a"), v.room("b"), v.room("c")
    return f"On one node: {who}. Who gets io.to([{a!r}, {b!r}]).except_({c!r}).emit('news')?"


@exercise(
    "02.1",
    "Who gets io.to(['a', 'b']).except_('c').emit(...)?",
    answer="a set of client names",
    rule=(
        "to() of several rooms is their union; except_() then removes every member of the"
        " excluded room, even one that is also in a target room."
    ),
    takes_variant=True,
    scenario=_scenario_02_1,
)
def to_a_b_except_c(answer: Any, v: Variant) -> Result:
    """The answer is the set of client names that get the message."""
    members = _members(v)
    a, b, c = v.room("a"), v.room("b"), v.room("c")
    given = names(answer, known=members)
    right = set(_deliveries(lambda io: io.to([a, b]).except_(c).emit("news"), v))
    if not given:
        return Result(False, "name the clients that get the message, such as {'alice'}.")
    if given == right:
        return Result(True, f"the union of {a} and {b}, then every member of {c} taken away.")
    for name in sorted(given - right):
        if c in members[name]:
            return Result(
                False,
                f"{name} is {_rooms_of(members, name)}: except_({c!r}) removes every member of"
                f" {c}, even one that is also in a target room.",
            )
        return Result(
            False, f"{name} is {_rooms_of(members, name)}: not in {a} or {b}, so not targeted."
        )
    return Result(
        False,
        f"someone is missing: every member of {a} or {b} (the union) gets it, unless they are"
        f" in {c}.",
    )


def _operator_chain(io: Server) -> str:
    """The emit of exercise 02.2, as the notebook shows it."""
    op: BroadcastOperator = io.to("a")
    op.to("b")  # the new operator is thrown away
    return op.to("c").to("a").emit("ping")


@exercise(
    "02.2",
    "How many deliver records does this emit make?",
    answer="a whole number",
    rule=(
        "a broadcast operator never changes: to() returns a new one. The operator that"
        " emits names its rooms once each, and each socket gets the message once."
    ),
)
def how_many_deliveries(answer: Any) -> Result:
    """The answer is a number: the deliver records of the ``ping`` emit."""
    given = whole_number(answer)
    right = len(_deliveries(_operator_chain))
    if given == right:
        return Result(True, f"{right}: the members of a or c, once each; op never had b.")
    # the counts the usual mistakes lead to, from the same simulation
    mutated = len(_deliveries(lambda io: io.to(["a", "b", "c", "a"]).emit("ping")))
    _, io = _cluster(_variant())
    rooms = io.of("/").adapter.rooms
    with_repeats = len(rooms["a"]) + len(rooms["c"]) + len(rooms["a"])
    if given == mutated:
        return Result(
            False,
            "op.to('b') made a new operator and nobody kept it: op itself still targets only"
            " room a. The operator never changes.",
        )
    if given >= with_repeats:
        return Result(
            False,
            "a chain of to() is a union: a socket in several target rooms (or a room named"
            " twice) still gets the message once.",
        )
    return Result(
        False,
        "count again: which rooms does the operator that emits name, and who is in them"
        " (each socket once)?",
    )
