"""Every *published* number of hwsim/data/tech/*.csv equals its row in the research note's
hwsim/data/reference/tech_tables.csv (Horowitz, Aladdin, Stillmaker-Baas via hwcomponents, Lu et al. Flip FET,
O'Connor HBM2 via AttAcc, LLMCompass PHYs), and every derived row is the stated arithmetic on those rows, so
an edit to one table that the other does not share fails here."""

import math

import pytest

from hwsim.ppa import tables

REF = tables.reference_rows()


def ref(quantity: str, node: str) -> float:
    return REF[(quantity, node)]


@pytest.mark.parametrize("row", [r for r in tables.table("arithmetic") if r["op"] in ("mult", "add")
                                 and r["basis"] == "published"], ids=lambda r: f"{r['op']}-{r['format']}")
def test_published_arithmetic_is_horowitz(row):
    """e.g. int8 mult 0.2 pJ / 282 um^2, fp32 add 0.9 pJ / 4184 um^2 (Horowitz ISSCC 2014, 45 nm)."""
    name = f"{row['format'].upper()} {row['op']}"
    assert float(row["energy_pj"]) == ref(f"{name} energy", "45nm")
    assert float(row["area_um2"]) == ref(f"{name} area", "45nm")


def test_every_horowitz_row_is_in_the_table():
    """All nine Horowitz arithmetic rows of the note are published rows of arithmetic.csv."""
    ours = {(r["op"], r["format"]) for r in tables.table("arithmetic") if r["basis"] == "published"}
    theirs = {(q.split()[1], q.split()[0].lower()) for q, n in REF if n == "45nm"
              and q.split()[0] in ("INT8", "INT16", "INT32", "FP16", "FP32") and q.endswith(" energy")
              and q.split()[1] in ("add", "mult")}
    assert len(theirs) == 9 and theirs <= ours


def test_register_is_aladdin():
    r = tables.lookup("arithmetic", op="register", format="bit")
    assert (float(r["energy_pj"]), float(r["area_um2"]), r["node_nm"]) == (
        ref("register read energy per bit", "40nm"), ref("register area per bit", "40nm"), "40")


@pytest.mark.parametrize("node", [28, 16, 7, 5, 3])
def test_node_factors_are_stillmaker_baas(node):
    """28 nm interpolated, 16/7 nm table entries, 5/3 nm hwcomponents' extrapolation (7 nm x n/7, x sqrt(n/7)),
    to the 4 digits the note prints."""
    r = tables.lookup("scaling", node_nm=node)
    assert float(r["area_factor"]) == pytest.approx(ref(f"area scale factor 45nm->{node}nm", f"{node}nm"), rel=2e-3)
    assert float(r["energy_factor"]) == pytest.approx(ref(f"energy scale factor 45nm->{node}nm", f"{node}nm"),
                                                      rel=2e-3)
    assert r["basis"] == {28: "derived", 16: "published", 7: "published", 5: "extrapolated", 3: "extrapolated"}[node]
    if node < 7:
        assert float(r["area_factor"]) == pytest.approx(0.059 * node / 7, rel=1e-3)
        assert float(r["energy_factor"]) == pytest.approx(0.0943 * math.sqrt(node / 7), rel=1e-3)


def test_flip_fet_is_lu_et_al():
    """Against CFET, single-sided: area -23.3 %, power -11.9 %, f +25.0 % (same utilisation), +16.0 % (same
    area); dual-sided signals add 10.6 % f at no power cost."""
    ffet, dual = tables.lookup("devices", device="ffet"), tables.lookup("devices", device="ffet_dual")
    vs = "FFET vs CFET"
    assert float(ffet["area_factor"]) == pytest.approx(1 + ref(
        "FFET vs CFET RISC-V core area (post-P&R, single-sided signals)", vs) / 100)
    assert float(ffet["power_factor"]) == pytest.approx(1 + ref("FFET vs CFET power (same utilization)", vs) / 100)
    assert float(ffet["freq_factor"]) == pytest.approx(1 + ref("FFET vs CFET frequency (same utilization)", vs) / 100)
    assert float(ffet["freq_factor_iso_area"]) == pytest.approx(
        1 + ref("FFET vs CFET frequency (same core area)", vs) / 100)
    extra = 1 + ref("FFET dual-sided signals extra frequency", "FFET") / 100
    for col in ("freq_factor", "freq_factor_iso_area"):
        assert float(dual[col]) == pytest.approx(float(ffet[col]) * extra)
    assert (dual["area_factor"], dual["power_factor"]) == (ffet["area_factor"], ffet["power_factor"])


def test_off_chip_rows_are_the_notes():
    """HBM2 = the six-term O'Connor breakdown (3.59 pJ/bit); DDR3 = Horowitz's 640 pJ per 32-bit read; the PHY
    areas LLMCompass gives (HBM2e 10.45 mm^2 per 1024 bits, DDR5 1.45 mm^2 per 32 bits) are the published ones."""
    dram = {r["kind"]: r for r in tables.table("dram")}
    node = "HBM2 (FGDRAM paper baseline)"
    parts = ("HBM cell ACT/PRE energy", "HBM cell RD/WR energy", "HBM RD/WR column decoder to BG mux",
             "HBM RD/WR BG mux to GIO mux", "HBM TSV energy", "HBM silicon interposer IO energy")
    assert float(dram["hbm2"]["energy_pj_per_bit"]) == pytest.approx(sum(ref(p, node) for p in parts))
    assert float(dram["ddr3"]["energy_pj_per_bit"]) == ref("DRAM read 32b", "45nm") / 32
    assert float(dram["hbm2e"]["phy_mm2_per_unit"]) == ref("HBM2e PHY area", "7nm-era")
    assert float(dram["ddr5"]["phy_mm2_per_unit"]) == ref("DDR5 PHY area", "")
    assert {k for k, r in dram.items() if r["phy_basis"] == "published"} == {"hbm2e", "ddr5"}
    assert tables.param("pim.bank_energy_per_bit").value == ref("PIM bank-level access energy (cell only)",
                                                                 "HBM3-PIM (AttAcc)")
