"""Exercises of notebook 05: a room per user, a room per project.

Both rooms are joined after a database look-up that takes simulated time,
so a socket is connected for a while before it is in its rooms.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from roomsim.cluster import Cluster
from roomsim.exercises import Result, exercise
from roomsim.exercises.answers import function, names
from roomsim.exercises.bounds import NeverFinished, run_bounded
from roomsim.trace import Trace

#: How long the stand-in database takes to answer, in ms (as in the notebook).
DB_MS = 20

#: Who works on which project (as in the notebook's exercise 05.2).
PROJECTS = {"alice": [4321, 7], "bob": [7], "carol": [4321]}


def user_of(socket: Any) -> str:
    """The user a device belongs to: its client name up to the dash (``"dana-phone"``)."""
    return socket.client.name.split("-")[0]


def fetch_user_id(socket: Any) -> Generator[Any, Any, str]:
    """The notebook's stand-in for ``await fetchUserId(socket)``: ``DB_MS`` later, the user."""
    yield socket.nsp.env.timeout(DB_MS)
    return user_of(socket)


def fetch_projects(socket: Any) -> Generator[Any, Any, list[dict[str, int]]]:
    """The notebook's stand-in for ``await fetchProjects(socket)``."""
    yield socket.nsp.env.timeout(DB_MS)
    return [{"id": pid} for pid in PROJECTS.get(user_of(socket), [])]


def _names(clients: set[str]) -> str:
    return ", ".join(sorted(clients))


def _kind(err: Exception) -> str:
    """What was given to join, from the error's text, without its memory address."""
    text = str(err)
    if "got <" in text:
        return text.split("got <", 1)[1].split("(")[0].split(" ")[0].rstrip(">") + " object"
    return "value that is not a string"


# -- 05.1 ---------------------------------------------------------------------------


def _user_rooms(socket: Any) -> Generator[Any, Any, None]:
    """The rooms page's handler: wait for the user id, then join the user's room."""
    user_id = yield from fetch_user_id(socket)
    socket.join(user_id)


def _run_user_rooms(handler: Callable[[Any], Any]) -> dict[str, set[str]]:
    """dana has a phone (n1), a laptop (n2) and, from t=10, a tablet (n2); erin a phone (n1).

    ``io.to("dana")`` is sent at t=5 (no look-up has finished) and t=60 (all have).
    """
    sim = Cluster(nodes=["n1", "n2"], adapter="redis", client_ms=5, adapter_ms=2)
    sim.on("connection", handler)
    sent: dict[str, str] = {}

    def timeline(env: Any) -> Generator[Any, Any, None]:
        sim.connect("dana-phone", node="n1")
        sim.connect("dana-laptop", node="n2")
        sim.connect("erin-phone", node="n1")
        yield env.timeout(5)
        sent["early"] = sim.io("n1").to("dana").emit("hi")
        yield env.timeout(5)
        sim.connect("dana-tablet", node="n2")
        yield env.timeout(50)
        sent["late"] = sim.io("n2").to("dana").emit("hi")

    sim.process(timeline)
    run_bounded(sim, until=100, must_finish=False)
    return {key: set(sim.trace.recipients(msg)) for key, msg in sent.items()}


@exercise(
    "05.1",
    "A room per user: write the connection handler",
    answer="a function on_connection(socket)",
    rule=(
        "wait for the look-up (user_id = yield from fetch_user_id(socket)), then join the"
        " room named by what it returns, on whichever node the socket is."
    ),
)
def user_room_handler(answer: Any) -> Result:
    """The answer is a function ``on_connection(socket)``; the check installs it."""
    handler = function(answer, "check_answer('05.1', my_on_connection)")
    expected = _run_user_rooms(_user_rooms)
    try:
        got = _run_user_rooms(handler)
    except NeverFinished:
        raise
    except TypeError as err:
        hint = ""
        if "a room is a string" in str(err):
            hint = (
                " socket.join() was given something that is not a room name: did you forget"
                " `yield from` before fetch_user_id(socket)?  Without it you get the look-up"
                " itself (a generator), not the user id it returns."
            )
        if hint:
            return Result(False, f"your handler gave socket.join() a {_kind(err)}.{hint}")
        return Result(False, f"your handler raised TypeError: {err}.")
    except Exception as err:
        return Result(False, f"your handler raised {err.__class__.__name__}: {err}.")
    missed = expected["late"] - got["late"]
    extra = got["late"] - expected["late"]
    if missed:
        return Result(
            False,
            f'io.to("dana").emit(...) at t=60 missed {_names(missed)}. Every socket must'
            " join the room named after its user, exactly the id fetch_user_id(socket)"
            ' gives ("dana"), on whichever node it is connected to.',
        )
    if extra:
        return Result(
            False,
            f"{_names(extra)} got dana's message but {'is' if len(extra) == 1 else 'are'}"
            " not dana's. Join the room of the socket's own user only.",
        )
    if got["early"] != expected["early"]:
        return Result(
            False,
            f"{_names(got['early'])} got the message sent at t=5, before the database had"
            f" answered (t={DB_MS}). The app only knows the user after"
            " `user_id = yield from fetch_user_id(socket)`: join after that line, with what"
            " it returns.",
        )
    return Result(
        True,
        "every device of dana, on both nodes and the tablet that came later, got"
        " io.to('dana').emit(...), and erin did not.",
    )


# -- 05.2 ---------------------------------------------------------------------------


def _project_rooms(socket: Any) -> Generator[Any, Any, None]:
    projects = yield from fetch_projects(socket)
    for project in projects:
        socket.join(f"project:{project['id']}")


#: When each device connects, and to which node (exercise 05.2).
PROJECT_DEVICES = (
    (0, "alice-phone", "n1"),
    (0, "alice-laptop", "n2"),
    (0, "bob-laptop", "n1"),
    (0, "carol-laptop", "n2"),
    (10, "carol-phone", "n1"),
)
#: The exercise's emit: from n2 at t=25 to project 4321.
PROJECT_EMIT = (25, "n2", "project:4321")


def _run_projects() -> tuple[Trace, str]:
    sim = Cluster(nodes=["n1", "n2"], adapter="redis", client_ms=5, adapter_ms=2)
    sim.on("connection", _project_rooms)
    sent: list[str] = []

    def timeline(env: Any) -> Generator[Any, Any, None]:
        for at, name, node in PROJECT_DEVICES:
            yield env.timeout(at - env.now)
            sim.connect(name, node=node)
        at, node, room = PROJECT_EMIT
        yield env.timeout(at - env.now)
        sent.append(sim.io(node).to(room).emit("project updated"))

    sim.process(timeline)
    sim.run(until=100)
    return sim.trace, sent[0]


def _why(trace: Trace, name: str, room: str, at: float) -> str:
    """Why ``name`` was (not) in ``room`` at ``at``, from the trace."""
    joins = trace.records("join", client=name, room=room)
    if not joins:
        user = name.split("-")[0]
        return f"{name} never joins {room} ({user} works on {PROJECTS.get(user, [])})"
    connected = trace.records("connect", client=name)[0]["t"]
    joined = joins[0]["t"]
    when = "before" if joined <= at else "after"
    return (
        f"{name} connected at t={connected} and joined {room} at t={joined}, when its"
        f" look-up ended: {when} the emit at t={at}"
    )


@exercise(
    "05.2",
    "A room per project: who is notified?",
    answer="a set of client (device) names",
    rule=(
        "a device is in a project's room only once its look-up has ended (DB_MS after it"
        " connected); the emit reaches the devices in the room at that moment."
    ),
)
def project_recipients(answer: Any) -> Result:
    """The answer is the set of client names that get the notification."""
    known = [name for _at, name, _node in PROJECT_DEVICES]
    got = names(answer, known=known)
    trace, msg = _run_projects()
    at, _node, room = PROJECT_EMIT
    expected = set(trace.recipients(msg))
    if got == expected:
        return Result(True, f"{_names(expected)}: the devices in {room} at t={at}.")
    if not got:
        return Result(False, f"an empty set: somebody is in {room} at t={at}. Who joined it, when?")
    extra = sorted(got - expected)
    if extra:
        more = f" ({len(extra) - 1} more of yours to look at)" if len(extra) > 1 else ""
        return Result(False, f"not {extra[0]}: {_why(trace, extra[0], room, at)}{more}.")
    return Result(
        False,
        f"someone is missing: a device whose user works on the project and whose look-up"
        f" ended (DB_MS = {DB_MS} ms after it connected) by t={at} is in {room}.",
    )
