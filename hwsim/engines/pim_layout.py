"""Data layout for PIM GEMV and the host request stream: turns shapes into per-step command counts.

A GEMV ``y = W x`` with ``W`` of ``rows x cols`` elements is laid out Newton/NeuPIMs style:

* matrix rows are dealt round-robin to channels, then to the banks of a channel (row ``i`` of a channel
  goes to bank ``i mod banks``), so every bank holds at most ``ceil(rows_ch / banks)`` matrix rows;
* the columns are cut into chunks of ``W = min(cols, row_bytes / dtype_bytes)`` elements; one DRAM row of
  a bank holds ``row_bytes // (W * dtype_bytes)`` row segments of one chunk, packed;
* the vector chunk is written once into the channel's global buffer before the DRAM rows that use it;
* after each DRAM row the MAC units' partial sums (one ``dtype_bytes`` value per row segment per bank)
  are read out over the data bus (NewtonSim's READRES: 16-bit results, ``readres_scaling``).

A *step* is one DRAM row index opened in every bank. For each step this module gives the vector-write
column commands, the MAC column commands and the result-read column commands; the kernel schedules them.

Examples
--------
>>> from hwsim.engines.pim_timing import HBM2_NEUPIMS
>>> s = gemv_steps(rows_ch=32, cols=1024, dtype_bytes=2, org=HBM2_NEUPIMS, mode="all_bank", batch=1)
>>> s.vec_writes.tolist(), s.mac_cmds.tolist(), s.res_reads.tolist()
([16, 16], [16, 16], [1, 1])
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from hwsim.engines.pim_timing import PimOrganization

__all__ = ["PimMode", "HostPattern", "GemvSteps", "gemv_steps", "split_rows", "HostRequests",
           "host_requests", "HOST_ROW_OFFSET"]

HOST_ROW_OFFSET = 1 << 30  # host data lives in rows that never coincide with the matrix rows


class PimMode(str, Enum):
    """How MAC column commands address banks."""

    ALL_BANK = "all_bank"  # one command drives every MAC unit of the channel in lockstep
    PER_BANK = "per_bank"  # one command drives one bank's MAC unit


class HostPattern(str, Enum):
    """Address pattern of the host's normal requests."""

    STREAM = "stream"  # sequential: all columns of a row, then the next bank (DRAMsim3 "rorabgbachco")
    RANDOM = "random"  # uniform random bank and row


@dataclass(frozen=True)
class GemvSteps:
    """Command counts per step for one channel (``int64`` arrays of equal length).

    Attributes
    ----------
    vec_writes : numpy.ndarray
        Global-buffer write column commands issued before the step.
    mac_cmds : numpy.ndarray
        MAC column commands in the step: all-bank commands (all-bank mode) or commands per bank.
    res_reads : numpy.ndarray
        Result-read column commands after the step.
    bank_columns : numpy.ndarray
        Column accesses each bank makes in the step (for energy and row-hit accounting).
    useful_bytes : int
        Matrix bytes held by this channel, bytes.
    """

    vec_writes: np.ndarray
    mac_cmds: np.ndarray
    res_reads: np.ndarray
    bank_columns: np.ndarray
    useful_bytes: int

    @property
    def n_steps(self) -> int:
        """Number of steps (DRAM rows per bank)."""
        return int(self.mac_cmds.shape[0])


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def gemv_steps(rows_ch: int, cols: int, dtype_bytes: int, org: PimOrganization, mode: PimMode | str,
               batch: int = 1) -> GemvSteps:
    """Per-step command counts of a ``rows_ch x cols`` GEMV slice held by one channel.

    Parameters
    ----------
    rows_ch, cols : int
        Matrix rows held by this channel and matrix columns (elements).
    dtype_bytes : int
        Bytes per element.
    org : PimOrganization
        Device organisation.
    mode : PimMode or str
        ``"all_bank"`` or ``"per_bank"``.
    batch : int
        Vectors applied to the matrix; each opened row is reused ``batch`` times (row-buffer hits).

    Returns
    -------
    GemvSteps
    """
    mode = PimMode(mode)
    if rows_ch < 1 or cols < 1 or dtype_bytes < 1 or batch < 1:
        raise ValueError(f"rows_ch, cols, dtype_bytes, batch must be >= 1, got {rows_ch}, {cols}, "
                         f"{dtype_bytes}, {batch}")
    if org.row_bytes % dtype_bytes:
        raise ValueError(f"row_bytes {org.row_bytes} is not a multiple of dtype_bytes {dtype_bytes}")
    nb = org.banks_per_channel
    per_row = org.row_bytes // dtype_bytes
    width = min(cols, per_row)
    segs_per_row = per_row // width
    rows_per_bank = _ceil(rows_ch, nb)
    dram_rows = _ceil(rows_per_bank, segs_per_row)
    vec, mac, res, bank_cols = [], [], [], []
    for c in range(_ceil(cols, width)):
        w_c = min(width, cols - c * width)
        for j in range(dram_rows):
            segs = min(segs_per_row, rows_per_bank - j * segs_per_row)
            columns = _ceil(segs * w_c * dtype_bytes, org.column_bytes)
            vec.append(_ceil(w_c * dtype_bytes, org.column_bytes) * batch if j == 0 else 0)
            mac.append(columns * batch * (org.banks_per_mac_unit if mode is PimMode.ALL_BANK else 1))
            res.append(_ceil(nb * segs * dtype_bytes, org.column_bytes) * batch)
            bank_cols.append(columns * batch)
    as_int = lambda xs: np.asarray(xs, dtype=np.int64)  # noqa: E731
    return GemvSteps(as_int(vec), as_int(mac), as_int(res), as_int(bank_cols), rows_ch * cols * dtype_bytes)


def split_rows(rows: int, channels: int) -> list[tuple[int, int]]:
    """Distinct per-channel row counts of a round-robin split, as ``[(rows_ch, n_channels), ...]``.

    >>> split_rows(10, 4)
    [(3, 2), (2, 2)]
    """
    q, r = divmod(rows, channels)
    out = [(q + 1, r)] if r else []
    if q:
        out.append((q, channels - r))
    return out


@dataclass(frozen=True)
class HostRequests:
    """One channel's host requests, ordered by arrival (``int64`` arrays; ``is_write`` is 0/1)."""

    bank: np.ndarray
    row: np.ndarray
    is_write: np.ndarray
    arrival: np.ndarray


def host_requests(n: int, org: PimOrganization, pattern: HostPattern | str = "stream",
                  write_fraction: float = 0.0, interval_cycles: int = 0, seed: int = 0) -> HostRequests:
    """Generate ``n`` host column requests of ``org.column_bytes`` each for one channel.

    Request ``j`` arrives at ``j * interval_cycles``; it is a write when ``floor((j+1) f) > floor(j f)``
    for ``f = write_fraction`` (an even spread). ``stream`` walks the columns of a row, then the next bank
    (bank index fastest, then row); ``random`` draws bank and row uniformly (``seed``).

    >>> from hwsim.engines.pim_timing import HBM2_NEUPIMS
    >>> r = host_requests(40, HBM2_NEUPIMS)
    >>> r.bank[:17].tolist() == [0] * 16 + [1], int(r.row[0] - HOST_ROW_OFFSET)
    (True, 0)
    """
    pattern = HostPattern(pattern)
    if not 0.0 <= write_fraction <= 1.0:
        raise ValueError(f"write_fraction must be in [0, 1], got {write_fraction}")
    if n < 0 or interval_cycles < 0:
        raise ValueError(f"n and interval_cycles must be >= 0, got {n}, {interval_cycles}")
    j = np.arange(n, dtype=np.int64)
    nb = org.banks_per_channel
    if pattern is HostPattern.STREAM:
        block = j // org.columns_per_row
        bank, row = block % nb, HOST_ROW_OFFSET + block // nb
    else:
        rng = np.random.default_rng(seed)
        bank = rng.integers(0, nb, size=n, dtype=np.int64)
        row = HOST_ROW_OFFSET + rng.integers(0, 1 << 14, size=n, dtype=np.int64)
    writes = (np.floor((j + 1) * write_fraction) > np.floor(j * write_fraction)).astype(np.int64)
    return HostRequests(bank.astype(np.int64), row.astype(np.int64), writes, j * interval_cycles)
