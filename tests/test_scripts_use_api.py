"""DESIGN.md: scripts/ are thin drivers that import ``hwsim.api`` only, so the API stays the one surface that
users' own scripts can rely on."""

import re
from pathlib import Path

SCRIPTS = sorted((Path(__file__).resolve().parents[1] / "scripts").glob("*.py"))
IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(hwsim[\w.]*)[ \t]+import[ \t]+([\w \t,]+)|import[ \t]+(hwsim[\w.]*))", re.M)


def test_scripts_import_only_hwsim_api():
    assert SCRIPTS
    bad = []
    for p in SCRIPTS:
        for m in IMPORT.finditer(p.read_text()):
            module = m.group(1) or m.group(3)
            names = {n.strip() for n in (m.group(2) or "").split(",")}
            if module == "hwsim.api" or (module == "hwsim" and names <= {"api"}):
                continue
            bad.append(f"{p.name}: {m.group(0).strip()}")
    assert not bad, bad


def test_the_rule_is_checked():
    """The pattern sees the import forms it must refuse."""
    text = "from hwsim.ppa.tech import power_law\nimport hwsim.units\nfrom hwsim import api\n"
    found = [m.group(1) or m.group(3) for m in IMPORT.finditer(text)]
    assert found == ["hwsim.ppa.tech", "hwsim.units", "hwsim"]
