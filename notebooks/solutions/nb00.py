"""Solutions to the warm-up exercise, and a wrong answer the tests expect to fail."""

SOLUTIONS = {"00.1": 4}

WRONG = {
    "00.1": 5,  # an off-by-one
}
