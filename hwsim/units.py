"""Quantities with units: the only module that knows about prefixes such as "KiB" or "GHz".

Everything past the spec loader is SI (seconds, bytes, hertz, joules, square metres are *not* used: area
is kept in mm^2 because every cited table uses it, and the name says so). Spec files may write
``1.2GHz``, ``64 KiB``, ``3.35 TB/s`` or plain numbers (already SI).

Examples
--------
>>> parse_quantity("1.2GHz", "Hz")
1200000000.0
>>> parse_quantity("64KiB", "B")
65536.0
>>> parse_quantity("3.35 TB/s", "B/s")
3350000000000.0
>>> parse_quantity(700e6, "Hz")
700000000.0
"""

from __future__ import annotations

import math
import re

KIB = 1024
MIB = 1024**2
GIB = 1024**3
KB = 1e3
MB = 1e6
GB = 1e9
TB = 1e12

_DECIMAL = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
            "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}

# Base units a spec may name, and their accepted spellings (bits are converted to bytes).
_BASES = {
    "Hz": {"Hz": 1.0},
    "B": {"B": 1.0, "b": 0.125, "bit": 0.125, "bits": 0.125, "byte": 1.0, "bytes": 1.0},
    "B/s": {"B/s": 1.0, "b/s": 0.125, "bps": 0.125, "Bps": 1.0},
    "s": {"s": 1.0},
    "J": {"J": 1.0},
    "W": {"W": 1.0},
    "mm2": {"mm2": 1.0, "mm^2": 1.0},
}

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµ/^0-9]*)\s*$")


class QuantityError(ValueError):
    """A quantity string that cannot be read; the message names what is allowed."""


def parse_quantity(value: float | int | str, base: str) -> float:
    """Convert ``value`` to SI units of ``base`` ("Hz", "B", "B/s", "s", "J", "W", "mm2").

    Numbers pass through unchanged. Strings carry a decimal prefix (k, M, G, T, m, u, n, p) or,
    for bytes, a binary one (Ki, Mi, Gi, Ti). Raises :class:`QuantityError` with the allowed
    spellings when the string cannot be read or the result is not finite.
    """
    if isinstance(value, bool):
        raise QuantityError(f"expected a number or a quantity in {base}, got {value!r}")
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, str):
        out = _parse_string(value, base)
    else:
        raise QuantityError(f"expected a number or a quantity in {base}, got {value!r}")
    if not math.isfinite(out):
        raise QuantityError(f"{value!r} is not a finite quantity")
    return out


def _parse_string(text: str, base: str) -> float:
    m = _NUMBER.match(text)
    spellings = _BASES[base]
    allowed = f"a number with a unit such as 64KiB, 1.2GHz or 3.35TB/s (base {base})"
    if not m:
        raise QuantityError(f"cannot read {text!r}: expected {allowed}")
    number, unit = float(m.group(1)), m.group(2)
    if unit == "":
        return number
    for spelled, factor in sorted(spellings.items(), key=lambda kv: -len(kv[0])):
        if unit.endswith(spelled):
            prefix = unit[: -len(spelled)]
            scale = _BINARY.get(prefix) if base == "B" or base == "B/s" else None
            if scale is None:
                scale = _DECIMAL.get(prefix)
            if scale is None:
                break
            return number * scale * factor
    raise QuantityError(f"cannot read unit {unit!r} in {text!r}: expected {allowed}")


def format_si(value: float, unit: str, digits: int = 3) -> str:
    """Human-readable SI string, e.g. ``format_si(1.5e-3, "s") == "1.5 ms"``.

    >>> format_si(1.5e-3, "s")
    '1.5 ms'
    >>> format_si(0, "J")
    '0 J'
    """
    if value == 0 or not math.isfinite(value):
        return f"{value:g} {unit}"
    prefixes = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"),
                (1e-9, "n"), (1e-12, "p"), (1e-15, "f")]
    for scale, prefix in prefixes:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"
