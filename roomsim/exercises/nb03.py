"""Exercises of notebook 03: broadcasting from a socket.

03.1 takes a function, the student's ``connection`` handler: the check
installs it in its own cluster, lets clients chat, and compares what each
client received with what the rooms say it should.  03.2 asks who gets each
of five emits made from one socket; the check plays them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from roomsim.cluster import Cluster
from roomsim.exercises import Result, exercise
from roomsim.server import Server

# -- 03.1: a chat relay ---------------------------------------------------------------

#: Rooms of the clients of exercise 03.1 (joined as they connect).
CHAT_MEMBERS: dict[str, list[str]] = {
    "alice": ["lobby"],
    "bob": ["lobby"],
    "carol": ["lobby", "kitchen"],
    "dave": ["kitchen"],
}

#: What the clients send, in order: (sender, room, text), 10 ms apart.
CHATS: tuple[tuple[str, str, str], ...] = (
    ("alice", "lobby", "hi"),
    ("dave", "kitchen", "tea?"),
)


def run_chat(on_connection: Callable[[Any], Any]) -> tuple[dict[str, list[tuple]], Cluster]:
    """Install ``on_connection`` on one node, play :data:`CHATS`, return what each
    client's ``chat`` listener got (its arguments, in order) and the cluster."""
    sim = Cluster(nodes=1, client_ms=5)
    sim.on("connection", on_connection)
    got: dict[str, list[tuple]] = {}
    for name, rooms in CHAT_MEMBERS.items():
        client = sim.connect(name, node="n1", rooms=rooms)
        got[name] = []
        client.on("chat", lambda *args, name=name: got[name].append(args))

    def chats(env: Any) -> Any:
        for sender, room, text in CHATS:
            yield env.timeout(10)
            sim.client(sender).emit("chat", room, text)

    sim.process(chats)
    sim.run()
    return got, sim


def expected_chat() -> dict[str, list[tuple]]:
    """What each client should get: every chat of a room it is in, but its own."""
    sim = Cluster(nodes=1)
    ids = {
        name: sim.connect(name, node="n1", rooms=rooms).id for name, rooms in CHAT_MEMBERS.items()
    }
    members = sim.io("n1").of("/").adapter.rooms
    return {
        name: [(text,) for sender, room, text in CHATS if sid in members[room] and name != sender]
        for name, sid in ids.items()
    }


def _chat_hint(got: dict[str, list[tuple]], sim: Cluster) -> str:
    expected = expected_chat()
    others = [r for r in sim.trace.records("deliver") if r["event"] != "chat"]
    if others:
        r = others[0]
        return f"{r['client']} got a {r['event']!r} event: relay it as 'chat'."
    texts: dict[Any, tuple[str | None, str | None]] = {t: (s, r) for s, r, t in CHATS}
    for name, args in got.items():
        for arg in args:
            text = arg[-1] if arg else None
            sender, room = texts.get(text, (None, None))
            if name == sender:
                return (
                    f"{name}'s own {text!r} came back to {name}. Start from the socket,"
                    " socket.to(room): it leaves the sender out; socket.nsp.to(room) does not."
                )
            if sender is not None and (text,) not in expected[name]:
                return (
                    f"{name} is not in {room!r} but got {text!r}: send to the room,"
                    " socket.to(room), not to everybody."
                )
            if arg != (text,):
                return f"{name} got chat with {arg!r}: send the text alone, emit('chat', text)."
    for name, want in expected.items():
        if len(got[name]) > len(want):
            return f"{name} got {got[name]!r}: each chat should arrive once."
        if got[name] != want:
            chat = next((c for c in CHATS if (c[2],) in want and (c[2],) not in got[name]), None)
            if chat is None:
                return f"{name} got {got[name]!r}; expected {want!r}."
            sender, room, text = chat
            return (
                f"{name} is in {room!r} but did not get {sender}'s {text!r}: in a"
                " socket.on('chat', ...) handler, send each chat on to the room it names."
            )
    return "compare what each client got with the rooms it is in."


@exercise("03.1", "A chat relay that does not echo")
def chat_relay(answer: Any) -> Result:
    """The answer is a function ``on_connection(socket)``."""
    if not callable(answer):
        raise TypeError("give the function itself: def on_connection(socket): ...")
    got, sim = run_chat(answer)
    if got == expected_chat() and all(r["event"] == "chat" for r in sim.trace.records("deliver")):
        return Result(
            True, "every member of the room got the text once, and the sender got nothing back."
        )
    return Result(False, _chat_hint(got, sim))


# -- 03.2: five emits from bob's socket ---------------------------------------------------

#: Rooms of the clients of exercise 03.2.
MEMBERS: dict[str, list[str]] = {
    "alice": ["lobby"],
    "bob": ["lobby", "quiet"],
    "carol": ["quiet"],
    "dave": [],
}

#: The five emits, as the notebook writes them, and how to play each.
EMITS: dict[str, Callable[[Server, Any], str]] = {
    'bob.socket.emit("x")': lambda io, bob: bob.socket.emit("x"),
    'io.emit("x")': lambda io, bob: io.emit("x"),
    'bob.socket.broadcast.emit("x")': lambda io, bob: bob.socket.broadcast.emit("x"),
    'bob.socket.to("lobby").emit("x")': lambda io, bob: bob.socket.to("lobby").emit("x"),
    'bob.socket.except_("quiet").emit("x")': lambda io, bob: bob.socket.except_("quiet").emit("x"),
}

RULES = {
    'bob.socket.emit("x")': "socket.emit talks to that socket's own client, and no one else",
    'io.emit("x")': "io.emit reaches every socket of the namespace",
    'bob.socket.broadcast.emit("x")': "socket.broadcast is everyone but the sender",
    'bob.socket.to("lobby").emit("x")': (
        "socket.to(room) is the members of the room, minus the sender even if he is a member"
    ),
    'bob.socket.except_("quiet").emit("x")': (
        "socket.except_(room) is everyone, minus the members of the room, minus the sender"
    ),
}


def _key(text: str) -> str:
    return str(text).replace("'", '"').replace(" ", "")


def five_emits() -> dict[str, set[str]]:
    """Play each emit of :data:`EMITS` from bob's socket; who got each."""
    sim = Cluster(nodes=1, client_ms=5)
    for name, rooms in MEMBERS.items():
        sim.connect(name, node="n1", rooms=rooms)
    io, bob = sim.io("n1"), sim.client("bob")
    msgs = {key: play(io, bob) for key, play in EMITS.items()}
    sim.run()
    return {key: set(sim.trace.recipients(msg)) for key, msg in msgs.items()}


@exercise("03.2", "Who gets each emit made from bob's socket?")
def from_a_socket(answer: Any) -> Result:
    """The answer is a dict: each emit of :data:`EMITS` -> the set of names that get it."""
    if not isinstance(answer, dict):
        raise TypeError("give a dict: each emit (as written in the notebook) -> a set of names")
    right = five_emits()
    given = {_key(k): v for k, v in answer.items()}
    missing = [k for k in right if _key(k) not in given]
    if missing:
        return Result(False, f"give a set of names for each emit; missing: {', '.join(missing)}.")
    if not any(given[_key(k)] for k in right):
        return Result(False, "fill in a set of names for each emit.")
    wrong = []
    for key, who in right.items():
        said = given[_key(key)]
        if isinstance(said, str):
            raise TypeError(f"for {key}, give a set of names such as {{'alice'}}, not {said!r}")
        said = {str(n) for n in said}
        unknown = said - set(MEMBERS)
        if unknown:
            raise ValueError(f"no client {sorted(unknown)}; the clients are {', '.join(MEMBERS)}")
        if said != who:
            detail = []
            if said - who:
                detail.append(f"{', '.join(sorted(said - who))} should not be there")
            if who - said:
                detail.append(f"{', '.join(sorted(who - said))} is missing")
            wrong.append(f"{key}: {' and '.join(detail)} ({RULES[key]})")
    if not wrong:
        said = "; ".join(f"{key} -> {', '.join(sorted(who))}" for key, who in right.items())
        return Result(True, f"{said}.")
    return Result(False, f"{len(wrong)} of 5 not right yet. First: {wrong[0]}.")
