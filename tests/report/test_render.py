"""Markdown, HTML and manifest: every file they name exists, the page references nothing outside itself,
the manifest's hashes are the files', and the same input gives the same bytes."""

from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from hwsim.report import build_report, load_input, save_report
from hwsim.report import figures as F
from hwsim.report.render import to_html


class _Refs(HTMLParser):
    """Every URL-bearing attribute of a page, and the CSS url(...) references."""

    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href", "srcset", "data", "poster", "action") and v is not None:
                self.refs.append((tag, k, v))


def external_refs(html_text: str) -> list[str]:
    """References a browser would fetch or follow outside the page (anything but data: URIs and #anchors)."""
    p = _Refs()
    p.feed(html_text)
    refs = [v for _, _, v in p.refs if not v.startswith(("data:", "#"))]
    import re
    refs += [u for u in re.findall(r"url\(([^)]*)\)", html_text) if not u.strip("'\" ").startswith("data:")]
    refs += re.findall(r"@import", html_text)
    return refs


def test_external_refs_detects_what_it_should():
    assert external_refs('<img src="a.png"><link href="https://x/y.css"><a href="#s">') == ["a.png", "https://x/y.css"]
    assert external_refs("<style>body{background:url(x.png)}</style>") == ["x.png"]


def test_run_report_files(run_report, run_doc):
    out, files = run_report
    names = {str(f) for f in files}
    for fig in ("block_shares", "latency_by_op", "energy_by_op", "roofline", "timeline", "area_breakdown"):
        assert {f"figures/{fig}.png", f"figures/{fig}.svg"} <= names
    assert {"report.md", "report.html", "tables/ops.csv", "tables/energy_by_component.csv",
            "tables/area_by_component.csv", "input.json", "manifest.json"} <= names
    assert all((out / f).is_file() and (out / f).stat().st_size > 0 for f in files)
    assert json.loads((out / "input.json").read_text())["block"] == run_doc["block"]


def test_markdown_links_exist(run_report):
    import re
    out, _ = run_report
    md = (out / "report.md").read_text()
    links = re.findall(r"\]\(([^)]+)\)", md)
    assert len(links) >= 6 * 2 + 3
    assert all((out / link).is_file() for link in links)
    assert md.startswith("# llama2_7b/decode on npu_128")


def test_html_is_self_contained(run_report, sweep_report):
    for out, _ in (run_report, sweep_report):
        page = (out / "report.html").read_text()
        assert external_refs(page) == []
        assert page.count('<img alt="') == sum(1 for f in (out / "figures").glob("*.svg"))


def test_csv_tables_round_trip(run_report, run_doc):
    import pandas as pd
    out, _ = run_report
    ops = pd.read_csv(out / "tables" / "ops.csv")
    assert list(ops["op"]) == [o["name"] for o in run_doc["ops"]]
    assert ops["seconds"].tolist() == [o["seconds"] for o in run_doc["ops"]]


def test_manifest(run_report, run_json):
    out, files = run_report
    m = json.loads((out / "manifest.json").read_text())
    assert m["input"]["kind"] == "run" and m["input"]["inputs_hash"]
    for f in files:
        if str(f) != "manifest.json":
            assert m["files"][str(f)] == hashlib.sha256((out / f).read_bytes()).hexdigest()
    assert {"matplotlib", "numpy", "pandas"} <= set(m["libraries"])


def test_same_input_same_bytes(validation_csv, tmp_path, monkeypatch):
    """Two reports of one input, built separately, are byte-identical (SOURCE_DATE_EPOCH fixes the date)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dirs = []
    for i in range(2):
        save_report(build_report(load_input(validation_csv)), tmp_path / str(i), command=["test"])
        dirs.append(tmp_path / str(i))
    a = sorted(p.relative_to(dirs[0]) for p in dirs[0].rglob("*") if p.is_file())
    assert a == sorted(p.relative_to(dirs[1]) for p in dirs[1].rglob("*") if p.is_file())
    for rel in a:
        assert (dirs[0] / rel).read_bytes() == (dirs[1] / rel).read_bytes(), rel
    assert json.loads((dirs[0] / "manifest.json").read_text())["created_utc"] == "2023-11-14T22:13:20+00:00"


def test_html_escapes_text(built):
    """Op names and notes reach the page escaped (a note with '<' must not open a tag)."""
    import dataclasses
    from hwsim.report.build import Section
    r = built["validation"]
    r2 = dataclasses.replace(r, sections=r.sections + (Section("x", ("a <script>b</script> `c<d>`",)),))
    page = to_html(r2)
    assert "<script>" not in page and "a &lt;script&gt;b&lt;/script&gt; <code>c&lt;d&gt;</code>" in page


@pytest.mark.parametrize("kind", ["sweep", "validation"])
def test_other_kinds_have_sections(built, kind):
    r = built[kind]
    assert r.sections and r.figures and r.tables and r.headline


def test_worst_rows_read_as_numbers_not_reprs(built, validation_csv):
    """The validation's worst rows: seconds with a prefix, other floats to 4 significant digits or with a
    prefix from 10^4 up, no 'nan' cells and no column that is empty in every shown row; the CSV keeps all."""
    t = next(t for t in built["validation"].tables if t.name == "worst_rows")
    cells = t.display.to_numpy().ravel().tolist()
    assert "nan" not in cells and not any(len(c) > 12 and c.replace(".", "").isdigit() for c in cells)
    assert all(t.data[c].notna().any() for c in t.display.columns)
    assert set(t.data.columns) - set(t.display.columns) == {c for c in t.data if t.data[c].isna().all()}
    assert list(t.data.columns) == [*pd.read_csv(validation_csv).columns, "ape"]  # the CSV keeps every column
    worst = t.data.iloc[0]
    row = t.display.iloc[0]
    assert row["flops"] == F.value_label(worst["flops"]) and row["flops"].endswith((" M", " G", " T", " k"))
    assert row["ape"] == f"{100 * worst['ape']:.1f}%"
