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

_RIGHT = [
    ("create-room", "a"),
    ("join-room", "a", "alice"),
    ("create-room", "b"),
    ("join-room", "b", "alice"),
    ("join-room", "b", "bob"),
    ("leave-room", "b", "alice"),
    ("join-room", "a", "bob"),
    ("leave-room", "b", "bob"),
    ("delete-room", "b"),
]

WRONG = {
    "01.1": [
        # a create-room for every join: the mistake of thinking join always creates
        ("mistake", [*_RIGHT[:4], ("create-room", "b"), *_RIGHT[4:]]),
        # delete-room before leave-room
        ("mistake", [*_RIGHT[:7], ("delete-room", "b"), ("leave-room", "b", "bob")]),
        # a set: the order is lost
        ("type", set(_RIGHT)),
        # a string
        ("type", "create-room a"),
        # no delete-room at the end: thinking an empty room stays until cleaned up
        ("mistake", _RIGHT[:-1]),
    ],
}
