"""monitoring stands alone: it may use ehealth_portal, never registry or declarations."""

import ast
from pathlib import Path

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
FORBIDDEN = {"registry", "declarations"}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_monitoring_imports_nothing_from_registry_or_declarations():
    files = sorted(MONITORING.rglob("*.py"))
    assert MONITORING / "models.py" in files
    offenders = {
        f"{path.relative_to(MONITORING)}: {module}"
        for path in files
        for module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN
    }
    assert not offenders


def test_monitoring_migrations_depend_on_no_registry_or_declarations_migration():
    for path in (MONITORING / "migrations").glob("0*.py"):
        source = path.read_text(encoding="utf-8")
        assert '("registry",' not in source and '("declarations",' not in source, path.name
