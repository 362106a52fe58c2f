"""Pictures everyone can read: the outcome colours stay apart under colour-vision
deficiencies, and the "who got which message" grid tells outcomes apart without colour.

The deficiencies are simulated with colorspacious (Machado et al., severity 100);
differences are CAM02-UCS ΔE, where about 10 is clearly visible side by side.
"""

from __future__ import annotations

import itertools

import pytest

import roomsim
from roomsim.drawing.colours import FATE_COLOURS, OUTCOME_COLOURS

colorspacious = pytest.importorskip("colorspacious")
np = pytest.importorskip("numpy")

#: The least ΔE between two outcome colours, for everyone.
MIN_DELTA_E = 20.0
DEFICIENCIES = ("deuteranomaly", "protanomaly")


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def _seen(colour: str, deficiency: str | None) -> np.ndarray:
    if deficiency is None:
        return _rgb(colour)
    space = {"name": "sRGB1+CVD", "cvd_type": deficiency, "severity": 100}
    return np.clip(colorspacious.cspace_convert(_rgb(colour), space, "sRGB1"), 0, 1)


def _delta_e(a: str, b: str, deficiency: str | None) -> float:
    return float(colorspacious.deltaE(_seen(a, deficiency), _seen(b, deficiency), "sRGB1"))


def _luminance(colour: str) -> float:
    rgb = _rgb(colour)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


@pytest.mark.parametrize("deficiency", [None, *DEFICIENCIES])
@pytest.mark.parametrize(
    ("palette", "names"),
    [
        (OUTCOME_COLOURS, tuple(OUTCOME_COLOURS)),
        (FATE_COLOURS, ("delivered", "dropped", "discarded")),
    ],
    ids=["outcome grid", "fates"],
)
def test_outcome_colours_stay_apart(
    palette: dict[str, str], names: tuple[str, ...], deficiency: str | None
) -> None:
    """Every two outcome colours differ by at least MIN_DELTA_E, as seen with normal
    vision and with simulated deuteranopia and protanopia."""
    for a, b in itertools.combinations(names, 2):
        assert _delta_e(palette[a], palette[b], deficiency) >= MIN_DELTA_E, (a, b, deficiency)


def test_the_old_green_and_red_would_fail() -> None:
    """The test can fail: the former green/red pair is about 12 apart under deuteranopia."""
    assert _delta_e("#2e8b57", "#c0392b", "deuteranomaly") < MIN_DELTA_E


def test_delivered_and_dropped_differ_in_lightness_too() -> None:
    """Delivered and dropped keep a luminance contrast of at least 3:1 (WCAG's figure for
    graphics), so they stay apart in grey print as well."""
    light, dark = sorted(
        (_luminance(OUTCOME_COLOURS["delivered"]), _luminance(OUTCOME_COLOURS["dropped"]))
    )
    assert (dark + 0.05) / (light + 0.05) >= 3.0


def test_the_grid_marks_each_outcome_with_a_glyph_and_gridlines() -> None:
    """Each delivered cell carries a dot and each dropped cell a cross, at that cell
    (a cue that needs no colour); dropped cells are hatched; gridlines separate cells."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from roomsim.drawing import draw_outcomes

    sim = roomsim.Cluster(nodes=1, client_ms=5)
    sim.connect("alice", node="n1", rooms=["r"])
    bob = sim.connect("bob", node="n1", rooms=["r"])
    sim.connect("carol", node="n1")

    def timeline(env):  # m1 to r; bob closes while m2 is on its way; m3 to everyone
        sim.io("n1").to("r").emit("x")
        yield env.timeout(7)
        sim.io("n1").to("r").emit("x")
        yield env.timeout(1)
        bob.disconnect()
        yield env.timeout(10)
        sim.io("n1").emit("x")

    sim.process(timeline)
    sim.run()
    records = list(sim.trace)
    delivered = set(sim.trace.deliveries())
    dropped = {(r["msg"], r["client"]) for r in sim.trace.records("drop") if "client" in r}
    assert delivered and dropped
    ax = Figure().subplots()
    draw_outcomes(records, ax=ax)
    msgs = [t.get_text() for t in ax.get_xticklabels()]
    clients = [t.get_text() for t in ax.get_yticklabels()]

    def cells(pairs: set[tuple[str, str]]) -> set[tuple[int, int]]:
        return {(msgs.index(m), clients.index(c)) for m, c in pairs}

    marked = {
        c.get_gid().removeprefix("outcome:"): c
        for c in ax.collections
        if (c.get_gid() or "").startswith("outcome:")
    }
    offsets = {
        name: {(round(x), round(y)) for x, y in c.get_offsets()} for name, c in marked.items()
    }
    shapes = [c.get_paths()[0].vertices for c in marked.values()]
    assert len(shapes) == 2 and not (
        shapes[0].shape == shapes[1].shape and np.allclose(shapes[0], shapes[1])
    ), "delivered and dropped must have different glyphs"
    marked = offsets
    assert marked.get("delivered") == cells(delivered)
    assert marked.get("dropped") == cells(dropped)
    hatched = {
        (round(p.get_x() + 0.5), round(p.get_y() + 0.5)) for p in ax.patches if p.get_hatch()
    }
    assert hatched == cells(dropped)
    minor = ax.xaxis.get_minor_ticks()
    assert len(minor) == len(msgs) - 1 and all(t.gridline.get_visible() for t in minor)
