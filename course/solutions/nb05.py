"""Solutions to notebook 05 (user rooms, project rooms), and wrong answers for each."""

DB_MS = 20


def fetch_user_id(socket):
    """As in the notebook: the database answers DB_MS later with the device's user."""
    yield socket.nsp.env.timeout(DB_MS)
    return socket.client.name.split("-")[0]


def on_connection(socket):
    user_id = yield from fetch_user_id(socket)  # const userId = await fetchUserId(socket);
    socket.join(user_id)


def on_connection_without_waiting(socket):
    user_id = fetch_user_id(socket)  # no `yield from`: a generator, not the user id
    socket.join(user_id)


def on_connection_device_room(socket):
    yield from fetch_user_id(socket)
    socket.join(socket.client.name)  # the device's name, not the user's


def on_connection_everyone_in_dana(socket):
    yield from fetch_user_id(socket)
    socket.join("dana")  # every device in dana's room


SOLUTIONS = {
    "05.1": on_connection,
    "05.2": {"alice-phone", "alice-laptop", "carol-laptop"},
}

WRONG = {
    "05.1": [
        ("mistake", on_connection_without_waiting),  # forgets `yield from`
        ("mistake", on_connection_device_room),  # a room per device, not per user
        ("mistake", on_connection_everyone_in_dana),  # the same room for every user
        ("type", "dana"),
    ],
    "05.2": [
        # forgets that carol-phone's look-up (t=10 to t=30) has not ended at the emit (t=25)
        ("mistake", {"alice-phone", "alice-laptop", "carol-laptop", "carol-phone"}),
        # only the devices on the emitting node n2
        ("mistake", {"alice-laptop", "carol-laptop"}),
        # users, not devices
        ("type", {"alice", "carol"}),
        ("type", "alice-phone"),
    ],
}
