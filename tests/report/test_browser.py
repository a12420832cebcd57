"""The HTML report in a real headless Chromium: its figures are on the screen and it loads nothing but
itself. A page with a missing image is the control that shows both checks can fail."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

import browser

pytestmark = pytest.mark.skipif(browser.chromium() is None,
                                reason="chromium is not installed (.ci/run installs Debian's chromium package)")


def _shot(page, tmp_path, name):
    png = tmp_path / f"{name}.png"
    log = browser.screenshot(page, png)
    rgb = np.asarray(Image.open(png).convert("RGB"))
    return rgb, browser.loads(log)


def test_report_renders_with_figures_and_loads_nothing_else(run_report, tmp_path):
    out, _ = run_report
    page = out / "report.html"
    rgb, urls = _shot(page, tmp_path, "report")
    assert urls == [page.resolve().as_uri()]
    assert rgb.shape == (3000, 1100, 3)
    # not blank, and the figures are drawn: coloured pixels (bars, points) in most 500 px bands of the page
    bands = [browser.coloured_fraction(rgb[y:y + 500]) for y in range(0, 3000, 500)]
    assert browser.coloured_fraction(rgb) > 0.03, bands
    assert sum(b > 0.01 for b in bands) >= 4, bands
    assert rgb.std() > 20


def test_control_page_with_broken_figures_fails_both_checks(run_report, tmp_path):
    """Replace every embedded figure by a file that does not exist: Chromium tries to load it (caught by
    ``loads``) and the page has no coloured pixels left."""
    out, _ = run_report
    html = (out / "report.html").read_text()
    broken = re.sub(r'src="data:image/svg\+xml;base64,[^"]+"', 'src="figures/missing.svg"', html)
    page = tmp_path / "broken.html"
    page.write_text(broken)
    rgb, urls = _shot(page, tmp_path, "broken")
    assert (tmp_path / "figures" / "missing.svg").as_uri() in urls
    assert browser.coloured_fraction(rgb) < 0.01


@pytest.mark.parametrize("kind", ["run", "sweep", "validation"])
def test_every_kind_of_report_shows_its_figures(kind, built, tmp_path):
    """Each report kind's page against the same page with its figures pointed at a missing file (same layout:
    the <img> keeps its width and height): the pixels that differ are at least half the inked pixels of the
    report's first figure (the parity plot is mostly white, so 'coloured pixels' alone cannot tell), and the
    real page loads nothing but itself."""
    from hwsim.report import save_report

    out = tmp_path / kind
    save_report(built[kind], out, command=["test"])
    page = out / "report.html"
    broken = tmp_path / f"{kind}_broken.html"
    broken.write_text(re.sub(r'src="data:image/svg\+xml;base64,[^"]+"', 'src="figures/missing.svg"',
                             page.read_text()))
    rgb, urls = _shot(page, tmp_path, f"{kind}_real")
    assert urls == [page.resolve().as_uri()]
    control, _ = _shot(broken, tmp_path, f"{kind}_broken")
    first = np.asarray(Image.open(out / "figures" / f"{built[kind].figures[0].name}.png").convert("RGB"), int)
    inked = int((first.min(axis=2) < 235).sum())
    differ = int((np.abs(rgb.astype(int) - control.astype(int)).max(axis=2) > 40).sum())
    assert inked > 5000 and differ >= inked // 2, (inked, differ)
