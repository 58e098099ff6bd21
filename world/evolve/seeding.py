"""A lineage's evaluator and helpers, read off its namespace.

A lineage starts from a seed evaluator (the text of `seed-eval.lisp` in the
first generation, the previous winner's evaluator after that). The names the
seed defines are the evaluator; every other definition the lineage makes is
a helper. `evaluator_of` gives the evaluator's current source, which is what
the hall of fame keeps and the next generation is seeded with.
"""
from __future__ import annotations

import os
from typing import Any

from ..lisp.reader import read_spans
from ..lisp.types import Pair, Symbol

SEED_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed-eval.lisp")
HELPER_CHARS = 240


def seed_source() -> str:
    """The first generation's evaluator: seed-eval.lisp, or '' (the ground) until it exists."""
    try:
        with open(SEED_FILE, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def defined_names(source: str) -> tuple[str, ...]:
    """The names the top-level defines of `source` bind, in order."""
    names = []
    for form, _, _ in read_spans(source, "<seed>"):
        if type(form) is Pair and type(form.car) is Symbol and form.car.name.startswith("def"):
            target = form.cdr.car if type(form.cdr) is Pair else None
            if type(target) is Pair:
                target = target.car
            if type(target) is Symbol and target.name not in names:
                names.append(target.name)
    return tuple(names)


def install(world: Any, source: str) -> tuple[str, ...]:
    """Evaluate the seed evaluator in a lineage's world; return the names it defines."""
    if source.strip():
        world.eval(source, source="<seed>")
    return defined_names(source)


def evaluator_of(world: Any, base: tuple[str, ...]) -> str:
    """The current source of the evaluator's definitions (the seed's names)."""
    defs = world.image.root.definitions
    parts = [defs[n].source for n in base if n in defs and defs[n].source]
    return "\n".join(parts)


def helpers_of(world: Any, base: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, source) of every definition the lineage made beyond its evaluator."""
    out = []
    for name, d in world.image.root.definitions.items():
        if name in base:
            continue
        src = d.source or "(set by set!)"
        out.append((name, src if len(src) <= HELPER_CHARS else src[:HELPER_CHARS - 3] + "..."))
    return out
