"""Numbers as people read them in figures and tables: SI prefixes (``eng``) and swept values as the space file
wrote them (``value_label``)."""

from __future__ import annotations

import numpy as np

_PREFIX = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}


def eng(value: float, unit: str) -> str:
    """Three significant digits with an SI prefix from f to E (``eng(1.98e15, "FLOP/s") == "1.98 PFLOP/s"``).

    >>> eng(1.979e15, "FLOP/s"), eng(819.2e9, "B/s"), eng(0.0, "J")
    ('1.98 PFLOP/s', '819 GB/s', '0 J')
    """
    if value == 0 or not np.isfinite(value):
        return f"{value:g} {unit}"
    exp = int(np.clip(np.floor(np.log10(abs(value)) / 3) * 3, -15, 18))
    mant = float(f"{value / 10 ** exp:.3g}")
    if abs(mant) >= 1000 and exp < 18:
        mant, exp = mant / 1000, exp + 3
    return f"{mant:g} {_PREFIX[exp]}{unit}"


_BINARY = ((2.0**40, "Ti"), (2.0**30, "Gi"), (2.0**20, "Mi"), (2.0**10, "Ki"))


def value_label(value, unit: str = "", labels: dict | None = None) -> str:
    """A swept parameter's value for people: as the space file wrote it when ``labels`` has it, else with an
    SI prefix and ``unit`` (binary prefixes for whole KiB/MiB/GiB of bytes), else large numbers with a prefix
    and small ones as they are.

    >>> value_label(33554432.0, "B"), value_label(819.2e9, "B/s"), value_label(8388608.0), value_label(128)
    ('32 MiB', '819 GB/s', '8.39 M', '128')
    >>> value_label(8388608.0, "B", {8388608.0: "8MiB"}), value_label("ffet")
    ('8MiB', 'ffet')
    """
    if labels and value in labels:
        return str(labels[value])
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value):
        return str(value)
    v = float(value)
    if unit == "B":
        for scale, prefix in _BINARY:
            if abs(v) >= scale and float(f"{v / scale:.3g}") == v / scale:
                return f"{v / scale:g} {prefix}B"
    if unit or abs(v) >= 1e4:
        return eng(v, unit).strip()
    return f"{v:g}"
