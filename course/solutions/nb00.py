"""Solutions to the warm-up exercise, and wrong answers the tests expect to fail."""

SOLUTIONS = {"00.1": 4}

WRONG = {
    "00.1": [
        ("mistake", 5),  # an off-by-one
        ("mistake", 3),  # the other way
        ("mistake", 4.5),  # not a whole number: refused, not rounded
        ("type", "4"),  # a string, not a number
    ],
}
