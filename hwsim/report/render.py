"""Write a :class:`~hwsim.report.build.Report` as Markdown, as one self-contained HTML page, and as files.

The HTML page loads nothing: figures are SVG in ``data:`` URIs, tables' CSV downloads are ``data:`` links,
the style sheet is inline. Markdown links to ``figures/*.png`` beside it.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import pandas as pd

from hwsim.report.build import FigureOut, Report, TableOut

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fff}
main{max-width:1000px;margin:0 auto;padding:24px 28px 64px}
h1{font-size:1.7em;margin:0 0 4px}h2{font-size:1.25em;margin:36px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin:0 0 18px;font-size:.92em}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0 8px}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:8px 12px;min-width:130px;background:#fafafa}
.card b{display:block;font-size:1.15em}.card span{color:#666;font-size:.8em}
figure{margin:14px 0}figure img{max-width:100%;height:auto;display:block}
figcaption{color:#555;font-size:.86em;margin-top:4px}
table{border-collapse:collapse;font-size:.82em;margin:8px 0 4px}
th,td{padding:3px 9px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.tbl{overflow-x:auto}.dl{font-size:.8em}code{background:#f3f3f3;padding:0 3px;border-radius:3px}
footer{margin-top:40px;color:#777;font-size:.8em}
"""


def md_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (cells as strings, pipes escaped).

    >>> print(md_table(pd.DataFrame({"a": [1], "b": ["x|y"]})))
    | a | b |
    | --- | --- |
    | 1 | x\\|y |
    """
    def cell(v) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in frame.columns) + " |", "| " + " | ".join("---" for _ in frame.columns)
             + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def to_markdown(report: Report) -> str:
    """The report as Markdown; figures are ``figures/<name>.png``, tables also ``tables/<name>.csv``."""
    out = [f"# {report.title}", "", f"*{report.subtitle}*", ""]
    out += [f"- **{k}**: {v}" for k, v in report.headline] + [""]
    for s in report.sections:
        out += [f"## {s.title}", ""]
        out += [f"- {p}" for p in s.paragraphs] + [""] if s.bullets else [x for p in s.paragraphs for x in (p, "")]
        for f in s.figures:
            out += [f"![{f.name}](figures/{f.name}.png)", "", f"*{f.caption}* ([SVG](figures/{f.name}.svg))", ""]
        for t in s.tables:
            out += [f"**{t.caption}** ([CSV](tables/{t.name}.csv))", "", md_table(t.display), ""]
    if report.notes:
        out += ["## Loader notes", ""] + [f"- {n}" for n in report.notes] + [""]
    return "\n".join(out)


def _inline(text: str) -> str:
    """Escape HTML, then turn `code` spans into <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _figure_html(f: FigureOut) -> str:
    w, h = f.size_px
    src = "data:image/svg+xml;base64," + base64.b64encode(f.svg.encode()).decode()
    return (f'<figure id="fig-{f.name}"><img alt="{html.escape(f.name)}" width="{w}" height="{h}" src="{src}">'
            f"<figcaption>{_inline(f.caption)}</figcaption></figure>")


def _table_html(t: TableOut) -> str:
    csv = base64.b64encode(t.data.to_csv(index=False).encode()).decode()
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t.display.columns)
    rows = "".join("<tr>" + "".join(f"<td>{_inline(str(v))}</td>" for v in r) + "</tr>"
                   for r in t.display.itertuples(index=False))
    return (f'<p><b>{_inline(t.caption)}</b> <a class="dl" download="{t.name}.csv" '
            f'href="data:text/csv;base64,{csv}">CSV</a></p><div class="tbl"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")


def to_html(report: Report, footer: str = "") -> str:
    """One self-contained HTML page (no external resources of any kind)."""
    cards = "".join(f'<div class="card"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>'
                    for k, v in report.headline)
    body = [f"<h1>{html.escape(report.title)}</h1>", f'<p class="sub">{_inline(report.subtitle)}</p>',
            f'<div class="cards">{cards}</div>']
    for s in report.sections:
        body.append(f"<section><h2>{html.escape(s.title)}</h2>")
        if s.bullets:
            body.append("<ul>" + "".join(f"<li>{_inline(p)}</li>" for p in s.paragraphs) + "</ul>")
        else:
            body += [f"<p>{_inline(p)}</p>" for p in s.paragraphs]
        body += [_figure_html(f) for f in s.figures] + [_table_html(t) for t in s.tables]
        body.append("</section>")
    if report.notes:
        body.append("<section><h2>Loader notes</h2><ul>" + "".join(f"<li>{_inline(n)}</li>" for n in report.notes)
                    + "</ul></section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(report.title)}</title><style>{CSS}</style></head>\n<body><main>\n"
            + "\n".join(body) + f"\n<footer>{_inline(footer)}</footer>\n</main></body></html>\n")


def write_report(report: Report, out_dir: str | Path, footer: str = "") -> list[Path]:
    """Write ``report.md``, ``report.html``, ``figures/<name>.{png,svg}`` and ``tables/<name>.csv``.

    Returns the paths written, relative to ``out_dir``.
    """
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {"report.md": to_markdown(report).encode(),
                               "report.html": to_html(report, footer).encode()}
    for f in report.figures:
        files[f"figures/{f.name}.png"] = f.png
        files[f"figures/{f.name}.svg"] = f.svg.encode()
    for t in report.tables:
        files[f"tables/{t.name}.csv"] = t.data.to_csv(index=False).encode()
    for rel, data in files.items():
        (out / rel).write_bytes(data)
    return [Path(r) for r in files]
