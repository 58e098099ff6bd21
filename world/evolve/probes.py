"""What an evaluator does, observed: probe forms run through a candidate my-eval.

A change to my-eval earns steps only when it makes my-eval do something it
never did before, so "did it change?" is answered by behaviour, not by
source text: every special-form name the old or new evaluator may dispatch
on (the names its source quotes, the seed's table, the construct being
added) is tried in a dozen shapes, `(N)`, `(N 1 2)`, `(N ((x 1)) x)`...,
each in a fresh local environment (so a probe's `define` or `set!` stays in
its frame) under a small step budget. The outcome of each probe, a printed
value or an error's kind, is the evaluator's behaviour table, kept with
the version. A new version is *new behaviour* when, against every earlier
version, some probe gives a value (not an error) that the earlier one did
not give: repeats, re-adds, renamings, ping-pong between two handlers and
removals earn nothing.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from ..lisp.errors import Interrupted, LispError
from ..lisp.printer import write
from ..lisp.reader import read
from ..lisp.types import Box, Pair, Procedure, Symbol, make_list

PROBE_STEPS = 2_000         # per probe: a looping handler stops here
MAX_NAMES = 40              # names probed per change (the construct's own first)
VALUE_CHARS = 200
CORE = ("quote", "if", "lambda", "let", "cond", "begin", "define")     # the seed's table
SHAPES = ("(N)", "(N 1)", "(N 1 2)", "(N #f 1 2)", "(N x y)", "(N 'a 2 3)", "(N (+ x 1) (* y 2))",
          "(N ((x 1) (y 2)) (+ x y))", "(N (a) (+ a x))", "((N (a) (+ a x)) 2)",
          "(N (#f 1) ((> x 1) 2) (else 3))", "(N x (3 1) (4 2))", "(N (i 0 (+ i 1)) ((= i 3) i))",
          "(N x 5)", "(N (x) (+ x 1))")
ERROR = "!"                 # an outcome that is an error starts with this
S_QUOTE = Symbol("quote")
PROBE_VARS = (Symbol("x"), Symbol("y"))


def names(*sources: Any, first: Iterable[str] = ()) -> list[str]:
    """Names worth probing: `first`, the seed's table, then every symbol quoted in `sources`."""
    out: list[str] = []
    for n in list(first) + list(CORE):
        if n not in out:
            out.append(n)
    for src in sources:
        for n in _quoted_symbols(src):
            if n not in out:
                out.append(n)
    return out[:MAX_NAMES]


def _quoted_symbols(form: Any) -> list[str]:
    """Every symbol inside a `(quote ...)` of `form`, in order of appearance."""
    found: list[str] = []
    stack: list[tuple[Any, bool]] = [(form, False)]
    while stack:
        x, quoted = stack.pop()
        if type(x) is Symbol:
            if quoted and x.name not in found:
                found.append(x.name)
            continue
        if type(x) is not Pair:
            continue
        inner = quoted or (x.car is S_QUOTE and type(x.cdr) is Pair)
        items = []
        while type(x) is Pair:
            items.append(x.car)
            x = x.cdr
        stack.extend((i, inner) for i in reversed(items))
    return found


def _env() -> Pair:
    """A fresh local environment binding x to 3 and y to 4 (see world/evolve/ground.py)."""
    alist = make_list([Pair(PROBE_VARS[0], 3), Pair(PROBE_VARS[1], 4)])
    return Pair(Box(alist), None)


def _outcome(value: Any) -> str:
    if isinstance(value, Procedure):
        return "#<procedure>"       # identity is not behaviour
    text = write(value)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS]


def table(evaluate: Callable[[Any, int], Any], probe_names: Iterable[str]) -> dict[str, str]:
    """Probe text -> outcome, for `evaluate(form, steps)` running a form through my-eval."""
    out: dict[str, str] = {}
    for name in probe_names:
        for shape in SHAPES:
            text = shape.replace("N", name)
            try:
                form = read(text)
            except LispError:           # a name that does not read back as itself
                continue
            my_eval = make_list([Symbol("my-eval"), make_list([S_QUOTE, form]),
                                 make_list([S_QUOTE, _env()])])
            try:
                out[text] = _outcome(evaluate(my_eval, PROBE_STEPS))
            except Interrupted:
                raise
            except LispError as e:
                out[text] = ERROR + e.kind
    return out


def new_behaviour(new: Mapping[str, str], earlier: Iterable[Mapping[str, str] | None]) -> bool:
    """Does `new` give, against every earlier table, a value some earlier one did not?

    An earlier version without a table (made before tables were kept) counts as
    different; the caller compares those by source."""
    for old in earlier:
        if old is None:
            continue
        if not any(not out.startswith(ERROR) and old.get(probe) != out for probe, out in new.items()):
            return False
    return True


def handles(evaluate: Callable[[Any, int], Any], name: str) -> bool:
    """Does some probe shape of the form `name` give a value (not an error) through my-eval?"""
    for shape in SHAPES:
        try:
            form = read(shape.replace("N", name))
        except LispError:
            return False            # a name that does not read back as itself
        call = make_list([Symbol("my-eval"), make_list([S_QUOTE, form]),
                          make_list([S_QUOTE, _env()])])
        try:
            evaluate(call, PROBE_STEPS)
            return True
        except Interrupted:
            raise
        except LispError:
            continue
    return False
