"""Build the course site offline, from the executed notebooks, with one command.

Usage (from the repository's root)::

    python course/build_site.py build [--out build/site]

Executes every notebook of ``notebooks/`` in a fresh kernel with the inline
backend (as Jupyter shows them), copies them with the instructor guide and the
project into a build folder beside ``course/site/mkdocs.yml``, runs ``mkdocs
build`` there (mkdocs-material and mkdocs-jupyter, nothing fetched from the
network), then gives every figure an alt text: the notebook, the figure's
number and the heading it sits under.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "course" / "site"
INLINE = "module://matplotlib_inline.backend_inline"

__all__ = ["build", "figure_alts", "notebook_pages"]


def notebook_pages() -> list[Path]:
    """The course's notebooks, in order."""
    return sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def _execute(path: Path, dest: Path) -> None:
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    previous = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE
    try:
        nbclient.NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    finally:
        if previous is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = previous
    for cell in nb.cells:  # headings lose inline code in the site's titles: keep the words
        if cell.cell_type == "markdown":
            cell.source = "\n".join(
                line.replace("`", "") if line.startswith("#") else line
                for line in cell.source.splitlines()
            )
    nbformat.write(nb, dest)


def figure_alts(notebook: Path) -> list[str]:
    """An alt text for each PNG figure of an executed notebook, in order."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    title, heading, alts = notebook.stem, "", []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# ") and title == notebook.stem:
                    title = line[2:].strip()
                elif line.startswith("#"):
                    heading = line.lstrip("#").strip()
        elif cell.cell_type == "code":
            for out in cell.get("outputs", []):
                if "image/png" in out.get("data", {}):
                    where = f", under “{heading}”" if heading else ""
                    alts.append(f"Figure {len(alts) + 1} of “{title}”{where}.".replace("`", ""))
    return alts


_IMG = re.compile(r"<img\b[^>]*>")
_ALT = re.compile(r'\salt="[^"]*"')


def _add_alts(page: Path, alts: list[str]) -> int:
    """Give each PNG figure of ``page`` its alt text (replacing a placeholder)."""
    text = page.read_text(encoding="utf-8")
    count = 0

    def put(match: re.Match[str]) -> str:
        nonlocal count
        tag = match.group(0)
        if 'src="data:image/png' not in tag:
            return tag
        alt = alts[count] if count < len(alts) else f"Figure {count + 1}."
        count += 1
        return _ALT.sub("", tag).replace("<img", f'<img alt="{html.escape(alt)}"', 1)

    page.write_text(_IMG.sub(put, text), encoding="utf-8")
    return count


def build(out: Path | None = None, work: Path | None = None) -> Path:
    """Build the site into ``out`` (default ``build/site``); return it."""
    out = (out or ROOT / "build" / "site").resolve()
    work = (work or out.parent / f"{out.name}-src").resolve()
    if work.exists():
        shutil.rmtree(work)
    docs = work / "docs"
    shutil.copytree(SITE / "docs", docs)
    shutil.copy(SITE / "mkdocs.yml", work / "mkdocs.yml")
    shutil.copy(ROOT / "docs" / "instructor-guide.md", docs / "instructor-guide.md")
    project = (ROOT / "course" / "project" / "README.md").read_text(encoding="utf-8")
    (docs / "project.md").write_text(project.replace("(starter.py)", "(#)"), encoding="utf-8")
    (docs / "notebooks").mkdir()
    nav = ["  - Home: index.md"]
    for path in notebook_pages():
        _execute(path, docs / "notebooks" / path.name)
        nav.append(f"  - {path.stem[:2]}: notebooks/{path.name}")
    nav += ["  - Instructor guide: instructor-guide.md", "  - Project: project.md"]
    with (work / "mkdocs.yml").open("a", encoding="utf-8") as fh:
        fh.write("nav:\n" + "\n".join(nav) + "\n")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet", "--clean", "-d", str(out)],
        cwd=work,
        check=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    for path in notebook_pages():
        _add_alts(
            out / "notebooks" / f"{path.stem}.html", figure_alts(docs / "notebooks" / path.name)
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the course site.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute the notebooks and build the site")
    b.add_argument("--out", type=Path, default=ROOT / "build" / "site")
    args = parser.parse_args(argv)
    site = build(args.out)
    print(f"site built in {site} (open {site / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
