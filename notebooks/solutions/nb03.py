"""Solutions to notebook 03's exercises, and wrong answers the tests expect to fail."""


def on_connection(socket):
    @socket.on("chat")
    def chat(room, text):
        socket.to(room).emit("chat", text)  # the room, minus the sender


def on_connection_echo(socket):
    @socket.on("chat")
    def chat(room, text):
        socket.nsp.to(room).emit("chat", text)  # io.to(room): the sender too


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

WRONG = {
    # relays with io.to(room) (socket.nsp.to): the sender gets its own message back
    "03.1": on_connection_echo,
    # bob in his own socket.to("lobby"): the mistake of thinking a member sender is included
    "03.2": {
        'bob.socket.emit("x")': {"bob"},
        'io.emit("x")': {"alice", "bob", "carol", "dave"},
        'bob.socket.broadcast.emit("x")': {"alice", "carol", "dave"},
        'bob.socket.to("lobby").emit("x")': {"alice", "bob"},
        'bob.socket.except_("quiet").emit("x")': {"alice", "dave"},
    },
}
