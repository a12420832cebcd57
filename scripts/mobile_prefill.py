"""On-device chunked prefill of Qwen1.5-1.8B in int8 on the phone-class NPU, against mllm-NPU's >1,000 tokens/s.

mllm-NPU (Xu et al., arXiv:2407.05858) prefills Qwen1.5-1.8B at more than 1,000 tokens/s on a phone NPU by
cutting the prompt into fixed-size chunks (static NPU graphs) and running the int8 matmuls on the NPU. Here the
whole model (every layer's block, summed over chunks, chunk k attending to the k x chunk tokens before it) runs
on arch_configs/mobile_npu.yaml with W8A8 and an int8 KV cache; the float outlier path mllm-NPU runs on the
CPU/GPU in parallel is not modelled. The script reports prefill tokens/s (prompt tokens, padding excluded) and
the unit (and memory level) that bounds it, for the shipped design point and for the same NPU with local
accumulator/operand buffers beside the arrays (a sensitivity variant, ``--set`` overrides below).

Usage: ``python scripts/mobile_prefill.py [--json] [--prompts 256,512,1024,2048] [--chunk 256]``.
"""

from __future__ import annotations

import argparse
import json
import sys

from hwsim.api import HwsimError, chunked_prefill, int_list, load_arch, load_model

CLAIM_TOKENS_PER_S = 1000.0  # mllm-NPU abstract: "more than 1,000 tokens/sec prefilling ... Qwen1.5-1.8B"
INT8 = ["precision.weights=int8", "precision.activations=int8", "precision.kv_cache=int8",
        "precision.accumulators=int32"]
# Variant: operands and int32 partial sums kept in buffers beside each array (as TPU v1's 4 MiB accumulators,
# Jouppi et al. 2017), so only tiles cross the shared SRAM. Sizes are a stated design point, not a product's.
LOCAL_BUFFERS = ["units.mxu.ifmap_buffer=256KiB", "units.mxu.filter_buffer=256KiB",
                 "units.mxu.ofmap_buffer=512KiB"]
VARIANTS = {"mobile_npu": [], "mobile_npu+local_buffers": LOCAL_BUFFERS}


def scenario(prompts: list[int], chunk: int, chunks: list[int]) -> dict:
    model = load_model("qwen1.5_1.8b", INT8)
    out: dict = {"model": "qwen1.5_1.8b", "precision": "W8A8, int8 KV cache, int32 accumulators",
                 "claim_tokens_per_s": CLAIM_TOKENS_PER_S, "chunk": chunk, "variants": {}}
    for name, overrides in VARIANTS.items():
        arch = load_arch("mobile_npu", overrides)
        rows = []
        for n in prompts:
            p = chunked_prefill(model, arch, prompt_len=n, chunk=chunk)
            rows.append({"prompt_len": n, "chunks": p.chunks, "seconds": p.seconds, "tokens_per_s": p.tokens_per_s,
                         "meets_claim": p.tokens_per_s > CLAIM_TOKENS_PER_S, "bottleneck": p.bottleneck.to_dict()})
        sweep = {c: chunked_prefill(model, arch, prompt_len=max(prompts), chunk=c).tokens_per_s for c in chunks}
        out["variants"][name] = {"overrides": overrides, "prompts": rows,
                                 f"chunk_sweep_prompt_{max(prompts)}": sweep}
    return out


def table(out: dict) -> str:
    lines = [f"Qwen1.5-1.8B {out['precision']}, chunk {out['chunk']}; mllm-NPU claim > "
             f"{out['claim_tokens_per_s']:.0f} tokens/s", ""]
    for name, v in out["variants"].items():
        lines.append(name)
        for r in v["prompts"]:
            b = r["bottleneck"]
            lines.append(f"  prompt {r['prompt_len']:>5}: {r['tokens_per_s']:8.0f} tokens/s  ({r['chunks']} chunks, "
                         f"{r['seconds'] * 1e3:.1f} ms)  bound by {b['unit']} ({b['bound']}, "
                         f"{100 * b['share_of_time']:.0f}% of the time busy)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--prompts", type=int_list, default="256,512,1024,2048")
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--chunks", type=int_list, default="64,128,256,512", help="chunk sizes swept at the longest prompt")
    a = ap.parse_args(argv)
    try:
        out = scenario(a.prompts, a.chunk, a.chunks)
    except HwsimError as e:  # e.g. --chunk 0
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(out, indent=1) if a.json else table(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
