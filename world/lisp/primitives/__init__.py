"""The primitives: host procedures a sandbox may be granted.

Each primitive is a Python function registered under its Lisp name with
`@primitive`. Groups name capabilities: an environment is built from an
explicit set of groups (or names), and a child can only narrow it.
Primitives take and return Lisp values only, check their argument types and
raise the world's own errors, and charge the running budget for work
proportional to their input.
"""
from __future__ import annotations

from typing import Callable, Iterable

from ..types import Primitive

GROUPS: dict[str, set[str]] = {}

CAPABILITIES: dict[str, str] = {
    "core": "pure computation: numbers, lists, strings, maps, records, read, errors, call/cc",
    "output": "display, write, newline, write-string (the evaluation's own output)",
    "reflect": "reading the world: inspect, history and audit reports, snapshots, the evaluator's state",
    "image": "changing the image: commit, undefine, snapshots (save, restore), save-dev, rebuild, build-prod, pack, "
             "the evaluation mode (set-eval-mode!)",
    "audit": "defining audit rules and checks, running the audit, setting the tolerance",
    "evaluator": "my-eval: eval-in, my-eval/eval, extend-eval!, edit-eval!, eval-rollback!, defnative!, "
                 "its environment API",
    "eval": "eval and sandbox: compile and run a form on the ground evaluator, bypassing my-eval",
    "host": "facts about the host: the image's path and size, the clock, signing with the host's key "
            "(message/sign)",
    "net": "other worlds over the network: peer/send, debug/open (the hot-fix channel)",
    "simulate": "simulate: running a frame procedure over a state in a narrowed child sandbox",
    "cartridge": "cartridge/save: writing the running evaluation to a .lispy.json file",
    "companion": "the AI companion: explain, document!, suggest (model calls, which cost money)",
    "internal": "never granted: what generated code calls (record constructors, system macros)",
}
"""Every capability group, with what it holds. Nothing is granted by default."""

OWNER: tuple[str, ...] = ("core", "output", "reflect", "image", "audit", "evaluator", "eval", "host",
                          "net", "simulate", "cartridge", "companion")
"""What the owner's own sessions (REPL, `world eval`/`run`) are granted: everything but `internal`."""

LINEAGE: tuple[str, ...] = ("core", "output", "reflect", "evaluator")
"""What evolution lineage cells and model replies are granted: no image (history writes, snapshots,
the evaluation mode), host, audit, or ground evaluation (eval, sandbox): their evaluator is my-eval."""

RULES: tuple[str, ...] = ("core",)
"""What audit rules are granted (and only the primitives of `core` not marked unsafe)."""
UNSAFE: set[str] = set()
PYNAMES: dict[str, str] = {}      # Python function name -> Lisp name, for error messages


def primitive(name: str, group: str = "core", unsafe: bool = False,
              doc: str | None = None, inline: str | None = None) -> Callable[[Callable], Callable]:
    """Register the decorated function as the primitive `name`.

    `inline` is an optional Python expression over the arguments `{0}`, `{1}`...
    (and the runtime's helpers) that compiled code uses instead of a call; it
    must mean exactly what the function does for every argument.
    """
    def register(fn: Callable) -> Callable:
        prim = Primitive(name, fn, doc or (fn.__doc__ or "").strip())
        prim.inline = inline
        Primitive.registry[name] = prim
        GROUPS.setdefault(group, set()).add(name)
        PYNAMES[fn.__name__] = name
        if unsafe:
            UNSAFE.add(name)
        return fn
    return register


def load() -> dict[str, Primitive]:
    """Import every primitive module and return the registry."""
    from . import core, numbers, powers, numtext, lists, strings, data, io, sandbox  # noqa: F401
    from . import immutable, vectors, chars, division, bytevectors, ports  # noqa: F401
    from . import control  # noqa: F401
    from . import simulate  # noqa: F401
    from .. import r7rs_compat  # noqa: F401  (environment specifiers)
    from ...peer import msgprims  # noqa: F401  (message/sign, message/verify)
    from ...peer import net  # noqa: F401  (peer/send)
    from ...peer import cartprims  # noqa: F401  (cartridge/save)
    return Primitive.registry


def names_of(caps: Iterable[str]) -> frozenset[str]:
    """The primitive names that capability groups (or single primitive names) `caps` grant.

    An unknown name is refused rather than ignored, so a typo never silently
    grants less (or, in a later release, more) than was meant; `internal` is never granted.
    """
    from ..errors import SandboxError
    prims = load()
    out: set[str] = set()
    for c in caps:
        if c == "internal":
            raise SandboxError("the internal capability group cannot be granted")
        if c in CAPABILITIES:
            out |= GROUPS.get(c, set())
        elif c in prims and c not in GROUPS.get("internal", ()):
            out.add(c)
        else:
            raise SandboxError(f"unknown capability {c}; the groups are {', '.join(CAPABILITIES)}")
    return frozenset(out)
