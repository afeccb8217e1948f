"""Imports point one way: api → web → shelter_match → solver, seed → shelter_match (DESIGN.md)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "solver": {"flask", "flask_smorest", "sqlalchemy", "alembic", "marshmallow", "shelter_match",
               "api", "seed", "web"},
    "shelter_match": {"flask", "flask_smorest", "werkzeug", "marshmallow", "api", "seed", "web",
                      "flask_babel"},
    "seed": {"flask", "flask_smorest", "api", "web"},
    # The pages call services, like the API, and never run SQL of their own.
    "web": {"api", "seed", "flask_smorest", "marshmallow", "sqlalchemy", "alembic"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_upwards(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module in imported_modules(path):
            if module.split(".")[0] in FORBIDDEN[package]:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_the_check_sees_imports():
    # Guard against a check that passes because it reads nothing.
    assert "shelter_match.models" in imported_modules(ROOT / "api" / "database.py") or \
        "shelter_match.db" in imported_modules(ROOT / "api" / "database.py")
    assert any((ROOT / "solver").rglob("*.py"))
