"""Trying a suggestion without changing the world.

The audit is asked in the world itself (the rules only read the form: see
history/record.py's `audit`); the checks run in a sandboxed copy: a fresh world in memory,
granted only pure computation, holding the definitions the checks and the candidate use
(replayed from their sources, oldest first) with the candidate in place of the original.
The copy is thrown away afterwards, so nothing the candidate does reaches the world.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..audit import rules as audit_rules
from ..audit.checks import exercised, run_checks, warning
from ..lisp.budget import within
from ..lisp.errors import LispError
from ..lisp.reader import read

CAPS = ("core", "output")
STEPS = 2_000_000           # steps each form of the copy may take, at most
DEPENDENCIES = 500          # definitions copied, at most


def audit_line(world: Any, name: str, form: Any, kind: str) -> str | None:
    """Why the audit refuses the candidate (more warnings or errors than the definition it
    replaces has, or more than the world's tolerance), or None."""
    from ..history.record import TOLERANCE, audit, history_of
    found = audit(world, form, name, kind)
    hist = history_of(world)
    latest = hist.latest(name) if hist is not None else None
    before = audit_rules.counted(list(getattr(latest, "violations", ()) or ()))
    now = audit_rules.counted(found)
    names = ", ".join(v[0] for v in found if v[1] != audit_rules.BROKEN and v[2] in ("warning", "error"))
    limit = world.image.root.settings.get(TOLERANCE)
    if limit is not None and now > limit:
        return f"the audit finds {now} violations ({names}), over the tolerance of {limit}"
    if now > before:
        return f"the audit finds {now} violations ({names}) where {name} now has {before}"
    return None


def dependencies(world: Any, name: str, form: Any, checks: list[Any]) -> list[str]:
    """The sources to replay in the copy, oldest first: every definition the checks and the
    candidate use, but not `name` itself."""
    names = set(exercised(world.names, form))
    for c in checks:
        try:
            names |= set(exercised(world.names, read(c.expr))) | set(exercised(world.names, read(c.expected)))
        except LispError:
            continue
    names.discard(name)
    hist = getattr(world.image.root, "history", None)
    order = sorted(names, key=lambda n: (hist.newest(n) if hist is not None else 0, n))
    sources: list[str] = []
    for n in order[:DEPENDENCIES]:
        d = world.names.defs.get(n) or world.names.macros.get(n)
        if d is not None and d.source and d.source not in sources:
            sources.append(d.source)
    return sources


def checks_line(world: Any, name: str, form: Any, text: str) -> tuple[str | None, int]:
    """(why the candidate fails the checks recorded against `name`, or None; how many ran),
    run in a sandboxed copy of what they use."""
    import world as _world_pkg
    store = getattr(world.image.root, "audit", None)
    checks = store.against([name]) if store is not None and len(store.checks) else []
    if not checks:
        return None, 0
    limits = within(replace(world.limits, steps=min(world.limits.steps, STEPS)))
    copy = _world_pkg.open(limits=limits, caps=CAPS)
    try:
        for src in dependencies(world, name, form, checks):
            try:
                copy.eval(src, source="<sandbox>")
            except LispError as e:
                return f"its dependencies cannot be rebuilt in a sandbox: {e}", 0
        try:
            copy.eval(text, source="<candidate>")
        except LispError as e:
            return f"it does not evaluate: {e}", 0
        report = copy._change(lambda: run_checks(copy, {c.number: c for c in checks}),
                              "companion: try a suggestion")
        failed = report.failed
        if failed:
            line = warning(failed[0]).removeprefix("; warning: ").split(" (recorded against")[0]
            return line + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""), len(checks)
        return None, len(checks)
    finally:
        copy.close()


def judge(world: Any, name: str, form: Any, text: str, kind: str) -> tuple[str | None, int]:
    """(why the candidate is refused, or None; how many checks it passed)."""
    why = audit_line(world, name, form, kind)
    if why is not None:
        return why, 0
    return checks_line(world, name, form, text)

