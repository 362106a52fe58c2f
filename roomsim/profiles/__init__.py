"""Cost profiles shipped with roomsim: ``default.yaml`` is ``costs: default``."""
