"""course/durations.py: the counting behind the instructor guide's durations (not timed)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
nbformat = pytest.importorskip("nbformat")


def _durations():
    spec = importlib.util.spec_from_file_location("durations", ROOT / "course" / "durations.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["durations"] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _tiny(path: Path) -> Path:
    """Two markdown cells (14 words, one "Try it"), two code cells (3 non-blank lines,
    one exercise checked twice, so counted once)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Rooms and joins\n\nA socket **joins** a room."),
        nbformat.v4.new_markdown_cell("**Try it:** leave at t = 12."),
        nbformat.v4.new_code_cell('sim = 1\n\n\ncheck_answer("02.1", {"alice"})'),
        nbformat.v4.new_code_cell('check_answer("02.1", set())\n   \n'),
    ]
    nbformat.write(nb, path)
    return path


def test_a_tiny_notebook_is_counted_as_a_reader_would(tmp_path: Path) -> None:
    """Words are the prose's words (markup is not a word), code lines the non-blank lines,
    an exercise is a distinct check_answer id, a "Try it" a markdown cell saying so."""
    durations = _durations()
    counts = durations.count(nbformat.read(_tiny(tmp_path / "tiny.ipynb"), as_version=4))
    assert counts == durations.Counts(words=14, code_lines=3, exercises=1, try_its=1)


def test_the_minutes_follow_the_stated_rates() -> None:
    """Reading at the stated rates plus the allowances; a run time adds its minutes."""
    durations = _durations()
    counts = durations.Counts(words=durations.WORDS_PER_MIN * 3, code_lines=0, exercises=2,
                              try_its=1)  # fmt: skip
    expected = 3 + 2 * durations.EXERCISE_MIN + durations.TRY_IT_MIN
    assert durations.minutes(counts) == pytest.approx(expected)
    assert durations.minutes(counts, run_s=90) == pytest.approx(expected + 1.5)
    assert durations.rounded_up(expected + 0.1) == 5 * ((expected + 0.1) // 5 + 1)
    assert durations.rounded_up(25) == 25


def test_the_table_lists_each_notebook_and_a_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--no-run prints the rates, a row per notebook and the sum of the rounded totals;
    a notebook that is not there is one clear line and exit 2."""
    durations = _durations()
    path = _tiny(tmp_path / "tiny.ipynb")
    assert durations.main([str(path), str(path), "--no-run"]) == 0
    out = capsys.readouterr().out
    assert f"{durations.WORDS_PER_MIN} words/min" in out
    rows = [line for line in out.splitlines() if line.startswith("| tiny |")]
    # 14/200 + 3/10 + 10 + 5 = 15.37 min, announced as 20
    assert rows == ["| tiny | 14 | 3 | 1 | 1 | 0 min | - | 20 min |"] * 2
    assert "| all | | | | | | | 40 min |" in out
    assert durations.main([str(tmp_path / "none.ipynb")]) == 2
    assert capsys.readouterr().err.strip() == f"durations: no notebook {tmp_path / 'none.ipynb'}"


def test_the_guide_gives_the_scripts_counts_and_each_notebook_announces_its_total() -> None:
    """The instructor guide's table has, for every notebook, the words, code lines,
    exercises and "Try it" prompts the script counts now, and a total no less than
    the counts alone give (the run time only adds); a notebook that announces its
    duration ("In about N minutes") announces the guide's total."""
    import re

    durations = _durations()
    guide = (ROOT / "docs" / "instructor-guide.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (\d\d) [^|]+\| (\d+) \| (\d+) \| (\d+) \| (\d+) \| \d+ min \| \d+ s \| (\d+) min \|$",
        guide,
        re.MULTILINE,
    )
    notebooks = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    assert [r[0] for r in rows] == [p.name[:2] for p in notebooks]
    for row, path in zip(rows, notebooks, strict=True):
        counts = durations.count(nbformat.read(path, as_version=4))
        assert tuple(map(int, row[1:5])) == (
            counts.words, counts.code_lines, counts.exercises, counts.try_its
        ), path.name  # fmt: skip
        assert int(row[5]) >= durations.rounded_up(durations.minutes(counts)), path.name
        announced = re.search(r"In about (\d+)\s+minutes", path.read_text(encoding="utf-8")
                              .replace('\\n",\n    "', " "))  # fmt: skip
        if announced:
            assert int(announced.group(1)) == int(row[5]), path.name
