"""``python -m roomsim``: the ``roomsim`` command line."""

from roomsim.cli import main

if __name__ == "__main__":  # pragma: no cover
    main(prog_name="roomsim")
