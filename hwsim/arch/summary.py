"""A JSON-ready summary of an ArchSpec: the peaks and bandwidths a report needs to draw ceilings.

A run's JSON carries it (``RunResult.to_dict()["arch_summary"]``) so a roofline can be drawn from the
file alone, with ``--set`` overrides already applied.
"""

from __future__ import annotations

from typing import Any

from hwsim.arch.spec import ArchSpec


def arch_summary(arch: ArchSpec) -> dict[str, Any]:
    """Clock, per-unit peak flop rates by format, and per-level capacity and bandwidth.

    Parameters
    ----------
    arch : ArchSpec

    Returns
    -------
    dict
        ``{"name", "clock_hz", "units": {unit: {"kind", "peak_flops_s": {dtype: FLOP/s}}},
        "memories": {level: {"kind", "off_chip", "capacity_bytes", "bandwidth_bytes_s"}}}``; memories are
        innermost first. A unit whose kind states no peak has an empty ``peak_flops_s``.

    Examples
    --------
    >>> from hwsim.arch.loader import load_arch
    >>> s = arch_summary(load_arch("npu_128"))
    >>> s["units"]["mxu"]["peak_flops_s"]["bf16"]  # 2 x 4 x 128 x 128 MAC/cycle x 1 GHz
    131072000000000.0
    >>> s["memories"]["hbm"]["bandwidth_bytes_s"]
    819200000000.0
    """
    units = {}
    for name, u in arch.units.items():
        peaks = {}
        for d in u.precisions:
            peak = u.peak_flops_s(d, arch.clock_hz)
            if peak is not None:
                peaks[d.value] = float(peak)
        units[name] = {"kind": u.kind, "peak_flops_s": peaks}
    memories = {m.name: {"kind": m.kind.value, "off_chip": m.off_chip, "capacity_bytes": m.capacity,
                         "bandwidth_bytes_s": m.bandwidth} for m in arch.memories}
    return {"name": arch.name, "clock_hz": arch.clock_hz, "units": units, "memories": memories}
