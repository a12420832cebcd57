"""Numba kernels == their pure-Python twins (the spec) on random small cases (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from numba import config
from hypothesis import strategies as st

from hwsim.arch.components import Dataflow
from hwsim.engines.systolic_compat import compat_walk
from hwsim.engines.systolic_equations import df_code
from hwsim.engines.systolic_kernels import ofmap_dims, physical_walk
from hwsim.engines.systolic_physical_reference import physical_walk_reference
from hwsim.engines.systolic_reference import ConvGeometry, compat_walk_reference
from hwsim.engines.systolic_sim import tile_words

dataflows = st.sampled_from(list(Dataflow))


@st.composite
def convs(draw):
    """Small conv (or GEMM) geometries: (h, w, c, fh, fw, f, stride)."""
    if draw(st.booleans()):
        m, k, n = draw(st.integers(1, 14)), draw(st.integers(1, 14)), draw(st.integers(1, 14))
        return (m, k, 1, 1, k, n, 1)
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    return (h, w, draw(st.integers(1, 3)), draw(st.integers(1, h)), draw(st.integers(1, w)),
            draw(st.integers(1, 6)), draw(st.integers(1, 3)))


@settings(max_examples=200, deadline=None)
@given(convs(), dataflows, st.integers(1, 6), st.integers(1, 6),
       st.tuples(st.integers(100, 3000), st.integers(100, 3000), st.integers(2, 400)))
def test_compat_kernel_equals_twin(geo, df, rows, cols, words):
    """Small SRAMs (1..30 words per set) make SCALE-Sim's set window jump and its drains run often."""
    h, w, c, fh, fw, f, s = geo
    oh, ow = ofmap_dims(h, w, fh, fw, s, True)
    ints, floats = compat_walk(df_code(df), h, w, c, fh, fw, f, s, oh, ow, rows, cols, *words)
    ref_i, ref_f = compat_walk_reference(df_code(df), ConvGeometry(h, w, c, fh, fw, f, s, oh, ow), rows, cols, *words)
    assert list(ints) == ref_i
    assert list(floats) == ref_f


@settings(max_examples=300, deadline=None)
@given(convs(), dataflows, st.integers(1, 6), st.integers(1, 6),
       st.tuples(st.integers(1, 300), st.integers(1, 300), st.integers(1, 300)),
       st.sampled_from([-1.0, 0.25, 1.0, 3.0, 40.0]),
       st.tuples(*(st.sampled_from([0.0, 0.5, 1.0, 2.0, 4.0]),) * 4), st.integers(1, 3),
       st.integers(1, 3), st.integers(1, 5), st.booleans())
def test_physical_kernel_equals_twin(geo, df, rows, cols, caps, bw, chan, batch, groups, arrays, pipelined):
    """Channel bytes per word of 0 model an operand that lives on chip; groups, arrays and fold pipelining
    exercise the step schedule."""
    h, w, c, fh, fw, f, s = geo
    ofm = ofmap_dims(h, w, fh, fw, s, False)
    gemm = fh == 1 and c == 1 and fw == w and s == 1
    if_t, if_n, fl_t, _, (sr, sc, t), _ = tile_words(df, (batch, h, w, c, fh, fw, f, s), ofm, rows, cols, gemm)
    ints, floats = physical_walk(df_code(df), sr, sc, t, rows, cols, if_t, if_n, fl_t, fl_t, *caps,
                                 np.array(chan), bw, groups, arrays, pipelined)
    ref_i, ref_f = physical_walk_reference(df_code(df), sr, sc, t, rows, cols, list(if_t), list(if_n), list(fl_t),
                                           list(fl_t), caps, chan, bw, groups, arrays, pipelined)
    assert list(ints) == ref_i
    assert np.isclose(floats[0], ref_f[0], rtol=1e-9) and np.isclose(floats[1], ref_f[1], rtol=1e-12)


@pytest.mark.skipif(config.DISABLE_JIT, reason="NUMBA_DISABLE_JIT=1: the kernels are plain Python functions")
def test_every_kernel_caches_to_disk():
    """Every compiled function of the simulator is ``njit(cache=True)``, so a second process loads the machine
    code from ``__pycache__`` instead of recompiling (scripts/bench_systolic.py measures the reuse)."""
    from numba.core.caching import FunctionCache
    from numba.core.registry import CPUDispatcher

    from hwsim.engines import systolic_compat, systolic_kernels

    kernels = {f"{m.__name__}.{name}": f for m in (systolic_kernels, systolic_compat)
               for name, f in vars(m).items() if isinstance(f, CPUDispatcher)}
    assert {"hwsim.engines.systolic_kernels.physical_walk", "hwsim.engines.systolic_compat.compat_walk",
            "hwsim.engines.systolic_kernels.fold_dims"} <= set(kernels)
    assert [n for n, f in kernels.items() if not isinstance(f._cache, FunctionCache)] == []
