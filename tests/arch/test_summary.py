"""arch_summary: the peaks and bandwidths a run's JSON carries for its roofline."""

import json

from hwsim import api
from hwsim.arch.loader import load_arch
from hwsim.arch.summary import arch_summary


def test_npu_peaks_and_bandwidths():
    """npu_128: mxu = 2 flop/MAC x 4 arrays x 128 x 128 PEs x 1 GHz = 131.072 TFLOP/s;
    vpu = 128 lanes x 2 flop x 4 x 1 GHz = 1.024 TFLOP/s; HBM3 819.2 GB/s; SRAM 4 TB/s, innermost first."""
    s = arch_summary(load_arch("npu_128"))
    assert s["units"]["mxu"]["peak_flops_s"]["bf16"] == 2 * 4 * 128 * 128 * 1e9
    assert s["units"]["vpu"]["peak_flops_s"]["fp32"] == 128 * 2 * 4 * 1e9
    assert list(s["memories"]) == ["sram", "hbm"]
    assert s["memories"]["hbm"] == {"kind": "hbm3", "off_chip": True, "capacity_bytes": 16 * 2**30,
                                    "bandwidth_bytes_s": 819.2e9}


def test_tensor_engine_peak_falls_back_to_cuda_cores():
    """h100: a format with a tensor-core entry uses it x SMs x clock; fp32 (no entry) uses CUDA cores."""
    arch = load_arch("h100")
    te_name, te = next((n, u) for n, u in arch.units.items() if u.kind == "tensor_engine")
    s = arch_summary(arch)["units"][te_name]["peak_flops_s"]
    for d in te.precisions:
        per_sm = te.tensor_flops_per_sm_per_cycle.get(d, te.vector_flops_per_sm_per_cycle)
        assert s[d.value] == per_sm * te.sms * arch.clock_hz


def test_override_reaches_the_json():
    """--set units.mxu.rows=64 halves the mxu peak in the run's JSON (the roofline then uses the arch as run)."""
    d = api.run(overrides=["units.mxu.rows=64"]).to_dict()
    json.dumps(d)
    assert d["arch_summary"]["units"]["mxu"]["peak_flops_s"]["bf16"] == 2 * 4 * 64 * 128 * 1e9


def test_pim_peak_is_the_pim_models():
    """A PIM unit's ceiling is the pim model's all-bank MAC peak (2 FLOP per MAC x internal bandwidth /
    operand bytes), at the DRAM clock rather than the arch clock."""
    from hwsim.engines.pim import pim_device
    from hwsim.engines.pim_timing import peak_pim_flops

    arch = load_arch("neupims")
    name, u = next((n, u) for n, u in arch.units.items() if u.kind == "pim")
    s = arch_summary(arch)["units"][name]["peak_flops_s"]
    for d in u.precisions:
        assert s[d.value] == peak_pim_flops(*pim_device(u), dtype_bytes=d.bytes) > 0
