"""Solutions to notebook 01's exercise, and a wrong answer the tests expect to fail."""

SOLUTIONS = {
    "01.1": [
        ("create-room", "a"),
        ("join-room", "a", "alice"),
        ("create-room", "b"),
        ("join-room", "b", "alice"),
        ("join-room", "b", "bob"),
        ("leave-room", "b", "alice"),
        ("join-room", "a", "bob"),
        ("leave-room", "b", "bob"),
        ("delete-room", "b"),
    ],
}

WRONG = {
    # no delete-room at the end: the mistake of thinking an empty room stays until cleaned up
    "01.1": [
        ("create-room", "a"),
        ("join-room", "a", "alice"),
        ("create-room", "b"),
        ("join-room", "b", "alice"),
        ("join-room", "b", "bob"),
        ("leave-room", "b", "alice"),
        ("join-room", "a", "bob"),
        ("leave-room", "b", "bob"),
    ],
}
