"""Figures for files: made without pyplot (no GUI backend), written whole or not at all."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["PICTURE_SUFFIXES", "draw_to_file", "new_axes", "save_figure"]

#: File types a still picture can be written as.
PICTURE_SUFFIXES = (".png", ".svg")


def new_axes(figsize: tuple[float, float] = (8, 5), ax: Any = None) -> Any:
    """``ax`` if given, else the axes of a new pyplot figure (as NetworkX's drawers do).

    To write a file without pyplot, draw on the axes of a
    :class:`matplotlib.figure.Figure` (as :func:`draw_to_file` does).
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (the type from its suffix), whole or not at all.

    The file is written as :class:`roomsim.outputs.Output` writes every
    output: through a temporary file in the same folder, with the user's
    umask; a failure leaves the previous file (or nothing) at ``path`` and
    raises :class:`~roomsim.outputs.OutputError` (one line).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> _ = fig.subplots().plot([0, 1], [1, 0])
    >>> svg = save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "line.svg")
    >>> "<svg" in svg.read_text()
    True
    """
    from roomsim.outputs import Output

    path = Path(path)
    with Output(path, "picture", binary=True) as out:
        fig.savefig(out.file, dpi=dpi, format=path.suffix.lstrip(".").lower() or None)
    return path


def draw_to_file(
    draw: Callable[..., Any],
    data: Any,
    path: str | os.PathLike[str],
    figsize: tuple[float, float] = (8, 5),
    **options: Any,
) -> Path:
    """Draw ``data`` with ``draw(data, ax=..., **options)`` on a new figure and save it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from roomsim.drawing import draw_node_load
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "load.png"
    >>> load = {"n1": {"deliveries": 3, "relays": 1, "discarded": 0}}
    >>> draw_to_file(draw_node_load, load, out).name
    'load.png'
    >>> out.read_bytes()[:4]
    b'\\x89PNG'
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    ax = fig.subplots()
    draw(data, ax=ax, **options)
    fig.tight_layout()
    return save_figure(fig, path)
