"""Solutions to notebook 03's exercises, and wrong answers the tests expect to fail."""


def on_connection(socket):
    @socket.on("chat")
    def chat(room, text):
        socket.to(room).emit("chat", text)  # the room, minus the sender


def on_connection_echo(socket):
    @socket.on("chat")
    def chat(room, text):
        socket.nsp.to(room).emit("chat", text)  # io.to(room): the sender too


def on_connection_ignores_the_room(socket):
    @socket.on("chat")
    def chat(room, text):
        for own in list(socket.rooms):  # every room of the sender, not the one it named
            socket.to(own).emit("chat", text)


def on_connection_broadcast(socket):
    @socket.on("chat")
    def chat(room, text):
        socket.broadcast.emit("chat", text)  # everybody but the sender


def on_connection_with_a_ticker(socket):
    """Right relay, plus a periodic loop that never ends: the check must not hang."""

    @socket.on("chat")
    def chat(room, text):
        socket.to(room).emit("chat", text)

    def ticker(env):
        while True:
            yield env.timeout(1000)

    socket.nsp.env.process(ticker(socket.nsp.env))


SOLUTIONS = {
    "03.1": on_connection,
    "03.2": {
        'bob.socket.emit("x")': {"bob"},
        'io.emit("x")': {"alice", "bob", "carol", "dave"},
        'bob.socket.broadcast.emit("x")': {"alice", "carol", "dave"},
        'bob.socket.to("lobby").emit("x")': {"alice"},
        'bob.socket.except_("quiet").emit("x")': {"alice", "dave"},
    },
}

_RIGHT_03_2 = SOLUTIONS["03.2"]

WRONG = {
    "03.1": [
        # relays with io.to(room) (socket.nsp.to): the sender gets its own message back
        ("mistake", on_connection_echo),
        # sends to every room the sender is in: right as long as each sender is in one room
        ("mistake", on_connection_ignores_the_room),
        # socket.broadcast: not only the room
        ("mistake", on_connection_broadcast),
        # a handler that never finishes: a hint, not a hung kernel
        ("mistake", on_connection_with_a_ticker),
        # the handler's result, not the handler
        ("type", None),
    ],
    "03.2": [
        # bob in his own socket.to("lobby"): the mistake of thinking a member sender is included
        ("mistake", {**_RIGHT_03_2, 'bob.socket.to("lobby").emit("x")': {"alice", "bob"}}),
        # broadcast read as "everyone", the sender included
        (
            "mistake",
            {**_RIGHT_03_2, 'bob.socket.broadcast.emit("x")': {"alice", "bob", "carol", "dave"}},
        ),
        # except_ read as "to everyone, the sender included"
        (
            "mistake",
            {**_RIGHT_03_2, 'bob.socket.except_("quiet").emit("x")': {"alice", "bob", "dave"}},
        ),
        # a list of sets, not a dict
        ("type", [{"bob"}, {"alice"}]),
        # a string for a set
        ("type", {**_RIGHT_03_2, 'bob.socket.emit("x")': "bob"}),
    ],
}
