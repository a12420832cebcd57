"""Progress: a redrawn bar with rate and ETA on a terminal, sparse plain lines elsewhere."""

import io

from hwsim.sweep.progress import Progress


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_plain_lines_when_not_a_terminal():
    """1000 points, 100 already done; 300 more in 3 s -> 100 points/s, 600 left -> ETA 6 s. One line per
    10 s of wall time at most, then a final line."""
    out, clock = io.StringIO(), Clock()
    p = Progress(1000, done=100, stream=out, tty=False, clock=clock)
    for _ in range(3):
        clock.t += 1.0
        p.update(100)
    assert out.getvalue() == ""                      # less than 10 s: quiet
    clock.t += 9.0
    p.update(0)
    assert out.getvalue() == "sweep: 400/1,000 points (40.0%), 25 points/s, ETA 24s\n"
    p.close()
    assert out.getvalue().count("\n") == 2 and "\r" not in out.getvalue()


def test_bar_on_a_terminal_is_redrawn_in_place():
    out, clock = io.StringIO(), Clock()
    p = Progress(200, stream=out, tty=True, clock=clock)
    clock.t = 2.0
    p.update(50)
    text = out.getvalue()
    assert text.startswith("\r[#######.......................] 50/200 points (25.0%), 25 points/s, ETA 6s")
    assert "\n" not in text
    clock.t = 8.0
    p.update(150)
    p.close()
    assert out.getvalue().endswith("200/200 points (100.0%), 25 points/s, ETA 0s\x1b[K\n")


def test_disabled_progress_writes_nothing():
    out = io.StringIO()
    p = Progress(10, stream=out, enabled=False, tty=True)
    p.update(10)
    p.close()
    assert out.getvalue() == ""
