"""An animation of a run (:func:`~roomsim.analysis.delivery_frames`) on the cluster layout.

Each frame is one time bin: the hops that arrived in it flash as arrows
coloured by fate, clients that got something flash green (a drop red), and
each client's marker grows with what it has received so far.  Show it in a
notebook with ``HTML(anim.to_jshtml())``; save it as a GIF with
:func:`save_animation` (Pillow, no ffmpeg).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from roomsim.analysis.frames import Frames
from roomsim.analysis.records import round_ms
from roomsim.analysis.spacetime import BROKER
from roomsim.drawing.colours import FATE_COLOURS
from roomsim.drawing.layout import cluster_positions

__all__ = ["animate_deliveries", "save_animation"]


def animate_deliveries(frames: Frames, fig: Any = None, *, interval_ms: int = 200) -> Any:
    """A :class:`matplotlib.animation.FuncAnimation` of the deliveries, one frame per bin.

    Parameters
    ----------
    frames : Frames
        From :func:`~roomsim.analysis.delivery_frames`.
    fig : matplotlib Figure, optional
        Where to draw (default: a new :class:`matplotlib.figure.Figure`, which
        needs no GUI backend).
    interval_ms : int
        Wall-clock time between frames when played.

    Returns
    -------
    matplotlib.animation.FuncAnimation

    Examples
    --------
    >>> from roomsim.analysis import delivery_frames
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1")
    >>> trace.record(2, "emit", msg="m1", node="n1", event="e", to=[], **{"except": []})
    >>> trace.add_deliveries(7, "m1", "n1", "e", ["alice"])
    >>> anim = animate_deliveries(delivery_frames(trace, max_frames=4))
    >>> html = anim.to_jshtml()
    >>> "<img" in html or "img id" in html
    True
    """
    from matplotlib.animation import FuncAnimation
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    clients = list(frames.clients)
    brokers = [BROKER] if frames.broker else []
    pos = cluster_positions(frames.nodes, frames.clients, brokers)
    if fig is None:
        xs = [x for x, _ in pos.values()] or [0.0]
        ys = [y for _, y in pos.values()] or [0.0]
        fig = Figure(
            figsize=(
                min(14.0, max(6.0, 2.0 * (max(xs) - min(xs)) + 3.0)),
                min(10.0, max(4.5, 1.2 * (max(ys) - min(ys)) + 2.5)),
            )
        )
    ax = fig.subplots()
    ax.set_axis_off()
    many = len(clients) > 40
    node_keys = [("node", n) for n in frames.nodes]
    ax.scatter(
        [pos[k][0] for k in node_keys],
        [pos[k][1] for k in node_keys],
        marker="s",
        s=700,
        color=FATE_COLOURS["origin"],
        zorder=3,
    )
    for n in frames.nodes:
        x, yy = pos["node", n]
        ax.annotate(n, (x, yy), color="white", ha="center", va="center", fontsize=9, zorder=4)
    if brokers:
        bx, by = pos[BROKER]
        ax.scatter([bx], [by], marker="D", s=700, color=FATE_COLOURS["published"], zorder=3)
        ax.annotate("broker", (bx, by + 0.3), ha="center", fontsize=9)
    client_xy = [pos["client", c] for c in clients]
    dots = ax.scatter(
        [x for x, _ in client_xy] or [0.0],
        [y for _, y in client_xy] or [0.0],
        s=[40.0] * len(clients) or [0.0],
        color=["#dddddd"] * len(clients) or ["none"],
        edgecolors="#333333",
        linewidths=0.6,
        zorder=3,
    )
    if not many:
        for c, (x, yy) in zip(clients, client_xy, strict=True):
            ax.annotate(c, (x, yy - 0.3), ha="center", fontsize=7)
    lines = LineCollection([], linewidths=2, zorder=2)
    ax.add_collection(lines)
    every = list(pos.values())
    ax.set_xlim(min(x for x, _ in every) - 1.0, max(x for x, _ in every) + 1.0)
    ax.set_ylim(min(y for _, y in every) - 0.6, max(y for _, y in every) + 0.7)
    title = ax.set_title("")
    ax.legend(
        handles=[
            Line2D([], [], color=FATE_COLOURS[f], lw=2, label=f)
            for f in ("published", "relayed", "ignored", "delivered", "dropped")
        ],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=8,
    )
    index = {c: i for i, c in enumerate(clients)}
    totals = [0] * len(clients)

    def update(k: int) -> tuple[Any, ...]:
        if k == 0:
            totals[:] = [0] * len(clients)
        segments, colours, widths = [], [], []
        for (src, dst, fate), count in frames.hops[k].items():
            if src in pos and dst in pos:
                segments.append([pos[src], pos[dst]])
                colours.append(FATE_COLOURS.get(fate, "#777777"))
                widths.append(min(6.0, 1.0 + count**0.5))
        lines.set_segments(segments)
        lines.set_color(colours)
        lines.set_linewidth(widths)  # set_linewidths is its alias
        face = []
        for c in clients:
            got, lost = frames.delivered[k].get(c, 0), frames.dropped[k].get(c, 0)
            totals[index[c]] += got
            face.append(
                FATE_COLOURS["dropped"]
                if lost
                else FATE_COLOURS["delivered"]
                if got
                else "#a8d5ba"
                if totals[index[c]]
                else "#dddddd"
            )
        if clients:
            dots.set_facecolor(face)
            dots.set_sizes([40.0 + 25.0 * min(t, 20) for t in totals])
        lo, hi = frames.edges_ms[k], frames.edges_ms[k + 1]
        title.set_text(
            f"t={round_ms(lo)} to {round_ms(hi)} ms: {sum(frames.delivered[k].values())}"
            f" delivered, {sum(frames.dropped[k].values())} dropped"
        )
        return lines, dots, title

    return FuncAnimation(fig, update, frames=len(frames), interval=interval_ms, blit=False)


def save_animation(anim: Any, path: str | os.PathLike[str], fps: int = 5) -> Path:
    """Write ``anim`` as a GIF with Pillow (no ffmpeg), through a temporary file.

    A failure leaves nothing at ``path``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from roomsim.analysis import delivery_frames
    >>> from roomsim.trace import Trace
    >>> trace = Trace()
    >>> trace.record(0, "connect", client="alice", node="n1", sid="s1")
    >>> trace.add_deliveries(5, "m1", "n1", "e", ["alice"])
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run.gif"
    >>> gif = save_animation(animate_deliveries(delivery_frames(trace, max_frames=3)), out)
    >>> gif.read_bytes()[:4]
    b'GIF8'
    """
    from matplotlib.animation import PillowWriter

    from roomsim.outputs import Output

    class _GifWriter(PillowWriter):
        """Pillow's writer, saving the GIF into the open output file."""

        def finish(self) -> None:
            frames = self._frames  # type: ignore[attr-defined]  # Pillow's frames, as PillowWriter keeps them
            frames[0].save(
                out.file,
                format="GIF",
                save_all=True,
                append_images=frames[1:],
                duration=int(1000 / self.fps),
                loop=0,
            )

    path = Path(path)
    with Output(path, "animation", binary=True) as out:
        anim.save(out.name, writer=_GifWriter(fps=fps), dpi=80)
    return path
