"""Solutions to notebook 08 (what the adapters cost), and wrong answers."""


def classic_copies(nodes, nodes_with_room):
    """n1 sends to a room it lacks: every node gets a copy; only the room's nodes use theirs."""
    return nodes, nodes - nodes_with_room


def forgot_the_echo(nodes, nodes_with_room):
    """The publisher does not get its own copy back (it does: PSUBSCRIBE socket.io#/#*)."""
    return nodes - 1, nodes - 1 - nodes_with_room


SOLUTIONS = {
    "08.1": classic_copies,
    "08.2": {"a": (2, 0), "b": (2, 1), "c": (6, 2)},
}

WRONG = {
    "08.1": forgot_the_echo,  # thinks the publisher gets no copy of its own broadcast
    "08.2": {"a": (2, 0), "b": (1, 0), "c": (6, 2)},  # forgets the echo on the room's channel
}
