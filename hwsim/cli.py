"""Command line: a click group that parses, calls :mod:`hwsim.api`, and prints. No modelling here.

Any :class:`~hwsim.errors.HwsimError` becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from hwsim.errors import HwsimError


def one_line_errors(fn):
    """Turn user errors into ``error: <message>`` and exit 2 (click's own usage errors already exit 2)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except HwsimError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hwsim")
def main() -> None:
    """hwsim: latency, energy and area of transformer blocks on accelerators."""


def _emit(text: str, out: str | None) -> None:
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))


@main.command()
@click.option("--arch", default="npu_128", show_default=True, help="shipped name or path to an arch YAML")
@click.option("--workload", default="llama2_7b", show_default=True,
              help="shipped model name, model YAML, or a Hugging Face config.json")
@click.option("--phase", type=click.Choice(["prefill", "decode"]), default="decode", show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--seq", type=click.IntRange(min=1), default=None, help="prefill tokens per sequence [512]")
@click.option("--kv-len", type=click.IntRange(min=1), default=2048, show_default=True,
              help="decode: cached keys per sequence, including the new token")
@click.option("--engine", type=click.Choice(["analytical", "cycle", "roofline"]), default="analytical",
              show_default=True)
@click.option("--mapping", default=None, help="mapping policy name or YAML (default: fastest unit per op)")
@click.option("--fused-attention", is_flag=True, help="one FlashAttention-style op instead of QK^T/softmax/SV")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE",
              help="override a spec field, e.g. units.mxu.rows=64 or workload.precision.weights=int8")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--out", default=None, help="write the output to this file instead of stdout")
@one_line_errors
def run(arch, workload, phase, batch, seq, kv_len, engine, mapping, fused_attention, overrides, fmt, out):
    """Cost one transformer block: per-op and total latency, energy, area.

    With no arguments: a Llama-2-7B decode block (batch 1, kv_len 2048) on the generic NPU.
    """
    from hwsim import api
    from hwsim.report.text import run_table

    result = api.run(arch, workload, phase, batch, seq, kv_len, engine=engine, mapping=mapping,
                     overrides=overrides, fused_attention=fused_attention)
    if fmt == "json":
        text = json.dumps(result.to_dict(), indent=2)
    elif fmt == "csv":
        text = result.to_frame().to_csv(index=False)
    else:
        text = run_table(result)
    _emit(text, out)


@main.command(name="list")
@one_line_errors
def list_() -> None:
    """Shipped architectures, workloads and mapping policies."""
    from hwsim.arch.loader import load_arch, shipped_archs
    from hwsim.mapping.mapper import shipped_policies
    from hwsim.workload.models import load_model, shipped_models

    click.echo("architectures:")
    for n in shipped_archs():
        click.echo(f"  {n:<16} {load_arch(n).description}")
    click.echo("workloads:")
    for n in shipped_models():
        m = load_model(n)
        click.echo(f"  {n:<16} {m.block.value}, {m.layers} layers, d_model {m.d_model}, heads {m.heads}/{m.kv_heads}"
                   + (f", MoE {m.moe.top_k} of {m.moe.experts}" if m.moe else ""))
    click.echo("mapping policies:")
    for n in shipped_policies():
        click.echo(f"  {n}")


@main.command()
@click.argument("what", type=click.Choice(["arch", "workload", "mapping"]))
@click.argument("name")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE")
@one_line_errors
def show(what, name, overrides) -> None:
    """Print a resolved spec (defaults filled in, units in SI) as YAML."""
    import yaml

    if what == "arch":
        from hwsim.arch.loader import load_arch
        spec = load_arch(name, overrides)
    elif what == "workload":
        from hwsim.workload.models import load_model
        spec = load_model(name, overrides)
    else:
        from hwsim.mapping.mapper import load_policy
        spec = load_policy(name)
    click.echo(yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))


@main.command()
@click.option("--arch", default="h100", show_default=True, help="shipped name or path to an arch YAML")
@click.option("--ops", "ops_path", required=True, help="CSV with columns kind,name,dtype,shape (more are kept)")
@click.option("--out", required=True, help="CSV to write: the same rows in the same order + seconds, joules")
@one_line_errors
def estimate(arch, ops_path, out) -> None:
    """Predict seconds and joules of measured-case rows (gemm, attn_prefill, attn_decode, block_*, copy, idle)."""
    from hwsim import api

    frame = api.estimate(ops_path, arch)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    click.echo(f"wrote {out} ({len(frame)} rows)", err=True)


@main.command()
@click.option("--arch", default="h100", show_default=True, help="shipped name or path to an arch YAML")
@click.option("--data", required=True, help="measured CSV: kind,name,dtype,shape,seconds[,joules]")
@click.option("--plot", default=None, help="parity plot PNG [<data stem>_parity_<arch>.png]")
@click.option("--worst", type=click.IntRange(min=0), default=5, show_default=True, help="worst rows to list")
@one_line_errors
def validate(arch, data, plot, worst) -> None:
    """Compare predictions with measurements: MAPE per kind and overall, worst rows, a parity plot."""
    from hwsim import api
    from hwsim.validation.validate import parity_plot

    report = api.validate(data, arch)
    click.echo(report.text(worst))
    path = parity_plot(report, plot or f"{Path(data).stem}_parity_{report.arch}.png")
    click.echo(f"wrote {path}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
