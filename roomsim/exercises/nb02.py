"""Exercises of notebook 02: ``to`` and ``in_``, unions, ``except_``, the immutable operator.

Both exercises use the same clients on one node (:data:`MEMBERS`).  Each
check plays the emit in a simulation and reads who got it from the trace.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral
from typing import Any

from roomsim.broadcast import BroadcastOperator
from roomsim.cluster import Cluster
from roomsim.exercises import Result, exercise
from roomsim.server import Server

#: Who is in which room (besides each socket's own room).
MEMBERS: dict[str, list[str]] = {
    "alice": ["a"],
    "bob": ["a", "b"],
    "carol": ["b", "c"],
    "dave": ["c"],
    "erin": ["b"],
    "frank": [],
}


def _cluster() -> tuple[Cluster, Server]:
    sim = Cluster(nodes=1, client_ms=5)
    for name, rooms in MEMBERS.items():
        sim.connect(name, node="n1", rooms=rooms)
    return sim, sim.io("n1")


def deliveries(emit: Callable[[Server], str]) -> list[str]:
    """Run ``emit(io)`` on a fresh cluster of :data:`MEMBERS`; the clients that got it."""
    sim, io = _cluster()
    msg = emit(io)
    sim.run()
    return sim.trace.recipients(msg)


def _names(answer: Any) -> set[str]:
    if isinstance(answer, str):
        raise TypeError("give a set of names, such as {'alice', 'bob'}")
    names = {str(n) for n in answer}
    unknown = names - set(MEMBERS)
    if unknown:
        raise ValueError(f"no client {sorted(unknown)}; the clients are {', '.join(MEMBERS)}")
    return names


def _rooms_of(name: str) -> str:
    rooms = MEMBERS[name]
    return f"in {', '.join(map(repr, rooms))}" if rooms else "in no room but its own"


@exercise("02.1", "Who gets io.to(['a', 'b']).except_('c').emit(...)?")
def to_a_b_except_c(answer: Any) -> Result:
    """The answer is the set of client names that get the message."""
    targets, left_out = ("a", "b"), ("c",)
    right = set(deliveries(lambda io: io.to(list(targets)).except_(left_out[0]).emit("news")))
    given = _names(answer)
    if not given:
        return Result(False, "name the clients that get the message, such as {'alice'}.")
    if given == right:
        return Result(True, "the union of a and b, then every member of c taken away.")
    for name in sorted(given - right):
        if set(MEMBERS[name]) & set(left_out):
            return Result(
                False,
                f"{name} is {_rooms_of(name)}: except_('c') removes every member of c,"
                " even one that is also in a target room.",
            )
        return Result(False, f"{name} is {_rooms_of(name)}: not in a or b, so not targeted.")
    name = sorted(right - given)[0]
    return Result(
        False,
        f"{name} is missing: {name} is {_rooms_of(name)}, in the union of a and b and not in c.",
    )


def _operator_chain(io: Server) -> str:
    """The emit of exercise 02.2, as the notebook shows it."""
    op: BroadcastOperator = io.to("a")
    op.to("b")  # the new operator is thrown away
    return op.to("c").to("a").emit("ping")


@exercise("02.2", "How many deliver records does this emit make?")
def how_many_deliveries(answer: Any) -> Result:
    """The answer is a number: the deliver records of the ``ping`` emit."""
    if isinstance(answer, bool) or not isinstance(answer, Integral):
        raise TypeError(f"give a whole number, not {answer!r}")
    right = len(deliveries(_operator_chain))
    if answer == right:
        return Result(True, f"{right}: the members of a or c, once each; op never had b.")
    # the counts the usual mistakes lead to, from the same simulation
    mutated = len(deliveries(lambda io: io.to(["a", "b", "c", "a"]).emit("ping")))
    _, io = _cluster()
    rooms = io.of("/").adapter.rooms
    with_repeats = len(rooms["a"]) + len(rooms["c"]) + len(rooms["a"])
    if answer == mutated:
        return Result(
            False,
            "op.to('b') made a new operator and nobody kept it: op itself still targets only"
            " room a. The operator never changes.",
        )
    if answer >= with_repeats:  # type: ignore[operator]  # an Integral
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
