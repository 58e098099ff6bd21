"""A lineage's evaluator and helpers, read off its own world.

Each lineage world has its own evaluator slot (world/evolve/slot.py), so
`extend-eval!`, `edit-eval!` and `defnative!` typed there change that
lineage's my-eval and nobody else's. A lineage starts from a seed: the seed
my-eval (seed-eval.lisp) in the first generation, the previous winner's
evaluator package after that (world/evolve/package.py: its my-eval with the
helpers and natives it uses), its my-eval adopted with `edit-eval!` under the
usual sanity tests.
The names seed-eval.lisp defines are the evaluator; every other definition
the lineage makes is a helper.
"""
from __future__ import annotations

from typing import Any

from ..lisp.errors import LispError
from ..lisp.printer import write
from ..lisp.reader import read
from ..lisp.types import Pair, Symbol, make_list
from .evaluator import MY_EVAL, defined_name, seed_forms
from .slot import SETTINGS_KEY

HELPER_CHARS = 240
LINE = 72                   # width of the pretty-printed source that richness counts lines of


def seed_source() -> str:
    """The seed my-eval's canonical source."""
    return write(next(f for f in seed_forms() if defined_name(f) is MY_EVAL))


def base_names() -> tuple[str, ...]:
    """The names of the evaluator: my-eval and the helpers seed-eval.lisp defines."""
    return tuple(defined_name(f).name for f in seed_forms() if defined_name(f) is not None)


def install(world: Any, seed: str) -> tuple[str, ...]:
    """Give a lineage's world the seed evaluator, then `seed` (a my-eval source) if it differs."""
    world.eval("(show-eval)", source="<seed>")        # installs the seed on first use
    if seed and seed != evaluator_of(world):
        edit = make_list([Symbol("edit-eval!"), make_list([Symbol("quote"), read(seed)])])
        world.eval_form(edit, source="<seed>")
    return base_names()


def evaluator_of(world: Any, base: tuple[str, ...] = ()) -> str:
    """The lineage's current my-eval source ('' before the seed is installed)."""
    slot = world.image.root.settings.get(SETTINGS_KEY)
    if slot is None or slot.current == 0:
        return ""
    return slot.version().source


def helpers_of(world: Any, base: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, source) of every definition the lineage made beyond its evaluator."""
    out = []
    for name, d in world.image.root.definitions.items():
        if name in base:
            continue
        src = d.source or "(set by set!)"
        out.append((name, src if len(src) <= HELPER_CHARS else src[:HELPER_CHARS - 3] + "..."))
    return out


def pretty(source: str, width: int = LINE) -> str:
    """`source` pretty-printed: a list too wide for the line puts each element on its own line."""
    if not source.strip():
        return ""
    try:
        form = read(source)
    except LispError:           # a damaged record is shown as it is, never a crash
        return source
    return "\n".join(_pp(form, 0, width))


def pretty_lines(source: str, width: int = LINE) -> int:
    """Lines of `source` pretty-printed."""
    return len(pretty(source, width).splitlines())


def _pp(x: Any, indent: int, width: int) -> list[str]:
    text = write(x)
    if type(x) is not Pair or indent + len(text) <= width:
        return [text]
    items, tail = [], x
    while type(tail) is Pair:
        items.append(tail.car)
        tail = tail.cdr
    if tail is not None or type(items[0]) is Pair and len(items) == 1:
        return [text]
    lines = ["(" + _pp(items[0], indent + 1, width)[0]] if type(items[0]) is not Pair else \
        ["(" + line if i == 0 else " " + line for i, line in enumerate(_pp(items[0], indent + 1, width))]
    for item in items[1:]:
        lines += ["  " + line for line in _pp(item, indent + 2, width)]
    lines[-1] += ")"
    return lines
