"""What a handler for `extend-eval!` can use, read off the real evaluator.

The prompt documents three things a handler `(lambda (expr env) ...)` needs,
each computed here from the code that defines it, so the text cannot drift:

- the environment primitives of world/evolve/ground.py (`ENV_API`), each
  shown as its name and real parameters with the first line of its docstring;
- the seed's own helpers (seed-eval.lisp: `my-eval/body`, `my-apply`, ...),
  each with its parameters and docstring;
- the special forms of the ground language that the seed my-eval lacks:
  every ground special form is run, in the probe shapes of
  world/evolve/probes.py, through the seed in a scratch environment, and a
  form none of whose probes gives a value is one the seed treats as a call.

Everything is computed once per process: the seed is a file of this release.
"""
from __future__ import annotations

import inspect
from dataclasses import replace
from functools import lru_cache
from typing import Any

from ..lisp.analyze import SPECIAL
from ..lisp.errors import LispError
from ..lisp.printer import write
from ..lisp.reader import read
from ..lisp.types import Pair, Primitive, Symbol
from . import ground  # noqa: F401  (registers the environment primitives)
from . import probes
from .evaluator import defined_name, handled_forms, seed_forms

# The ground's environment operations a handler calls, in the order the prompt shows them.
ENV_API = ("env-lookup", "env-extend", "env-bind", "env-define!", "env-define-form!", "env-set!",
           "form?", "my-eval/eval")
# Forms that mean something only inside a quasiquote: not forms of their own.
INSIDE_QUASIQUOTE = ("unquote", "unquote-splicing")
NAME_WIDTH = 34             # the column where a documented entry's description starts
# Shown under another name: a lineage binds my-eval/eval as its `eval`.
SHOWN_AS = {"my-eval/eval": "eval"}
# Said for a handler's writer rather than the docstring's reader of ground.py.
SAID = {"my-eval/eval": "form evaluated by my-eval, at my-eval's price (env: () by default).",
        "env-define-form!": "like env-define!, recording form as a global's source (define uses it)."}


def primitive_params(name: str) -> list[str]:
    """The parameters of the ground primitive `name`, optional ones in brackets."""
    sig = inspect.signature(Primitive.registry[name].fn)
    out = []
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            out.append(f"{p.name}...")
        elif p.default is p.empty:
            out.append(p.name)
        else:
            out.append(f"[{p.name}]")
    return out


def _first_sentence(doc: str) -> str:
    """A docstring's description: after its `(name args) ->` head, up to the first period."""
    text = " ".join(doc.split())
    if text.startswith("(") and ") " in text:
        text = text.split(") ", 1)[1]
    text = text.removeprefix("-> ").strip()
    end = text.find(". ")
    return text if end < 0 else text[:end + 1]


def _entry(call: str, doc: str) -> str:
    return f"  {call:<{NAME_WIDTH}}{doc}" if len(call) < NAME_WIDTH else f"  {call}  {doc}"


@lru_cache(maxsize=1)
def env_api() -> tuple[tuple[str, list[str], str], ...]:
    """(name, parameters, description) of each environment primitive in ENV_API."""
    return tuple((n, primitive_params(n), SAID.get(n) or _first_sentence(Primitive.registry[n].doc))
                 for n in ENV_API)


@lru_cache(maxsize=1)
def seed_helpers() -> tuple[tuple[str, list[str], str], ...]:
    """(name, parameters, docstring) of each procedure seed-eval.lisp defines, my-eval first."""
    out = []
    for form in seed_forms():
        name = defined_name(form)
        target = form.cdr.car
        if name is None or type(target) is not Pair:
            continue
        params, p = [], target.cdr
        while type(p) is Pair:
            params.append(p.car.name)
            p = p.cdr
        if type(p) is Symbol:
            params.append(f"{p.name}...")
        body = form.cdr.cdr
        doc = body.car if type(body) is Pair and type(body.car) is str and body.cdr else ""
        out.append((name.name, params, doc))
    return tuple(out)


@lru_cache(maxsize=1)
def seed_lacks() -> tuple[str, ...]:
    """The ground's special forms that the seed my-eval does not handle, by probing it."""
    from ..lisp.env import Environment
    from ..lisp.primitives import LINEAGE
    from ..lisp.runtime import run
    env = Environment(LINEAGE)
    for form in seed_forms():
        run(env, form)
    names = sorted(s.name for s in SPECIAL if s.name not in INSIDE_QUASIQUOTE)

    def evaluate(form: Any, steps: int) -> Any:
        return run(env, form, replace(env.limits, steps=steps)).value
    table = probes.table(evaluate, names)
    handled = {text[1:].split(" ", 1)[0].rstrip(")") for text, out in table.items()
               if not out.startswith(probes.ERROR)}
    return tuple(n for n in names if n not in handled)


@lru_cache(maxsize=64)
def added_forms(source: str) -> tuple[str, ...]:
    """Which of the forms the seed lacks the evaluator `source` now dispatches on."""
    try:
        form = read(source)
    except LispError:               # a damaged record: nothing is claimed for it
        return ()
    handled = set(handled_forms(form))
    return tuple(n for n in seed_lacks() if n in handled)


def _call(name: str, params: list[str]) -> str:
    return f"({' '.join([name] + params)})"


@lru_cache(maxsize=1)
def text() -> str:
    """The handler API as the system prompt shows it."""
    lines = ["Writing a handler for extend-eval!: (lambda (expr env) ...) receives the whole form",
             "(head included) and the environment it is evaluated in. An environment is () for your",
             "globals or a list of frames, innermost first; use these ground primitives on it:"]
    lines += [_entry(_call(SHOWN_AS.get(n, n), ps), d) for n, ps, d in env_api()]
    lines.append("The seed evaluator's own procedures, callable from a handler:")
    lines += [_entry(_call(n, ps), d) for n, ps, d in seed_helpers()]
    lines.append("Example: " + write(read("(extend-eval! 'twice '(lambda (expr env) "
                                          "(* 2 (my-eval (cadr expr) env))))")))
    lines.append("Special forms of the ground language that the seed my-eval lacks (it treats them "
                 "as calls):")
    lines.append("  " + " ".join(seed_lacks()))
    return "\n".join(lines)
