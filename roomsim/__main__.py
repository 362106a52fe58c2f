"""``python -m roomsim``: the ``roomsim`` command line."""

from roomsim.cli import command

if __name__ == "__main__":  # pragma: no cover
    command()
