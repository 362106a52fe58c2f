"""The course site: built offline by one command, every page opened in headless Chromium.

``python course/build_site.py build`` executes the notebooks and builds the site with
mkdocs; this test builds it, serves it on 127.0.0.1, opens every page in
Debian's ``chromium`` (with every host but 127.0.0.1 unresolvable, so a page
that needs the internet shows it), and asserts that each page loads with its
heading and that each notebook shows all its figures, decoded, each with an alt
text.  A screenshot of each notebook's page is kept in ``build/artefacts/site/``
(or ``$ROOMSIM_ARTEFACTS/site``).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_notebooks import EXPECTED_FIGURES  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

pytestmark = pytest.mark.slow


def _site_module():
    spec = importlib.util.spec_from_file_location("course_site", ROOT / "course" / "build_site.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _need_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return CHROMIUM


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs_jupyter")
    pytest.importorskip("material")
    _need_chromium()
    return _site_module().build(tmp_path_factory.mktemp("site") / "site")


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [_need_chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )


def _pages(site: Path) -> list[str]:
    notebooks = [f"notebooks/{p.stem}.html" for p in _site_module().notebook_pages()]
    return ["index.html", *notebooks, "instructor-guide.html", "project.html"]


_CHECKER = """<!doctype html><html><head><title>checking</title></head><body>
<pre id="out"></pre>%s<script>
window.addEventListener('load', () => {
  const out = [];
  for (const f of document.querySelectorAll('iframe')) {
    const d = f.contentDocument;
    // the notebook's figures: PNG outputs (an animation's frames are not counted)
    const imgs = [...d.querySelectorAll('.jp-RenderedImage img')]
      .filter(i => (i.getAttribute('src') || '').startsWith('data:image/png'));
    const h1 = d.querySelector('h1');
    out.push({page: f.getAttribute('src'), h1: h1 ? h1.textContent.trim() : '',
              figures: imgs.length,
              shown: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
              with_alt: imgs.filter(i => (i.alt || '').startsWith('Figure ')).length,
              text: d.body.innerText.length});
  }
  document.getElementById('out').textContent = JSON.stringify(out);
});
</script></body></html>"""


def test_every_page_loads_and_every_figure_is_shown(site: Path, served: str) -> None:
    """Every page of the site has its heading and text; each notebook page shows as many
    decoded figures as the notebook draws, each with an alt text."""
    pages = _pages(site)
    frames = "".join(
        f'<iframe src="{p}" style="width:1200px;height:900px"></iframe>' for p in pages
    )
    (site / "_check.html").write_text(_CHECKER % frames, encoding="utf-8")
    done = _chromium("--virtual-time-budget=5000", "--dump-dom", f"{served}/_check.html")
    found = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S)
    assert found and found.group(1), done.stderr[-2000:]
    report = {row["page"]: row for row in json.loads(found.group(1))}
    assert sorted(report) == sorted(pages)
    for page, row in report.items():
        assert row["h1"], f"{page}: no heading"
        assert row["text"] > 200, f"{page}: almost no text"
        stem = Path(page).stem
        if page.startswith("notebooks/"):
            assert row["figures"] == EXPECTED_FIGURES[stem], page
            assert row["shown"] == row["figures"], f"{page}: a figure did not decode"
            assert row["with_alt"] == row["figures"], f"{page}: a figure has no alt text"


def test_a_screenshot_of_each_notebook_page(site: Path, served: str) -> None:
    """A screenshot of each notebook's page is written and is not blank."""
    from matplotlib.image import imread

    out = Path(os.environ.get("ROOMSIM_ARTEFACTS", ROOT / "build" / "artefacts")) / "site"
    out.mkdir(parents=True, exist_ok=True)
    for page in _pages(site):
        if not page.startswith("notebooks/"):
            continue
        shot = out / f"{Path(page).stem}.png"
        shot.unlink(missing_ok=True)
        _chromium("--window-size=1280,1600", f"--screenshot={shot}", f"{served}/{page}")
        assert shot.exists(), page
        pixels = imread(shot)
        assert pixels.shape[0] >= 1000 and pixels.std() > 0.05, f"{page}: blank screenshot"
