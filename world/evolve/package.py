"""Evaluator packages: a lineage's my-eval with everything it depends on.

A winner's handlers may call helpers it defined and natives (`defnative!`),
so a generation, a lineage and a hall-of-fame entry carry the evaluator as a
*package*, plain data that pickles and compares:

    {"format": 1,
     "evaluator": "(define (my-eval expr env) ...)",           # canonical source
     "helpers": (("name", "(define (name ...) ...)"), ...),    # dependencies first; also
                                                               # defmacro, define-record
     "natives": (("name", "(define (name ...) ...)"), ...)}    # defnative! sources

Helpers and natives are installed in the lineage's world with its own grant
(a package can do nothing a lineage cell could not), and my-eval through
edit-eval!, so a package cannot smuggle in an evaluator that fails the
sanity tests. A package too big (MAX_PARTS, MAX_SOURCE) is refused.

The API (stable; world/evolve/hall.py and the run settings build on it):

- `package_of(world, base=None)`: the package of a lineage world's evaluator:
  my-eval's source, the helpers it uses transitively (full source; seed
  helpers only when the lineage redefined them) and the natives among them.
- `install_package(world, package)`: check it (`check`), define its natives
  (through defnative!) and helpers, then adopt its my-eval with edit-eval!
  under the usual sanity tests; returns the evaluator's base names.
- `as_package(seed)`: a package from a package or a bare my-eval source
  (records made before packages: an evaluator-only package).
- `stored(entry_or_lineage)`: the package a HallEntry or finished Lineage
  carries (`.package`), evaluator-only for a record made before packages;
  `seed_of(generation_or_lineage)`: the package it was seeded with
  (`.seed_package`, else its `.seed` source).
- `check(package)`: the package validated (every source readable, canonical,
  a define of its own name) or EvolveError in one line; never a traceback.
- `describe(package)`: "my-eval with N helpers and M natives".
"""
from __future__ import annotations

from typing import Any, Iterable

from ..lisp.errors import Interrupted, LispError
from ..lisp.printer import write
from ..lisp.reader import read
from ..lisp.types import Pair, Symbol, make_list
from .agent_errors import EvolveError
from .evaluator import MY_EVAL, defined_name, seed_forms
from .slot import SETTINGS_KEY

FORMAT = 1
MAX_PARTS = 200             # helpers plus natives a package may hold
MAX_SOURCE = 200_000        # characters of any one source in a package
DEFMACRO, DEFNATIVE, DEFINE_RECORD = Symbol("defmacro"), Symbol("defnative!"), Symbol("define-record")
KINDS = ("helpers", "natives")


def evaluator_only(source: str) -> dict[str, Any]:
    """The package of a bare my-eval source (no helpers, no natives)."""
    return {"format": FORMAT, "evaluator": source, "helpers": (), "natives": ()}


def as_package(seed: Any) -> dict[str, Any]:
    """`seed` as a package: a package as it is, a my-eval source as an evaluator-only one."""
    if isinstance(seed, str):
        return evaluator_only(seed)
    return seed


def stored(record: Any) -> dict[str, Any]:
    """The evaluator package a HallEntry or a finished Lineage carries (`package`), or an
    evaluator-only one from its `evaluator` for a record made before packages."""
    package = getattr(record, "package", None)
    return package if package is not None else evaluator_only(getattr(record, "evaluator", "") or "")


def seed_of(record: Any) -> dict[str, Any]:
    """The package a Generation or Lineage was seeded with (`seed_package`), or an
    evaluator-only one from its `seed` for a record made before packages."""
    package = getattr(record, "seed_package", None)
    return package if package is not None else evaluator_only(getattr(record, "seed", "") or "")


def describe(package: dict[str, Any]) -> str:
    """A few words: how many helpers and natives come with the evaluator."""
    h, n = len(package.get("helpers") or ()), len(package.get("natives") or ())
    return f"my-eval with {h} helper{'s' * (h != 1)} and {n} native{'s' * (n != 1)}"


# ---------------------------------------------------------------- making a package

def _seed_sources() -> dict[str, str]:
    """Name -> canonical source of every definition seed-eval.lisp makes."""
    return {defined_name(f).name: write(f) for f in seed_forms() if defined_name(f) is not None}


def _symbols(form: Any) -> list[str]:
    """Every symbol in `form`, quoted or not, in order of first appearance (no recursion)."""
    found: dict[str, None] = {}
    stack = [form]
    while stack:
        x = stack.pop()
        if type(x) is Symbol:
            found.setdefault(x.name, None)
        elif type(x) is Pair:
            stack.append(x.cdr)
            stack.append(x.car)
    return list(found)


def package_of(world: Any, base: Iterable[str] | None = None) -> dict[str, Any]:
    """The package of `world`'s (a lineage world's) current evaluator: my-eval's source and
    every helper and native it uses, directly or through another helper, dependencies first.

    A name of `base` (the seed's own helpers by default) is left out unless the lineage
    redefined it; a definition with no defining source (made by `set!` alone) cannot be
    carried. Every package made here passes `check`."""
    root = world.image.root
    slot = root.settings.get(SETTINGS_KEY)
    v = slot.version() if slot is not None else None
    if v is None:
        return evaluator_only("")
    seed = _seed_sources()
    base = set(seed if base is None else base)
    natives = {n: nat.source for n, nat in slot.natives.items()}
    defs, macros = root.definitions, root.macros

    def part(name: str) -> tuple[str, str, bool] | None:
        """(entry name, source, native?) of the definition of `name` to carry, or None."""
        d = defs.get(name) or macros.get(name)
        native = name in natives and (d is None or d.kind == "defnative")
        src = natives[name] if native else getattr(d, "source", None) if d is not None else None
        if not src or (name in base and src == seed.get(name)):
            return None         # unknown, a primitive, or the seed's own helper as it was
        entry = _entry_name(src)
        return (entry, src, native) if entry is not None else None

    order: dict[str, tuple[str, bool]] = {}     # entry name -> (source, native?), deps first
    seen: set[str] = {MY_EVAL.name}
    stack: list[tuple[Any, list[str]]] = [(None, _deps(v.source))]
    while stack:                        # depth first, without Python recursion
        here, todo = stack[-1]
        if not todo:
            stack.pop()
            if here is not None:
                order.setdefault(here[0], here[1:])
            continue
        dep = todo.pop()
        if dep in seen:
            continue
        seen.add(dep)
        found = part(dep)
        if found is not None:
            stack.append((found, _deps(found[1])))
    helpers = tuple((n, src) for n, (src, native) in order.items() if not native)
    used = tuple((n, src) for n, (src, native) in order.items() if native)
    return {"format": FORMAT, "evaluator": v.source, "helpers": helpers, "natives": used}


def _deps(text: str) -> list[str]:
    """The symbols of a source, last first (popped in order of appearance); none if unreadable."""
    try:
        return list(reversed(_symbols(read(text))))
    except LispError:
        return []


def _entry_name(src: str) -> str | None:
    """The name a package entry for `src` goes by: what a define, defmacro or define-record
    defines (a record by its type name); None for source a package cannot carry."""
    try:
        form = read(src)
        if write(form) != src:
            return None
    except LispError:
        return None
    got = defined_name(form)
    if got is None and type(form) is Pair and form.car in (DEFMACRO, DEFINE_RECORD) \
            and type(form.cdr) is Pair and type(form.cdr.car) is Symbol:
        got = form.cdr.car
    return got.name if got is not None else None


# ---------------------------------------------------------------- checking a package

def check(package: Any, where: str = "the evaluator package") -> dict[str, Any]:
    """`package` (or a bare my-eval source) validated and normalised to tuples, else
    EvolveError in one line naming the part that is wrong."""
    package = as_package(package)
    if not isinstance(package, dict):
        raise EvolveError(f"{where} is not a package: expected a map of evaluator, helpers "
                          f"and natives, got {type(package).__name__}")
    fmt = package.get("format", FORMAT)
    if fmt != FORMAT:
        raise EvolveError(f"{where} has format {fmt!r}; this release reads format {FORMAT}")
    evaluator = package.get("evaluator")
    if not isinstance(evaluator, str):
        raise EvolveError(f"{where}: its evaluator is not source text")
    if evaluator:
        _checked_form(evaluator, MY_EVAL.name, f"{where}: its my-eval")
    out: dict[str, Any] = {"format": FORMAT, "evaluator": evaluator}
    names: set[str] = set()
    total = 0
    for kind in KINDS:
        parts = package.get(kind) or ()
        if isinstance(parts, dict):
            parts = tuple(parts.items())
        if not isinstance(parts, (tuple, list)):
            raise EvolveError(f"{where}: its {kind} are not a list of (name, source) pairs")
        total += len(parts)
        if total > MAX_PARTS:
            raise EvolveError(f"{where} holds more than {MAX_PARTS} helpers and natives")
        kept = []
        for i, part in enumerate(parts):
            if (not isinstance(part, (tuple, list)) or len(part) != 2
                    or not all(isinstance(p, str) for p in part)):
                raise EvolveError(f"{where}: {kind} entry {i + 1} is not a (name, source) pair")
            name, src = part
            what = f"{where}: the {kind[:-1]} {name}"
            if name == MY_EVAL.name:
                raise EvolveError(f"{what}: my-eval is the package's evaluator, not a {kind[:-1]}")
            if name in names:
                raise EvolveError(f"{what} is defined twice")
            names.add(name)
            form = _checked_form(src, name, what, other_forms=kind == "helpers")
            if kind == "natives" and (type(form.cdr.car) is not Pair or form.cdr.cdr is None):
                raise EvolveError(f"{what}: a native is (define (name params...) body...)")
            kept.append((name, src))
        out[kind] = tuple(kept)
    return out


def _checked_form(src: str, name: str, what: str, other_forms: bool = False) -> Any:
    """`src` read, if it is canonical source of one define (or, with `other_forms`, a
    defmacro or define-record) of `name`."""
    if len(src) > MAX_SOURCE:
        raise EvolveError(f"{what} is longer than {MAX_SOURCE} characters")
    try:
        form = read(src)
    except LispError as e:
        raise EvolveError(f"{what} cannot be read: {e.message}") from None
    try:
        text = write(form)
    except LispError as e:
        raise EvolveError(f"{what} cannot be written back: {e.message}") from None
    if text != src:
        raise EvolveError(f"{what} is not canonical source (it does not print back as "
                          f"itself: extra text, or not as the printer writes it)")
    got = defined_name(form)
    if got is None and other_forms and type(form) is Pair and form.car in (DEFMACRO, DEFINE_RECORD) \
            and type(form.cdr) is Pair and type(form.cdr.car) is Symbol:
        got = form.cdr.car
    if got is None or got.name != name:
        raise EvolveError(f"{what} is not a definition of {name}")
    return form


# ---------------------------------------------------------------- installing a package

def install_package(world: Any, package: Any) -> tuple[str, ...]:
    """Give a lineage's world the seed evaluator, then `package`: its natives and helpers
    first, then its my-eval through edit-eval! (the sanity tests apply). Returns the base
    names (seeding.base_names). A package that is not valid raises EvolveError; a part
    that fails to define or a my-eval refused raises the LispError that says why."""
    from .seeding import base_names, evaluator_of
    pkg = check(package)
    world.eval("(show-eval)", source="<seed>")        # installs the seed on first use
    for name, src in pkg["natives"]:
        form = read(src)
        target = form.cdr.car
        native = Pair(DEFNATIVE, Pair(target.car, Pair(target.cdr, form.cdr.cdr)))
        _define(world, native, f"the native {name}")
    for name, src in pkg["helpers"]:
        _define(world, read(src), f"the helper {name}")
    if pkg["evaluator"] and pkg["evaluator"] != evaluator_of(world):
        edit = make_list([Symbol("edit-eval!"), make_list([Symbol("quote"), read(pkg["evaluator"])])])
        world.eval_form(edit, source="<seed>")
    return base_names()


def _define(world: Any, form: Any, what: str) -> None:
    """Run one definition of the package in the lineage's world; its error names `what`."""
    try:
        world.eval_form(form, source="<seed>")
    except Interrupted:
        raise                   # Ctrl-C stops the run; it says nothing about the package
    except LispError as e:
        raise EvolveError(f"the evaluator package: {what} fails: {e.kind}: {e.message}") from None
