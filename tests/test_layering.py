"""Imports point one way (DESIGN.md): app → {api, web} → shelter_match → solver,
seed → shelter_match; testbed and bench sit beside the tests. No circle anywhere."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Which of the project's packages each package may import (besides itself).
ALLOWED = {
    "solver": set(),
    "shelter_match": {"solver"},
    "seed": {"shelter_match", "solver"},
    "api": {"shelter_match", "solver"},
    "web": {"shelter_match", "solver"},
    "app": {"api", "web", "shelter_match", "solver"},
    "testbed": {"seed", "shelter_match", "solver"},
    "bench": {"testbed", "app", "api", "seed", "shelter_match", "solver"},
}
PROJECT = set(ALLOWED) | {"tests"}
# Libraries a package must not use, whatever the project imports allow.
FORBIDDEN_LIBRARIES = {
    "solver": {"flask", "flask_smorest", "sqlalchemy", "alembic", "marshmallow"},
    "shelter_match": {"flask", "flask_smorest", "werkzeug", "marshmallow", "flask_babel"},
    "seed": {"flask", "flask_smorest"},
    # The pages call services, like the API, and never run SQL of their own.
    "web": {"flask_smorest", "marshmallow", "sqlalchemy", "alembic"},
}


def imported_modules(path: Path) -> set[str]:
    """Return the absolute names a file imports, at any depth (also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from web import pages` imports the module web.pages; `from web.pages import
            # now` the module web.pages.
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                is_module = (ROOT / Path(*submodule.split("."))).with_suffix(".py").exists() \
                    or (ROOT / Path(*submodule.split(".")) / "__init__.py").exists()
                found.add(submodule if is_module else node.module)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package):
    offenders = []
    for path in project_files(package):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top == package:
                continue
            if top in PROJECT and top not in ALLOWED[package]:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
            if top in FORBIDDEN_LIBRARIES.get(package, ()):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_the_allowed_arrows_form_no_circle():
    seen: set[str] = set()

    def visit(package: str, path: tuple[str, ...]) -> None:
        assert package not in path, " → ".join((*path, package))
        if package in seen:
            return
        for target in ALLOWED[package]:
            visit(target, (*path, package))
        seen.add(package)

    for package in ALLOWED:
        visit(package, ())


def test_no_module_imports_itself_round_a_circle():
    modules = {module_name(path): path for package in ALLOWED for path in project_files(package)}
    graph = {
        name: {module for module in imported_modules(path) if module in modules and module != name}
        for name, path in modules.items()
    }
    circles = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                circles.append(" → ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_the_check_sees_imports():
    # Guard against a check that passes because it reads nothing.
    assert "api.database" in imported_modules(ROOT / "api" / "auth.py")
    assert "web.pages" in imported_modules(ROOT / "web" / "auth.py")
    assert any((ROOT / "solver").rglob("*.py"))
