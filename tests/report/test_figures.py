"""Figures: drawn values equal the data, PNGs decode at the size asked for, SVGs declare it."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from hwsim.report import figures as F
from hwsim.report import tables as T
from hwsim.report.build import DPI, one_axes, render_figure
from hwsim.report.inputs import load_input


def _ax():
    return Figure().subplots()


def test_png_and_svg_have_the_requested_size(run_doc):
    """7.5 x 3.2 in at 100 dpi -> 750 x 320 px; the SVG says 540pt x 230.4pt (72 pt/in)."""
    f = render_figure("area", "cap", one_axes(F.area_breakdown, T.area_frame(run_doc)), 7.5, 3.2)
    img = Image.open(io.BytesIO(f.png))
    img.load()
    assert img.format == "PNG" and img.size == (750, 320) == f.size_px
    w, h = re.search(r'<svg[^>]*width="([\d.]+)pt" height="([\d.]+)pt"', f.svg).groups()
    assert (float(w), float(h)) == pytest.approx((540.0, 230.4))
    # not blank: at least 2% of the pixels are coloured (the bars)
    rgb = np.asarray(img.convert("RGB"), int)
    assert ((rgb.max(axis=2) - rgb.min(axis=2)) > 60).mean() > 0.02


def test_every_report_figure_decodes(built):
    """Every figure of the three report kinds decodes as a PNG of its declared size."""
    names = []
    for report in built.values():
        for fig in report.figures:
            img = Image.open(io.BytesIO(fig.png))
            assert img.size == (round(fig.width_in * DPI), round(fig.height_in * DPI)), fig.name
            assert fig.svg.lstrip().startswith("<?xml") and "</svg>" in fig.svg
            names.append(fig.name)
    assert {"block_shares", "latency_by_op", "energy_by_op", "roofline", "timeline", "area_breakdown", "pareto",
            "sensitivity_units.mxu.rows", "sensitivity_memories.hbm.bandwidth", "parity"} <= set(names)


def test_latency_bars_are_the_op_times(run_doc):
    """Stacked bars: compute segment width = compute_s, stall segment starts where compute ends."""
    f = T.ops_frame(run_doc)
    ax = F.latency_by_op(f, _ax())
    n = len(f)
    comp, stall = ax.patches[:n], ax.patches[n:2 * n]
    np.testing.assert_allclose([p.get_width() for p in comp], f["compute_s"])
    np.testing.assert_allclose([p.get_x() for p in stall], f["compute_s"])
    np.testing.assert_allclose([p.get_x() + p.get_width() for p in stall], f["seconds"])


def test_energy_stack_tops_are_op_energies(run_doc):
    f = T.ops_frame(run_doc)
    ax = F.energy_by_op(f, _ax())
    right = {}
    for p in ax.patches:
        y = round(p.get_y() + p.get_height() / 2, 6)
        right[y] = max(right.get(y, 0.0), p.get_x() + p.get_width())
    tops = [right[y] for y in sorted(right, reverse=True)]
    np.testing.assert_allclose(tops, f["energy_j"], rtol=1e-9)


def test_roofline_ceilings_and_points(run_doc):
    """Ceilings at the npu's peaks (131.072 and 1.024 TFLOP/s); every op sits on or under its roofs:
    achieved <= bandwidth x intensity at every level (the roofline law the model must obey)."""
    f = T.ops_frame(run_doc)
    ax = F.roofline(f, _ax())
    flat = {float(l.get_ydata()[0]) for l in ax.lines if len(set(np.asarray(l.get_ydata(), float))) == 1}
    assert {131.072e12, 1.024e12} <= flat
    mems = run_doc["arch_summary"]["memories"]
    level_points = [c.get_offsets() for c in ax.collections[:len(mems)]]
    for pts, (lv, m) in zip(level_points, mems.items()):
        sub = f[(f.flops > 0) & (f[f"bytes.{lv}"] > 0)]
        np.testing.assert_allclose(pts[:, 0], sub.flops / sub[f"bytes.{lv}"])
        np.testing.assert_allclose(pts[:, 1], sub.achieved_flops_s)
        assert np.all(pts[:, 1] <= m["bandwidth_bytes_s"] * pts[:, 0] * (1 + 1e-9))
    assert "kv_append" in " ".join(t.get_text() for t in ax.texts)  # 0 flops: named, not plotted


def test_pareto_rings_the_front(sweep_dir):
    pts = load_input(sweep_dir).frame
    ax = F.pareto_scatter(pts, Figure().subplots())
    ringed = sum(len(c.get_offsets()) for c in ax.collections if len(c.get_facecolors()) == 0)
    assert ringed == len(T.pareto_frame(pts)) == 16
    assert ax.get_title() == "24 points, 16 on the front, 1 failed"


def test_sensitivity_lines_are_medians(sweep_dir):
    pts = load_input(sweep_dir).frame
    ax = F.sensitivity(pts, _ax(), param="units.mxu.rows", metric="latency_s")
    s = T.sensitivity_frame(pts, "units.mxu.rows")
    dec = ax.lines[0]
    np.testing.assert_allclose(dec.get_xdata(), [32, 64, 128, 256])
    np.testing.assert_allclose(dec.get_ydata(), s[s.block == "decode"]["latency_s.median"])
    assert ax.get_xscale() == "log"  # powers of two -> log2 axis


def test_parity_plot_takes_arrays():
    ax = F.parity_plot(np.array([1e-3, 2e-3]), np.array([1.1e-3, 1.6e-3]), _ax(), measured_label="meas",
                       predicted_label="pred")
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[1e-3, 1.1e-3], [2e-3, 1.6e-3]])
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert ax.get_title().startswith("n = 2, MAPE 15.0%")  # (10% + 20%) / 2


def test_swept_quantities_read_as_the_space_file_wrote_them(sweep_dir):
    """space.yaml lists memories.hbm.bandwidth as [0.4TB/s, 0.8TB/s, 1.6TB/s]: the sensitivity ticks and the
    report's tables say exactly that (not 4e+11); rows, plain numbers, stay numbers. Without the space file
    (a bare .parquet) a quantity still gets a prefix, never an exponent."""
    inp = load_input(sweep_dir)
    assert inp.value_units == {"memories.hbm.bandwidth": "B/s"}
    assert inp.value_labels == {"memories.hbm.bandwidth": {0.4e12: "0.4TB/s", 0.8e12: "0.8TB/s", 1.6e12: "1.6TB/s"}}
    ax = F.sensitivity(inp.frame, _ax(), param="memories.hbm.bandwidth", unit="B/s",
                       labels=inp.value_labels["memories.hbm.bandwidth"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.4TB/s", "0.8TB/s", "1.6TB/s"]
    ax = F.sensitivity(inp.frame, _ax(), param="units.mxu.rows")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["32", "64", "128", "256"]
    ax = F.sensitivity(inp.frame, _ax(), param="memories.hbm.bandwidth")  # no space file: a prefix, no unit
    assert [t.get_text() for t in ax.get_xticklabels()] == ["400 G", "800 G", "1.6 T"]
    assert F.value_label(8 * 2**20, "B") == "8 MiB" and F.value_label(3e6, "B") == "3 MB"


def test_sweep_tables_show_written_values(built):
    front = next(t for t in built["sweep"].tables if t.name == "pareto_front")
    assert set(front.display["memories.hbm.bandwidth"]) <= {"0.4TB/s", "0.8TB/s", "1.6TB/s"}
    assert front.data["memories.hbm.bandwidth"].dtype == float  # the CSV keeps SI numbers


def test_log_axes_over_many_decades_label_powers_of_ten():
    """10 us .. 20 ms (3.3 decades): labels at 10 us, 100 us, 1 ms, 10 ms only (1-2-5 labels touched);
    under 3 decades the 1-2-5 labels stay."""
    ax = F.parity_plot(np.array([1e-5, 2e-2]), np.array([1.2e-5, 1.9e-2]), _ax())
    ax.figure.canvas.draw()
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert np.allclose(np.log10(ticks), np.round(np.log10(ticks))) and len(ticks) == 4
    ax = F.parity_plot(np.array([1e-3, 2e-2]), np.array([1.2e-3, 1.9e-2]), _ax())
    lo, hi = ax.get_xlim()
    assert [t for t in ax.get_xticks() if lo <= t <= hi] == pytest.approx([1e-3, 2e-3, 5e-3, 1e-2, 2e-2])


def test_geometric_range_gets_a_log_axis(sweep_dir):
    """0.4, 0.8, 3.2 TB/s (8x, not powers of two): a log axis, so the 0.4 and 0.8 labels sit as far apart as
    0.8 and 1.6 would instead of overprinting; 7 and 5 (nm, 1.4x) stay linear."""
    pts = load_input(sweep_dir).frame
    pts = pts.assign(**{"memories.hbm.bandwidth": pts["memories.hbm.bandwidth"].map(
        {0.4e12: 0.4e12, 0.8e12: 0.8e12, 1.6e12: 3.2e12})})
    ax = F.sensitivity(pts, _ax(), param="memories.hbm.bandwidth", unit="B/s")
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["400 GB/s", "800 GB/s", "3.2 TB/s"]
    pts = pts.assign(**{"units.mxu.rows": pts["units.mxu.rows"].map({32: 7, 64: 5, 128: 7, 256: 5})})
    assert F.sensitivity(pts, _ax(), param="units.mxu.rows").get_xscale() == "linear"


def test_roofline_labels_keep_clear_of_the_points():
    """H100, Llama-2-7B prefill: the GEMMs sit just under the tf32 ceiling at the right, so the tf32 and fp32
    ceiling labels move to the left end (on npu_128 nothing is there and they stay right); the GEMMs' own label,
    near the right edge, puts one name a line instead of running into the legend."""
    from hwsim import api

    run = api.run("h100", "llama2_7b", "prefill").to_dict()
    b = run["block"]
    ax = F.roofline(T.ops_frame(run), _ax(), block=(b["flops"], b["dram_bytes"], b["seconds"]))
    ceil = {t.get_text().split(":")[0]: t.get_horizontalalignment() for t in ax.texts
            if t.get_text().startswith("gpu ")}
    assert ceil == {"gpu fp8/int8": "right", "gpu bf16/fp16": "left", "gpu tf32": "left", "gpu fp32": "left"}
    gemms = next(t.get_text() for t in ax.texts if "gate_up" in t.get_text())
    assert gemms == "o_proj,\ndown,\ngate_up +1"
    ax = F.roofline(T.ops_frame(api.run().to_dict()), _ax())
    assert {t.get_horizontalalignment() for t in ax.texts if "TFLOP/s" in t.get_text()} == {"right"}
