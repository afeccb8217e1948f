"""Every change of a unit's or a hold's state is a transition of unit_state, and only there.

The conditional UPDATE, the version, the history row and the audit event of a transition
are written once, in shelter_match/services/unit_state.py; this test keeps any other
module from issuing its own UPDATE of units, holds or placements or writing their state.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "shelter_match" / "services" / "unit_state.py"
PACKAGES = ("shelter_match", "api", "web", "app", "seed")
GUARDED = {"Unit", "Hold", "Placement"}
STATE_ATTRIBUTES = {"status", "held_until", "version", "expires_at", "ended_at"}


def model_named(node: ast.AST) -> str | None:
    """Return the guarded model a statement targets: Unit, Unit.__table__, "units"."""
    if isinstance(node, ast.Name) and node.id in GUARDED:
        return node.id
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        return model_named(node.value)
    if isinstance(node, ast.Constant) and node.value in ("units", "holds", "placements"):
        return str(node.value)
    return None


def state_writes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else (
                node.func.attr if isinstance(node.func, ast.Attribute) else None)
            target = model_named(node.args[0]) if node.args else None
            # Deleting placements is the seed's (it reloads its demo history), not a change
            # of state; deleting a unit or a hold, or updating any of the three, is one.
            if (name == "update" and target) or (name == "delete" and target in ("Unit", "Hold")):
                found.append(f"{where}: {name}({target})")
            if name == "update" and isinstance(node.func, ast.Attribute) \
                    and model_named(node.func.value):
                found.append(f"{where}: {model_named(node.func.value)}.update()")
            if name == "Hold":
                found.append(f"{where}: creates a Hold")
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in STATE_ATTRIBUTES:
                    found.append(f"{where}: sets .{target.attr}")
    return found


def test_only_unit_state_changes_units_and_holds():
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path != HOME and "migrations" not in path.parts:
                offenders += state_writes(path)
    assert offenders == []


def test_the_check_finds_the_transitions_it_guards():
    # Guard against a check that passes because it recognises nothing.
    found = state_writes(HOME)
    assert any("update(Unit)" in line for line in found)
    assert any("update(Hold)" in line for line in found)
    assert any("creates a Hold" in line for line in found)
