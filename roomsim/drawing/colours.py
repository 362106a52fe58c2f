"""The colours of the pictures: one per fate, one per message, one per kind of emit.

The fates that tell outcomes apart (delivered, dropped, discarded) come from
the Okabe-Ito palette, chosen to stay distinct under deuteranopia and
protanopia (``tests/test_colours.py`` simulates both with colorspacious), and
every picture that tells outcomes apart also uses a second cue: a glyph,
a hatch or a label.
"""

from __future__ import annotations

import colorsys

__all__ = [
    "EMIT_KIND_COLOURS",
    "FATE_COLOURS",
    "FATE_LINESTYLES",
    "FATE_MARKERS",
    "OUTCOME_COLOURS",
    "OUTCOME_HATCHES",
    "OUTCOME_MARKERS",
    "message_colours",
]

#: A colour per ``fate`` of :func:`~roomsim.analysis.delivery_graph` (and of hops).
FATE_COLOURS = {
    "sender": "#56b4e9",
    "sent": "#56b4e9",
    "origin": "#1f4e79",
    "published": "#8e6cbf",
    "relayed": "#117733",
    "received": "#005a9c",
    "delivered": "#005a9c",
    "discarded": "#000000",
    "ignored": "#a0a0a0",
    "dropped": "#e69f00",
}
#: The delivery graph's second cue: a glyph on each client, node or broker by its fate ...
FATE_MARKERS = {
    "sender": "^",
    "sent": "^",
    "origin": "^",
    "published": "",
    "relayed": "+",
    "received": "+",
    "delivered": "o",
    "discarded": "_",
    "ignored": "x",
    "dropped": "X",
}
#: ... and a line style on each hop by its fate.
FATE_LINESTYLES = {"dropped": "dashed", "ignored": "dotted", "discarded": "dashdot"}

#: The "who got which message" grid: dark blue, orange and light grey differ in
#: lightness as well as hue (delivered/dropped contrast 3.2:1), so they stay apart in
#: grey and under every common colour-vision deficiency.
OUTCOME_COLOURS = {"not targeted": "#f2f2f2", "delivered": "#005a9c", "dropped": "#e69f00"}
#: The grid's second cue: a marker in each cell (none when not targeted) ...
OUTCOME_MARKERS = {"not targeted": "", "delivered": "o", "dropped": "X"}
#: ... and a hatch over dropped cells.
OUTCOME_HATCHES = {"not targeted": "", "delivered": "", "dropped": "///"}

#: A colour per kind of emit (latency plots).
EMIT_KIND_COLOURS = {"room": "#1f77b4", "broadcast": "#ff7f0e", "private": "#2ca02c"}

_TAB10 = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def message_colours(n: int) -> list[str]:
    """``n`` distinct colours, one per message, in a fixed order.

    Up to ten are the tab10 colours; beyond, hues spaced by the golden ratio.

    Examples
    --------
    >>> message_colours(2)
    ['#1f77b4', '#ff7f0e']
    >>> len(set(message_colours(50)))
    50
    """
    if n <= len(_TAB10):
        return _TAB10[:n]
    out = []
    for i in range(n):
        hue = (i * 0.618033988749895) % 1.0
        light = 0.42 + 0.12 * (i % 3) / 2
        r, g, b = colorsys.hls_to_rgb(hue, light, 0.75)
        out.append(f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}")
    return out
