"""Solutions to notebook 04's exercises, and wrong answers the tests expect to fail."""


def on_connection(socket):
    @socket.on("private message")
    def private_message(another_socket_id, msg):
        socket.to(another_socket_id).emit("private message", socket.id, msg)


def on_connection_everyone(socket):
    @socket.on("private message")
    def private_message(another_socket_id, msg):
        socket.broadcast.emit("private message", socket.id, msg)  # not private at all


SOLUTIONS = {
    "04.1": on_connection,
    "04.2": ["one", "four"],
}

WRONG = {
    # socket.broadcast instead of socket.to(anotherSocketId): everyone but the sender gets it
    "04.1": on_connection_everyone,
    # "two" delivered on reconnection: the mistake of thinking the server queues for a gone id
    "04.2": ["one", "two", "four"],
}
