"""Regenerate the SCALE-Sim v3 goldens under tests/golden/scalesim/ (the only way they change).

SCALE-Sim (PyPI ``scalesim==3.0.0``) needs ``numpy<2.4``, so it runs in a side virtual environment
outside the repository::

    python -m venv /work/venvs/scalesim
    /work/venvs/scalesim/bin/pip install scalesim "numpy<2.4"
    python scripts/gen_scalesim_golden.py --venv /work/venvs/scalesim --jobs 2

For every run in ``RUNS`` this writes ``cfgs/<run>.cfg`` (the exact default ``scale.cfg`` with only
run_name, array size, dataflow and, for the ``sram4`` runs, the SRAM sizes changed), runs SCALE-Sim's
Python API with ``save_disk_space=True`` (no traces) and copies its COMPUTE_REPORT.csv,
BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv to ``<run>/``. ``manifest.json`` records the run
list, SCALE-Sim and numpy versions, and each run's wall time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden" / "scalesim"

CFG_TEMPLATE = """[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight:    {rows}
ArrayWidth:     {cols}
IfmapSramSzkB:   {ifmap_kb}
FilterSramSzkB:  {filter_kb}
OfmapSramSzkB:   {ofmap_kb}
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : {dataflow}
MemoryBanks:   1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""

# GEMM topologies: "Layer, M, N, K," (SCALE-Sim's column order; the trailing comma is required).
TOPOLOGIES = {
    "gemm_small.csv": (
        "Layer, M, N, K,\n"
        "g37_19_53, 37, 53, 19,\n"       # M=37, K=19, N=53: no dimension a multiple of the array
        "g64_64_64, 64, 64, 64,\n"
        "g1_128_256, 1, 256, 128,\n"     # M=1 (GEMV, decode-like)
        "g200_1_100, 200, 100, 1,\n"     # K=1 (outer product)
        "g1024_16_8, 1024, 8, 16,\n"     # tall: M >> K, N
        "g8_512_16, 8, 16, 512,\n"       # deep: K >> M, N
        "g16_8_700, 16, 700, 8,\n"       # wide: N >> M, K
    ),
    "gemm_large.csv": (
        "Layer, M, N, K,\n"
        "g128_256_64, 128, 64, 256,\n"
        "g256_256_256, 256, 256, 256,\n"
        "g300_200_250, 300, 250, 200,\n"
    ),
    # Conv topology: name, IFMAP H, IFMAP W, Filter H, Filter W, Channels, Num Filter, Stride,
    "conv.csv": (
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
        "conv3x3_s1, 14, 14, 3, 3, 16, 32, 1,\n"
        "conv3x3_s2, 15, 15, 3, 3, 8, 16, 2,\n"
        "conv1x1, 8, 8, 1, 1, 32, 64, 1,\n"
        "conv5x3_s1, 12, 10, 5, 3, 4, 24, 1,\n"
        "conv7x7_s2, 32, 32, 7, 7, 3, 16, 2,\n"
    ),
    # Odd arrays (4x12, 12x4) with 1/2/1 KiB SRAMs: shapes no array size divides, a stride-3 conv with a
    # partial edge window, a depthwise layer (a name containing "DP" expands to one layer per channel).
    "odd_gemm.csv": (
        "Layer, M, N, K,\n"
        "g45_70_33, 45, 33, 70,\n"
        "g130_260_9, 130, 9, 260,\n"
        "g3_77_500, 3, 500, 77,\n"
    ),
    "odd_conv.csv": (
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
        "c_s3, 17, 20, 3, 2, 5, 11, 3,\n"
        "DP_dw, 9, 9, 3, 3, 3, 1, 1,\n"
        "c_big, 20, 20, 3, 3, 24, 40, 1,\n"
    ),
}

DEFAULT_KB = (64, 64, 64)


def _runs() -> list[dict]:
    runs = []
    arrays = [(8, 8), (16, 16), (32, 32), (8, 32), (32, 8)]
    for rows, cols in arrays:
        for df in ("os", "ws", "is"):
            for topo, gemm in (("gemm_small.csv", True), ("conv.csv", False)):
                runs.append(dict(rows=rows, cols=cols, dataflow=df, topology=topo, gemm=gemm, kb=DEFAULT_KB))
    for rows, cols in [(16, 16), (32, 32), (8, 32)]:
        for df in ("os", "ws", "is"):
            runs.append(dict(rows=rows, cols=cols, dataflow=df, topology="gemm_large.csv", gemm=True,
                             kb=DEFAULT_KB))
    # Small SRAMs (4/4/2 KiB) so SCALE-Sim's set-window buffers shift many times on small shapes.
    for df in ("os", "ws", "is"):
        for topo, gemm in (("gemm_small.csv", True), ("conv.csv", False)):
            runs.append(dict(rows=8, cols=8, dataflow=df, topology=topo, gemm=gemm, kb=(4, 4, 2)))
    for rows, cols in [(4, 12), (12, 4)]:
        for df in ("os", "ws", "is"):
            for kb in (DEFAULT_KB, (1, 2, 1)):
                for topo, gemm in (("odd_gemm.csv", True), ("odd_conv.csv", False)):
                    runs.append(dict(rows=rows, cols=cols, dataflow=df, topology=topo, gemm=gemm, kb=kb))
    for r in runs:
        tag = f"sram{r['kb'][0]}_" if r["kb"] != DEFAULT_KB else ""
        r["run_name"] = f"{tag}{r['topology'][:-4]}_{r['rows']}x{r['cols']}_{r['dataflow']}"
    return runs


RUNNER = r"""
import sys, time
from scalesim.scale_sim import scalesim
cfg, topo, layout, outdir, gemm = sys.argv[1:6]
t0 = time.perf_counter()
s = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=layout,
             input_type_gemm=(gemm == "1"))
s.run_scale(top_path=outdir)
print(time.perf_counter() - t0)
"""


def _run_one(run: dict, python: str, work: Path) -> dict:
    name = run["run_name"]
    cfg_path = GOLDEN / "cfgs" / f"{name}.cfg"
    ifk, fk, ok = run["kb"]
    cfg_path.write_text(CFG_TEMPLATE.format(run_name=name, rows=run["rows"], cols=run["cols"],
                                            dataflow=run["dataflow"], ifmap_kb=ifk, filter_kb=fk,
                                            ofmap_kb=ok))
    out = work / name
    proc = subprocess.run([python, "-c", RUNNER, str(cfg_path), str(GOLDEN / "topologies" / run["topology"]),
                           str(GOLDEN / "topologies" / "layout.csv"), str(out), "1" if run["gemm"] else "0"],
                          capture_output=True, text=True, check=True)
    dest = GOLDEN / name
    dest.mkdir(exist_ok=True)
    for rep in ("COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"):
        shutil.copy(out / name / rep, dest / rep)
    wall = float(proc.stdout.strip().splitlines()[-1])
    print(f"{name}: {wall:.1f} s", flush=True)
    return {**run, "kb": list(run["kb"]), "wall_s": round(wall, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", default="/work/venvs/scalesim", help="virtual environment with scalesim")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="", help="substring filter on run names")
    args = ap.parse_args(argv)
    python = str(Path(args.venv) / "bin" / "python")
    versions = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('scalesim'),"
                               " m.version('numpy'))"], capture_output=True, text=True, check=True)
    (GOLDEN / "cfgs").mkdir(parents=True, exist_ok=True)
    (GOLDEN / "topologies").mkdir(parents=True, exist_ok=True)
    for fname, text in TOPOLOGIES.items():
        (GOLDEN / "topologies" / fname).write_text(text)
    # SCALE-Sim requires a layout file even with custom layouts off; a header-only file is enough.
    (GOLDEN / "topologies" / "layout.csv").write_text("Layer name,\n")
    runs = [r for r in _runs() if args.only in r["run_name"]]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        done = list(pool.map(lambda r: _run_one(r, python, Path(tmp)), runs))
    manifest_path = GOLDEN / "manifest.json"
    old = json.loads(manifest_path.read_text())["runs"] if manifest_path.exists() else []
    merged = {r["run_name"]: r for r in old} | {r["run_name"]: r for r in done}
    sc_ver, np_ver = versions.stdout.split()
    manifest = {"scalesim_version": sc_ver, "numpy_version": np_ver, "python": sys.version.split()[0],
                "api": "scalesim.scale_sim.scalesim(save_disk_space=True, verbose=False, ...).run_scale()",
                "runs": sorted(merged.values(), key=lambda r: r["run_name"])}
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
