"""Solutions to notebook 05 (user rooms, project rooms), and a wrong answer for each."""

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


SOLUTIONS = {
    "05.1": on_connection,
    "05.2": {"alice-phone", "alice-laptop", "carol-laptop"},
}

WRONG = {
    "05.1": on_connection_without_waiting,  # forgets to wait for the look-up (no `yield from`)
    "05.2": {"alice-phone", "alice-laptop", "carol-laptop", "carol-phone"},  # forgets that
    # carol-phone's look-up (t=10 to t=30) has not ended at the emit (t=25)
}
