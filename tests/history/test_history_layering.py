"""`world/history` sits below the session: none of its modules imports `world.session`
(whatever builds a new world from history, world/build.py, sits above both)."""
from __future__ import annotations

import ast
from pathlib import Path

HISTORY = Path(__file__).resolve().parents[2] / "world" / "history"


def imported(path: Path) -> set[str]:
    """The absolute names of the modules `path` imports (relative imports resolved)."""
    package = ["world", "history"]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def test_no_history_module_imports_the_session() -> None:
    modules = sorted(HISTORY.glob("*.py"))
    assert len(modules) > 5
    offenders = {p.name: sorted(m for m in imported(p) if m == "world.session"
                                or m.startswith("world.session.") or m == "world.build")
                 for p in modules}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_resolver_sees_relative_imports() -> None:
    names = imported(HISTORY / "rebuild.py")
    assert "world.history.record" in names and "world.lisp.reader" in names
