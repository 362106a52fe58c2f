"""Solutions to notebook 04's exercises, and wrong answers the tests expect to fail."""


def on_connection(socket):
    @socket.on("private message")
    def private_message(another_socket_id, msg):
        socket.to(another_socket_id).emit("private message", socket.id, msg)


def on_connection_everyone(socket):
    @socket.on("private message")
    def private_message(another_socket_id, msg):
        socket.broadcast.emit("private message", socket.id, msg)  # not private at all


def on_connection_answers_the_sender(socket):
    @socket.on("private message")
    def private_message(another_socket_id, msg):
        socket.emit("private message", socket.id, msg)  # socket.emit: back to the sender


def on_connection_with_a_heartbeat(socket):
    """Right, plus a heartbeat loop that never ends: the check must stop it with a hint."""

    @socket.on("private message")
    def private_message(another_socket_id, msg):
        socket.to(another_socket_id).emit("private message", socket.id, msg)

    def heartbeat(env):
        while True:
            yield env.timeout(25)

    socket.nsp.env.process(heartbeat(socket.nsp.env))


SOLUTIONS = {
    "04.1": on_connection,
    "04.2": ["one", "four"],
}

WRONG = {
    "04.1": [
        # socket.broadcast instead of socket.to(anotherSocketId): everyone but the sender
        ("mistake", on_connection_everyone),
        # socket.emit: the sender gets it back
        ("mistake", on_connection_answers_the_sender),
        # a periodic loop that never ends
        ("mistake", on_connection_with_a_heartbeat),
        ("type", "socket.to(id).emit(...)"),
    ],
    "04.2": [
        # "two" delivered on reconnection: thinking the server queues for a gone id
        ("mistake", ["one", "two", "four"]),
        # "three": thinking the old id follows bob to his new socket
        ("mistake", ["one", "three", "four"]),
        # the right texts in the wrong order
        ("mistake", ["four", "one"]),
        # a set has no order: refused the same way under any hash seed
        ("type", {"one", "four"}),
        ("type", "one, four"),
    ],
}
