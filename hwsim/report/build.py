"""A report as a value: sections of prose, figures (PNG + SVG bytes) and tables, built from one input.

Each input kind registers a *plan* (``@register_plan(InputKind.RUN)``) that turns a :class:`ReportInput` into a
:class:`Report`; :func:`build_report` looks the plan up, so a new kind of input is one new plan.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Callable

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from hwsim.errors import HwsimError
from hwsim.report.inputs import InputKind, ReportInput

DPI = 100
RC = {"svg.fonttype": "none", "svg.hashsalt": "hwsim", "font.size": 9, "axes.titlesize": 10,
      "axes.spines.top": False, "axes.spines.right": False, "figure.facecolor": "white"}


@dataclass(frozen=True)
class FigureOut:
    """One rendered figure: ``png`` bytes at ``DPI`` (``width_in x height_in`` inches) and ``svg`` text."""

    name: str
    caption: str
    png: bytes
    svg: str
    width_in: float
    height_in: float

    @property
    def size_px(self) -> tuple[int, int]:
        return round(self.width_in * DPI), round(self.height_in * DPI)


@dataclass(frozen=True)
class TableOut:
    """A table: ``data`` in SI units (written as CSV), ``display`` formatted for people (Markdown/HTML)."""

    name: str
    caption: str
    data: pd.DataFrame
    display: pd.DataFrame


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    figures: tuple[FigureOut, ...] = ()
    tables: tuple[TableOut, ...] = ()
    bullets: bool = False  # paragraphs are list items (notes)


@dataclass(frozen=True)
class Report:
    """Title, headline numbers (label, value), sections in reading order, and where everything came from."""

    title: str
    subtitle: str
    headline: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = ()
    input: ReportInput | None = field(default=None, repr=False)

    @property
    def figures(self) -> list[FigureOut]:
        return [f for s in self.sections for f in s.figures]

    @property
    def tables(self) -> list[TableOut]:
        return [t for s in self.sections for t in s.tables]


def render_figure(name: str, caption: str, draw: Callable[[Figure], object], width_in: float,
                  height_in: float) -> FigureOut:
    """Draw on a fresh constrained-layout Figure (no pyplot) and keep its PNG and SVG.

    The PNG is exactly ``width_in x height_in`` inches at ``DPI`` (no tight bbox); both files carry no date or
    software stamp and the SVG's ids are salted with a constant, so the same input gives the same bytes.
    """
    with mpl.rc_context(RC):
        fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
        draw(fig)
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return FigureOut(name, caption, png.getvalue(), svg.getvalue().decode(), width_in, height_in)


def one_axes(fn: Callable, frame: pd.DataFrame, **kw) -> Callable[[Figure], object]:
    """A ``draw(fig)`` that calls a ``(frame, ax)`` figure function on a single axes."""
    return lambda fig: fn(frame, fig.subplots(), **kw)


_PLANS: dict[InputKind, Callable[[ReportInput], Report]] = {}


def register_plan(kind: InputKind):
    """Decorator: the function that builds the report for inputs of ``kind``."""

    def deco(fn: Callable[[ReportInput], Report]) -> Callable[[ReportInput], Report]:
        _PLANS[kind] = fn
        return fn

    return deco


def build_report(inp: ReportInput) -> Report:
    """The report for ``inp``, by the plan registered for its kind."""
    import hwsim.report.plans  # noqa: F401  (registers the shipped plans)

    if inp.kind not in _PLANS:
        raise HwsimError(f"{inp.source}: no report plan for {inp.kind.value} inputs")
    return _PLANS[inp.kind](inp)
