"""Your chat service: fill in the handlers (see README.md for what each must do).

Grade it with:  python course/project/grade_project.py starter.py
"""


def user_of(socket):
    """The user a device belongs to: its client name up to the dash ("ann-phone" -> "ann")."""
    return socket.client.name.split("-")[0]


def on_connection(socket):
    user = user_of(socket)  # noqa: F841 (you will use it)

    @socket.on("join")
    def join(room):
        pass  # your code: join the room; tell the room's other members ("joined", room, user)

    @socket.on("say")
    def say(room, text):
        pass  # your code: ("message", room, user, text) to the room's other members

    @socket.on("whisper")
    def whisper(to, text):
        pass  # your code: ("private", user, text) to every device of user `to`

    @socket.on("disconnecting")
    def disconnecting(reason):
        pass  # your code: ("left", user), once, to every socket that shared a room
