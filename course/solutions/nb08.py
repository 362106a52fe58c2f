"""Solutions to notebook 08 (what the adapters cost), and wrong answers."""


def classic_copies(nodes, nodes_with_room):
    """n1 sends to a room it lacks: every node gets a copy; only the room's nodes use theirs."""
    return nodes, nodes - nodes_with_room


def forgot_the_echo(nodes, nodes_with_room):
    """The publisher does not get its own copy back (it does: PSUBSCRIBE socket.io#/#*)."""
    return nodes - 1, nodes - 1 - nodes_with_room


def like_sharding(nodes, nodes_with_room):
    """Only the room's nodes get a copy (that is dynamic sharding, not the classic adapter)."""
    return nodes_with_room, 0


def fractional(nodes, nodes_with_room):
    """Right counts plus a fraction: must be refused, not truncated to the right answer."""
    return nodes + 0.9, nodes - nodes_with_room + 0.9


def one_number(nodes, nodes_with_room):
    return nodes


SOLUTIONS = {
    "08.1": classic_copies,
    "08.2": {"a": (2, 0), "b": (2, 1), "c": (6, 2)},
}

WRONG = {
    "08.1": [
        ("mistake", forgot_the_echo),
        ("mistake", like_sharding),
        ("type", fractional),
        ("type", one_number),
        ("type", (5, 3)),
    ],
    "08.2": [
        ("mistake", {"a": (2, 0), "b": (1, 0), "c": (6, 2)}),  # forgets the echo
        ("mistake", {"a": (6, 4), "b": (6, 4), "c": (6, 2)}),  # as the classic adapter
        ("mistake", {"a": (1, 0), "b": (2, 1), "c": (6, 2)}),  # n1 thought subscribed to game
        ("type", {"a": (2.5, 0), "b": (2, 1), "c": (6, 2)}),
        ("type", [(2, 0), (2, 1), (6, 2)]),
    ],
}
