"""Headless Chromium for report tests: a screenshot of a page, and the URLs the page made it load.

Flags from /work/.library/env/machines/python.md ("Known to work"): without the background-networking flags
Chromium keeps trying to reach its services. ``--enable-logging=stderr --v=1`` makes it log every file it
opens (``FileURLLoader::Start: <url>``) and every network request (``NotifyBeforeURLRequest: <url>``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=1"]
# Requests Chromium makes for itself (clock check, updater, accounts) whatever the page is.
BROWSER_OWN = ("http://clients2.google.com/time/", "https://clients2.google.com/time/",
               "http://update.googleapis.com/service/", "https://update.googleapis.com/service/",
               "https://accounts.google.com/ListAccounts")


def chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)


def screenshot(page: Path, png: Path, width: int = 1100, height: int = 3000, timeout_s: float = 120) -> str:
    """Render ``page`` (a local file) headless at ``width x height`` into ``png``; returns Chromium's log."""
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                               f"--screenshot={png}", page.resolve().as_uri()],
                              capture_output=True, text=True, timeout=timeout_s)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stderr


def loads(log: str) -> list[str]:
    """Every URL the page made Chromium open, less Chromium's own service requests."""
    urls = re.findall(r"(?:FileURLLoader::Start|NotifyBeforeURLRequest): (\S+)", log)
    return [u for u in urls if not u.startswith(BROWSER_OWN)]


def coloured_fraction(rgb: np.ndarray) -> float:
    """Share of pixels with a clear hue (channel spread > 60): plot colours, not text, white or grey."""
    rgb = rgb.astype(int)
    return float(((rgb.max(axis=2) - rgb.min(axis=2)) > 60).mean())
