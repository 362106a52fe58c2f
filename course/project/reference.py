"""The instructor's reference chat service for the project (not for students).

Presence on leaving is one broadcast to all the leaver's rooms: a socket in
several of them hears of it once (a union), which sending room by room would
break.  Measured on the grader's workloads, this is also cheaper than a
room-by-room send with except_ (single-room channels of the sharded adapter
do not pay off when every room has members on every node).
"""


def user_of(socket):
    return socket.client.name.split("-")[0]


def on_connection(socket):
    user = user_of(socket)
    socket.join(f"user:{user}")

    @socket.on("join")
    def join(room):
        if room in socket.rooms:
            return
        socket.join(room)
        socket.to(room).emit("joined", room, user)

    @socket.on("say")
    def say(room, text):
        if room not in socket.rooms:
            socket.emit("error", f"not in {room}")
            return
        socket.to(room).emit("message", room, user, text)

    @socket.on("whisper")
    def whisper(to, text):
        socket.to(f"user:{to}").emit("private", user, text)

    @socket.on("disconnecting")
    def disconnecting(reason):
        rooms = [r for r in socket.rooms if r != socket.id and not r.startswith("user:")]
        if rooms:
            socket.to(rooms).emit("left", user)
