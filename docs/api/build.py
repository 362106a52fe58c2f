"""Build roomsim's API reference (HTML) from its numpydoc docstrings, with pdoc.

    python -m pip install -e ".[docs]"
    python docs/api/build.py            # writes docs/api/build/index.html
    python docs/api/build.py OUT_DIR

The reference is the page of the ``roomsim`` package: every name of
``roomsim.__all__``, once each, in that order, with its docstring (numpydoc
sections rendered) and signature.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build(out: Path) -> Path:
    """Write the reference into ``out``; return the package's page."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import pdoc
    import pdoc.render

    import roomsim

    # names that roomsim loads on first use (the drawing functions, with
    # matplotlib): load them so that pdoc finds them in the module
    for name in roomsim.__all__:
        setattr(roomsim, name, getattr(roomsim, name))
    pdoc.render.configure(docformat="numpy", show_source=False, search=True)
    pdoc.pdoc("roomsim", output_directory=out)
    return out / "roomsim.html"


if __name__ == "__main__":
    page = build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "build")
    print(f"wrote {page}")
