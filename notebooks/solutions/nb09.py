"""Solutions to notebook 09 (failures: a crash, a broker outage), and a wrong answer for each."""

SOLUTIONS = {
    "09.1": {
        "m1": {"ann", "cat", "eve"},
        "m2": {"ann", "cat", "eve"},
        "m3": {"ann", "ben", "cat", "dan", "eve"},
    },
    "09.2": 4,
}

WRONG = {
    "09.1": {
        "m1": {"ann", "ben", "cat", "dan", "eve"},  # thinks a copy reaching a dead node still
        "m2": {"ann", "ben", "cat", "dan", "eve"},  # gets picked, and that a reconnected
        "m3": {"ann", "ben", "cat", "dan", "eve"},  # client is back in its old rooms
    },
    "09.2": 7,  # thinks every member of 'ops' and 'dev' loses the message in flight when the
    # broker stops, the emitting node's own members included (local delivery goes on)
}
