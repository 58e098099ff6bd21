"""Judging a proposed problem (world/evolve/adversary.py asks for them).

A proposal is a `(problem ...)` form in the pool's format without `:id`. It
is accepted only when it reads as a problem (`pool.parse_problem`), is no
duplicate (its name, its call, or its solution up to renaming, `normalized`,
is a pool problem's or an accepted proposal's: `Known`), is not trivial
(`trivial`: an identity, a constant, one builtin renamed), and its reference
solution, run cell by cell through the SEED my-eval in a fresh world granted
only what lineage cells get, makes the call return the expected value and
passes every hidden case within the step budget (`run_reference`). Every
verdict is a plain record with its reason, stored with the run.
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Any, Iterable, Sequence

from ..lisp.errors import Interrupted, LispError
from ..lisp.printer import write
from ..lisp.types import Keyword, Pair, Symbol, equal, make_list, to_pylist
from .agent_errors import cell_error
from .extract import extract
from .pool import CATEGORIES, HIDDEN_STEPS, PoolError, Problem, load_pool, parse_problem
from .rounds import budget

MAX_REPLY = 30_000          # characters of a reply that are read
MAX_SOURCE = 6_000          # characters of one proposal
MAX_DEFINES = 15            # reference solution forms (each is one validation cell)
MAX_HIDDEN = 20             # hidden cases
MAX_NAME = 60               # characters of a name
QUOTE, DEFINE, LAMBDA = Symbol("quote"), Symbol("define"), Symbol("lambda")
ID = Keyword("id")
BINDERS = {"lambda", "let", "let*", "letrec", "letrec*"}
OPEN, CLOSE, DOT = object(), object(), object()         # markers of `normalized`'s text
MARKS = {id(OPEN): "(", id(CLOSE): ")", id(DOT): "."}


class Rejected(Exception):
    """Why a proposal may not enter."""


def validation_budget(s: dict[str, Any]) -> int:
    """The steps a proposal's reference solution may use: the least of rounds 2 and later."""
    return min(budget(s, r) for r in range(2, max(2, s["rounds"]) + 1))


class Known:
    """What a proposal must differ from: names, calls and normalized solutions."""

    def __init__(self, pool: Iterable[Problem], accepted: Iterable[Problem] = ()) -> None:
        shipped = _shipped_known()
        self.names, self.calls, self.solutions = (dict(d) for d in shipped)
        ours = load_pool()
        for p in [*pool, *accepted]:
            if p.id not in ours or ours[p.id].name != p.name:      # not a shipped one again
                self.add(p)

    def add(self, p: Problem) -> None:
        """Remember problem `p`."""
        who = f"problem {p.id} ({p.name})"
        self.names.setdefault(p.name.lower(), who)
        self.calls.setdefault(p.call_text, who)
        self.solutions.setdefault(normalized(p.solution), who)

    def duplicate(self, p: Problem) -> str:
        """Why `p` duplicates a known problem, or ''."""
        if p.name.lower() in self.names:
            return f"duplicate: the name {p.name!r} is taken by {self.names[p.name.lower()]}"
        if p.call_text in self.calls:
            return f"duplicate: the call {p.call_text} is {self.calls[p.call_text]}'s"
        norm = normalized(p.solution)
        if norm in self.solutions:
            return f"duplicate: the solution is {self.solutions[norm]}'s, renamed"
        return ""


@lru_cache(maxsize=1)
def _shipped_known() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The shipped pool's names, calls and normalized solutions (computed once)."""
    known = Known.__new__(Known)
    known.names, known.calls, known.solutions = {}, {}, {}
    for p in load_pool():
        known.add(p)
    return known.names, known.calls, known.solutions


def judge(text: str, s: dict[str, Any], known: Known, generation: int, next_id: int,
          limit: int = 3) -> list[dict[str, Any]]:
    """The verdict on every (problem ...) form of a reply (at most `limit` judged), in order."""
    ex = extract(text[:MAX_REPLY], limit=10_000)
    forms = [(f, t) for f, t in ex.forms if type(f) is Pair and f.car is Symbol("problem")]
    if not forms:
        broken = [n for n in ex.notes if "could not be read" in n or "unbalanced" in n]
        why = "no (problem ...) form could be read" + (f" ({'; '.join(broken)})" if broken else "")
        return [_record(generation, 0, "rejected", f"unreadable reply: {why}", None)]
    out = []
    for n, (form, _) in enumerate(forms):
        if n >= limit:          # one record for the surplus, however many there are
            out.append(_record(generation, n, "rejected", f"{len(forms) - limit} proposal(s) "
                               f"over the limit of {limit} a generation, not judged", form))
            break
        try:
            problem, steps = validate(form, s, known, next_id)
        except Rejected as e:
            out.append(_record(generation, n, "rejected", str(e), form))
            continue
        known.add(problem)
        out.append(_record(generation, n, "accepted", "valid", form, problem, steps))
        next_id += 1
    return out


def _record(generation: int, n: int, status: str, why: str, form: Any,
            problem: Problem | None = None, steps: int = 0) -> dict[str, Any]:
    """One verdict as plain data (an accepted one keeps its whole source, for rebuilding)."""
    name = category = ""
    if type(form) is Pair:
        fields = _fields(form)
        name = fields.get("name") if type(fields.get("name")) is str else ""
        cat = fields.get("category")
        category = cat.name if type(cat) in (Symbol, Keyword) else ""
    source = write(_without_id(form)) if form is not None else ""
    return {"generation": generation, "index": n, "status": status, "why": why,
            "id": problem.id if problem else 0, "name": name[:80], "category": category[:40],
            "steps": steps,
            "source": source if problem else source[:MAX_SOURCE]}


def _fields(form: Any) -> dict[str, Any]:
    """A (problem :key value ...) form's fields by name (best effort, for records)."""
    try:
        items = to_pylist(form.cdr)
    except LispError:
        return {}
    return {k.name: v for k, v in zip(items[::2], items[1::2]) if type(k) is Keyword}


def _without_id(form: Any) -> Any:
    """The form without any :id field."""
    try:
        items = to_pylist(form.cdr)
    except LispError:
        return form
    kept: list[Any] = []
    for i in range(0, len(items) - 1, 2):
        if items[i] is not ID:
            kept += items[i:i + 2]
    if len(items) % 2:
        kept.append(items[-1])
    return Pair(form.car, make_list(kept))


def parse_proposal(form: Any, pid: int, source: str = "<adversary>") -> Problem:
    """The Problem a proposal form describes, with id `pid` (any :id it gives is ignored)."""
    form = _without_id(form)
    cat = _fields(form).get("category")
    placeholder = CATEGORIES[cat.name].start if type(cat) in (Symbol, Keyword) \
        and cat.name in CATEGORIES else 0
    with_id = Pair(form.car, Pair(ID, Pair(placeholder, form.cdr)))
    return replace(parse_problem(with_id, source), id=pid)


def validate(form: Any, s: dict[str, Any], known: Known, pid: int) -> tuple[Problem, int]:
    """The proposal as a Problem with id `pid`, and its solution's steps; Rejected if not fit."""
    if len(write(form)) > MAX_SOURCE:
        raise Rejected(f"too large: at most {MAX_SOURCE} characters a problem")
    try:
        problem = parse_proposal(form, pid)
    except PoolError as e:
        why = re.sub(r"^problem -?\d+: ", "", e.message)      # the placeholder id means nothing
        raise Rejected(f"not a valid problem: {why}") from None
    if len(problem.solution) > MAX_DEFINES:
        raise Rejected(f"not a valid problem: at most {MAX_DEFINES} solution forms")
    if len(problem.hidden) > MAX_HIDDEN:
        raise Rejected(f"not a valid problem: at most {MAX_HIDDEN} hidden cases")
    if len(problem.name) > MAX_NAME or not problem.name.isprintable():
        raise Rejected(f"not a valid problem: :name must be at most {MAX_NAME} printable "
                       f"characters on one line")
    why = known.duplicate(problem) or trivial(problem)
    if why:
        raise Rejected(why)
    steps = validation_budget(s)
    return problem, run_reference(problem, steps)


# ---------------------------------------------------------------- triviality

def _literal(x: Any) -> tuple[bool, Any]:
    """Whether `x` is a literal (self-evaluating or quoted) and the value it stands for."""
    if type(x) is Pair:
        if x.car is QUOTE and type(x.cdr) is Pair:
            return True, x.cdr.car
        return False, None
    return (type(x) is not Symbol), x


def args_of(expr: Any) -> list[Any]:
    try:
        return to_pylist(expr.cdr) if type(expr) is Pair else []
    except LispError:
        return []


def trivial(p: Problem) -> str:
    """Why problem `p` is trivial, or ''."""
    cases = [(p.call, p.expect)] + [(c.expr, c.expect) for c in p.hidden]
    if all(_echoes(expr, want) for expr, want in cases):
        return ("trivial: every case expects its own literal arguments back (one of them, "
                "or all of them as a list)")
    bodies = [_body(f) for f in p.solution]
    if all(b and _literal(b[-1])[0] for b in bodies):
        return "trivial: the reference solution is a constant"
    if len(p.solution) == 1 and len(bodies[0]) == 1:
        params = set(_params(p.solution[0]))
        call = bodies[0][0]
        if (type(call) is Pair and type(call.car) is Symbol and call.car not in params
                and call.car not in set(p.defines())
                and all(a in params or _literal(a)[0] for a in args_of(call))):
            return f"trivial: the solution only calls the builtin {call.car.name} under a new name"
    return ""


def _echoes(expr: Any, want: Any) -> bool:
    """Whether `want` is one of the call `expr`'s literal arguments, or the list of them all."""
    found = [_literal(a) for a in args_of(expr)]
    if any(ok and equal(v, want) for ok, v in found):
        return True
    return bool(found) and all(ok for ok, _ in found) and equal(make_list([v for _, v in found]),
                                                                want)


def _body(define: Any) -> list[Any]:
    """The body forms of a (define (f ...) body...) or (define f (lambda (...) body...))."""
    try:
        parts = to_pylist(define)
    except LispError:
        return []
    if type(parts[1]) is Pair:
        return parts[2:]
    value = parts[2] if len(parts) > 2 else None
    if type(value) is Pair and value.car is LAMBDA:
        return args_of(value)[1:]
    return [value]


def _params(define: Any) -> list[Symbol]:
    target = define.cdr.car
    out, x = [], target.cdr if type(target) is Pair else None
    while type(x) is Pair:
        out.append(x.car)
        x = x.cdr
    if type(x) is Symbol:
        out.append(x)
    return [s for s in out if type(s) is Symbol]


def normalized(solution: Sequence[Any]) -> str:
    """A solution's canonical text with every name it binds renamed in order of binding, so
    a copy with other names or spacing gives the same text."""
    names: dict[Symbol, str] = {}

    def bind(x: Any) -> None:
        while True:
            if type(x) is Symbol:
                names.setdefault(x, f"%{len(names)}")
                return
            if type(x) is not Pair:
                return
            bind_one(x.car)
            x = x.cdr

    def bind_one(x: Any) -> None:
        if type(x) is Symbol:
            names.setdefault(x, f"%{len(names)}")
        elif type(x) is Pair and type(x.car) is Symbol:     # a let binding (name value)
            names.setdefault(x.car, f"%{len(names)}")

    stack = list(reversed(solution))
    while stack:                                            # pre-order: binders, in order
        x = stack.pop()
        if type(x) is not Pair:
            continue
        head, rest = x.car, x.cdr
        if type(rest) is Pair and type(head) is Symbol:
            if head is DEFINE:
                bind(rest.car)
            elif head.name in BINDERS:
                if type(rest.car) is Symbol and type(rest.cdr) is Pair:   # a named let
                    bind_one(rest.car)
                    bind(rest.cdr.car)
                else:
                    bind(rest.car)
        kids = []
        while type(x) is Pair:
            kids.append(x.car)
            x = x.cdr
        stack.extend(reversed(kids))
    out: list[str] = []
    stack = list(reversed(solution))
    while stack:                                            # the text, names replaced
        x = stack.pop()
        if x is OPEN or x is CLOSE or x is DOT:
            out.append(MARKS[id(x)])
        elif type(x) is Pair:
            items: list[Any] = [OPEN]
            while type(x) is Pair:
                items.append(x.car)
                x = x.cdr
            if x is not None:
                items += [DOT, x]
            items.append(CLOSE)
            stack.extend(reversed(items))
        elif type(x) is Symbol and x in names:
            out.append(names[x])
        else:
            out.append(write(x))
    return " ".join(out)


# ---------------------------------------------------------------- the seed's verdict

def validation_world() -> Any:
    """A fresh in-memory world with the seed my-eval, granted only what lineage cells get."""
    from ..lisp.primitives import LINEAGE
    from ..lisp.types import Primitive
    from ..session import open as open_world
    from .seeding import install
    w = open_world(caps=LINEAGE)
    install(w, "")
    w.env.ensure_all()
    if not w.env.is_bound(Symbol("eval")):
        w.env.define(Symbol("eval"), Primitive.registry["my-eval/eval"])
    return w


def run_reference(p: Problem, steps: int) -> int:
    """Evaluate `p`'s solution and call as cells through the seed my-eval within `steps`, then
    its hidden cases; the steps used, or Rejected saying what failed."""
    from .meta import Meta
    from .scratchpad import Scratchpad
    from .workspace import Workspace
    w = validation_world()
    pad = Scratchpad(f"proposal {p.name}")
    ws = Workspace(w, pad)
    try:
        taken = [n.name for n in p.defines() if w.env.is_bound(n)]
        if taken:           # a lineage could not define it: the problem would be unsolvable
            raise Rejected(f"not a valid problem: the solution redefines {', '.join(taken)}, "
                           f"which every lineage's world already has")
        for form in p.solution:
            out = ws.run_cell(form, write(form), steps)
            if out.kind == "ERROR":
                raise Rejected(f"wrong reference solution: {_clip(out.text)} failed through the "
                               f"seed my-eval: {out.result}")
        meta = Meta(w.env, pad, steps)
        value = w._change(lambda: meta.cell(p.call, p.call_text), "adversary: the call")
        last = pad.all()[-1]
        if last.kind == "ERROR":
            raise Rejected(f"wrong reference solution: {p.call_text} failed through the seed "
                           f"my-eval within {steps} steps: {last.result}")
        result = p.check(meta.evaluate, value, HIDDEN_STEPS)
        if not result.solved:
            raise Rejected(f"wrong reference solution through the seed my-eval: "
                           f"{result.message(reveal=True)}")
        return pad.steps()
    except (Rejected, Interrupted):
        raise
    except Exception as e:      # whatever a hostile solution provokes is its verdict, not a crash
        err = cell_error(e)
        raise Rejected(f"wrong reference solution: {err.kind}: {err.message}") from None
    finally:
        w.close()


def _clip(text: str, n: int = 60) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[:n - 3] + "..."
