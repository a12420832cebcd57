"""docs/architecture.md's module map lists every module of the package, so an architect extending hwsim finds
where each concept lives (and a new module is not left out of it)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_is_in_the_module_map():
    text = (ROOT / "docs" / "architecture.md").read_text()
    modules = [p.relative_to(ROOT / "hwsim").as_posix() for p in (ROOT / "hwsim").rglob("*.py")
               if p.name not in ("__init__.py", "__main__.py")]
    assert len(modules) > 50
    missing = [m for m in modules if f"| `{m}` |" not in text]
    assert not missing, f"add to docs/architecture.md's module map: {missing}"
