"""GEMM kernels on a GPU: CTA tiles, waves and the tail wave, L2/HBM traffic per tile, split-K.

``y[M,N] = x[M,K] @ W[K,N]`` (``groups`` independent GEMMs, MoE experts) runs as a grid of CTAs, each owning an
``m x n`` output tile and a ``K/s`` slice of the reduction (split-K ``s``). A GEMM library picks the tile and
split that finish first; the model does the same over the candidates a Hopper library ships (token-side tiles
8..256, because cuBLAS swaps operands so that a few tokens sit on the MMA's narrow N side; weight-side tiles
64..256, the wgmma M granularity), which reproduces the kernel names of block_kernels_h100.csv (64x8, 64x16,
128x128, 192x128, split-K with a reduce kernel for decode).

Per candidate (docs/gpu.md, "GEMM"):

* CTAs ``= ceil(M/m) ceil(N/n) groups s``; waves ``= ceil(CTAs / SMs)``: the last, partly filled wave costs a
  full CTA time (the tail wave);
* CTA time ``= m n ceil(K/s) / rate``; rate ``= min(peak MAC/SM/s x efficiency, SMEM B/s x m n / (e (m + n)))``:
  a thin tile needs more shared-memory bytes per MAC than the SMEM delivers;
* L2->SM bytes ``= ceil(M/m) ceil(N/n) groups (m K e_x + K n e_w)`` (every CTA streams its A rows and W columns)
  + the output + split-K partials (fp32, written and read back);
* HBM bytes: every input read once and the output written once (the 50 MB L2 catches the re-reads a
  raster order causes), or none when a benchmark loop keeps the whole working set in L2 (``warm``); a grid of
  fewer CTAs than SMs reaches only CTAs x ``sm_bandwidth`` (why cuBLAS splits K for a GEMV with few columns);
* a row stride that is not a multiple of 16 bytes rules out the TMA/wgmma path; the fallback runs at
  ``unaligned_efficiency`` of the peak (measured: h100_microbench.csv ``misaligned`` rows).

fp32 runs on the CUDA cores (torch's default disables TF32): SIMT tiles 64..128 at the fp32 FMA peak times
``simt_efficiency``; an ``M = 1`` product is a GEMV (weights streamed once, no tile padding).
"""

from __future__ import annotations

import math

import numpy as np

from hwsim.engines.gpu_kernel import KernelCost, finish
from hwsim.engines.gpu_params import GpuParams
from hwsim.workload.ops import DType

# Tile catalogue of a Hopper GEMM library: one side is a multiple of the wgmma M granularity (64 rows per
# warpgroup, up to 4 warpgroups), the other any multiple of 8 up to 256 (wgmma N); cuBLAS puts either operand on
# either side (kernel names in block_kernels_h100.csv: 64x8, 64x16, 128x16, 192x16, 256x8, 128x128, 168x128,
# 192x128). Split-K factors as cuBLASLt's splitKreduce kernels use.
WGMMA_M = (64, 128, 192, 256)
WGMMA_N = tuple(range(8, 257, 8))
TILES = tuple(sorted({(a, b) for a in WGMMA_M for b in WGMMA_N} | {(b, a) for a in WGMMA_M for b in WGMMA_N}))
SPLITS = (1, 2, 4, 8, 16)
SIMT_M = (64, 128)         # SIMT sgemm CTA rows: fewer tokens are padded to 64 (h100_microbench fp32 M=4..64)
SIMT_N = (32, 64, 96, 128)
MIN_SPLIT_K = 256  # a K slice shorter than this is never worth a split (one pipeline fill per slice)
TMA_ALIGN_BYTES = 16  # TMA needs 16-byte aligned global strides (CUDA driver API, cuTensorMapEncodeTiled)


def aligned(k: int, n: int, ea: float, ew: float, eo: float) -> bool:
    """True when every row stride of x[M,K], W[K,N], y[M,N] (row-major) is a multiple of 16 bytes.

    >>> aligned(4096, 4096, 2, 2, 2), aligned(2500, 2500, 2, 2, 2)
    (True, False)
    """
    return all((s * e) % TMA_ALIGN_BYTES == 0 for s, e in ((k, ea), (n, ew), (n, eo)))


def waves(ctas: int, sms: int) -> int:
    """Full waves a grid of ``ctas`` one-per-SM CTAs needs: the tail wave counts whole.

    >>> waves(132, 132), waves(133, 132), waves(2048, 132)
    (1, 2, 16)
    """
    return math.ceil(ctas / sms)


def _grid(gp: GpuParams, m_dim: int, k: int, n_dim: int, groups: int, tiles: np.ndarray, rate: np.ndarray,
          ea: float, ew: float, eo: float, hbm: float, mac_action: str) -> tuple[np.ndarray, dict]:
    """Time of every candidate ``(m, n, s)`` row of ``tiles`` (vectorised :func:`finish`), and their terms."""
    m, n, s = tiles[:, 0], tiles[:, 1], tiles[:, 2]
    ntiles = np.ceil(m_dim / m) * np.ceil(n_dim / n) * groups
    kk = np.ceil(k / s)
    compute = np.ceil(ntiles * s / gp.sms) * m * n * kk / rate
    l2 = ntiles * (m * k * ea + k * n * ew) + groups * m_dim * n_dim * eo
    l2 = l2 + np.where(s > 1, 2.0 * s * groups * m_dim * n_dim * 4.0, 0.0)  # fp32 partials out and back
    macs = ntiles * s * m * n * kk
    memory = np.maximum(hbm / gp.grid_bw(ntiles * s), l2 / gp.l2_bw)
    p = gp["overlap_exponent"]
    hi = np.maximum(compute, memory)
    body = hi if p >= 1e6 else hi * ((compute / hi) ** p + (memory / hi) ** p) ** (1.0 / p)
    e_dyn = macs * gp.energy(mac_action) + 8.0 * (hbm * gp.bit_energy(gp.hbm_level) + l2 * gp.bit_energy(gp.l2_level))
    kernels = np.where(s > 1, 2, 1)
    t = np.maximum(body, e_dyn / gp.power_headroom_w) + gp["kernel_fixed_s"] * kernels + gp["gemm_fixed_s"]
    return t, {"compute": compute, "l2": l2, "macs": macs, "kernels": kernels, "ctas": ntiles * s}


def _tensor_candidates(m_dim: int, k: int) -> np.ndarray:
    """(m, n, s) rows worth trying: token tiles no wider than twice the tokens, splits with long enough K."""
    rows = [(m, n, s) for (m, n) in TILES if m <= 8 or m < 2 * m_dim for s in SPLITS if s == 1 or k / s >= MIN_SPLIT_K]
    return np.array(rows, dtype=float)


def _best(gp: GpuParams, m_dim: int, k: int, n_dim: int, groups: int, tiles: np.ndarray, rate: np.ndarray,
          ea: float, ew: float, eo: float, hbm: float, mac_action: str) -> KernelCost:
    t, terms = _grid(gp, m_dim, k, n_dim, groups, tiles, rate, ea, ew, eo, hbm, mac_action)
    i = int(np.argmin(t))
    m, n, s = (int(v) for v in tiles[i])
    kernels = int(terms["kernels"][i])
    ctas = int(terms["ctas"][i])
    return finish(gp, f"gemm tile {m}x{n} split {s}", float(terms["compute"][i]), hbm, float(terms["l2"][i]),
                  hbm_bw=float(gp.grid_bw(ctas)),
                  mac_action=mac_action, macs=float(terms["macs"][i]), kernels=kernels,
                  fixed_s=gp["kernel_fixed_s"] * kernels + gp["gemm_fixed_s"],
                  extra={"tile": (m, n), "split": s, "ctas": ctas})


def gemm_kernel(gp: GpuParams, m_dim: int, k: int, n_dim: int, groups: int, dtype: DType, ea: float, ew: float,
                eo: float, acc: DType, warm: bool = False,
                widths: tuple[float, float, float] | None = None) -> KernelCost:
    """Fastest tile/split of a GEMM (module docstring); raises KeyError if ``dtype`` has no peak on this GPU.

    ``ea, ew, eo``: bytes per element of x, W and y as streamed (scales and sparse metadata included).
    ``widths``: bytes of one stored element of x, W and y, which set the row strides that ``aligned`` checks
    (group scales and sparse indices are separate arrays); default ``(ea, ew, eo)``. ``warm``: the loop's
    working set stays in L2.
    """
    footprint = groups * (m_dim * k * ea + k * n_dim * ew + m_dim * n_dim * eo)
    hbm = 0.0 if warm else footprint
    mac_action = f"mac.{dtype.value}.{acc.value}"
    if dtype in gp.tensor_flops_per_sm:
        eff = gp["int8_efficiency"] if dtype == DType.INT8 else gp["tc_efficiency"]
        if not aligned(k, n_dim, *(widths or (ea, ew, eo))):
            eff *= gp["unaligned_efficiency"]
        peak = gp.tensor_flops_per_sm[dtype] / 2.0 * gp.clock_hz * eff
        tiles = _tensor_candidates(m_dim, k)
        m, n = tiles[:, 0], tiles[:, 1]
        rate = np.minimum(peak, gp["smem_bytes_per_clk"] * gp.clock_hz * m * n / (max(ea, ew) * (m + n)))
    elif dtype == DType.FP32:
        rate1 = gp.simt_flops_per_sm / 2.0 * gp.clock_hz * gp["simt_efficiency"]
        if m_dim == 1 and groups == 1:  # cuBLAS GEMV: one pass over W, no tile padding
            return finish(gp, "gemv simt", k * n_dim / (rate1 * gp.sms), hbm, footprint, mac_action=mac_action,
                          macs=float(k * n_dim), fixed_s=gp["kernel_fixed_s"] + gp["gemm_fixed_s"],
                          extra={"tile": (1, n_dim), "split": 1, "ctas": gp.sms})
        tiles = np.array([(m, n, 1) for m in SIMT_M for n in SIMT_N if m <= 64 or m < 2 * m_dim], dtype=float)
        rate = np.full(len(tiles), rate1)
    else:
        raise KeyError(dtype)
    return _best(gp, m_dim, k, n_dim, groups, tiles, rate, ea, ew, eo, hbm, mac_action)
