"""Summaries of the violations recorded on the latest version of each definition."""
from __future__ import annotations

from typing import Any

Violations = tuple[tuple[str, str, str, str], ...]


def latest_violations(world: Any, name: str | None = None) -> list[tuple[str, Violations]]:
    """(symbol, violations) of the latest version of each definition (or of `name`) that has any."""
    hist = getattr(world.image.root, "history", None)
    if hist is None:
        return []
    names = [name] if name is not None else list(hist.by_symbol.keys())
    out = []
    for n in names:
        c = hist.latest(n)
        if c is not None and c.kind != "undefine" and c.violations:
            out.append((n, c.violations))
    return out


def summary(world: Any) -> dict[str, Any]:
    """Counts over the latest definitions: total, by category, by severity, the worst few."""
    hist = getattr(world.image.root, "history", None)
    live = 0
    if hist is not None:
        for n in hist.by_symbol.keys():
            c = hist.latest(n)
            live += c is not None and c.kind != "undefine"
    rows = latest_violations(world)
    by_cat: dict[str, int] = {}
    by_sev: dict[str, int] = {}
    for _, vs in rows:
        for v in vs:
            by_cat[v[1]] = by_cat.get(v[1], 0) + 1
            by_sev[v[2]] = by_sev.get(v[2], 0) + 1
    worst = sorted(((n, len(vs)) for n, vs in rows), key=lambda x: (-x[1], x[0]))[:10]
    return {"definitions": live, "violations": sum(by_cat.values()),
            "by-category": dict(sorted(by_cat.items())), "by-severity": dict(sorted(by_sev.items())),
            "worst": worst}
