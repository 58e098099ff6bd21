"""Adversarial problems: the run's player proposes new problems for later rounds.

With the `adversary` setting, once per generation, before its rounds are
drawn, the player is asked for up to `PROPOSALS` problems in the pool's own
format, `(problem :name ... :category ... :difficulty ... :description ...
:call ... :expect ... :hidden ... :solution ...)` (no `:id`). Each proposal
is judged before it may enter, and the verdict is kept with its reason:

- it reads as a problem (`pool.parse_problem`: every field, literal
  expectations, at least two hidden cases, a solution of `define` forms);
- it is new: its name, its call, and its solution up to renaming differ from
  every pool problem and every proposal accepted before it;
- it is not trivial: not an identity (every case expects one of its own
  arguments back), not a constant, not a single builtin call renamed;
- its reference solution, evaluated cell by cell through the SEED my-eval in
  a fresh world granted only what lineage cells get, makes the call return
  the expected value and passes every hidden case, within the smallest step
  budget of the rounds it may enter (round 2 and later).

An accepted problem gets a fresh id above the pool's (1001, 1002, ...). The
verdicts are stored with the run (`run.proposals`, one plain record per
generation, committed before the generation is drawn), so a resumed or
replayed run draws exactly the same problems. Rounds from 2 on mix accepted
problems in (`mix`: at most a third of a round); round 1 stays standard.
The ask goes through the player like every prompt (key `adversary/gN/t0`,
recorded in replay files) and its usage is counted in the run's. The
reference player's stand-in (`reference_reply`) proposes problems derived
from pool problems: apply a one-argument pool procedure to every element of
a list, with new cases.
"""
from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import replace
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

from BTrees.OOBTree import OOBTree

from ..lisp.errors import Interrupted, LispError
from ..lisp.printer import write
from ..lisp.reader import read
from ..lisp.types import Keyword, Pair, Symbol, equal, make_list, to_pylist
from .agent_errors import ModelError, cell_error
from .extract import extract
from .pool import CATEGORIES, HIDDEN_STEPS, PoolError, Problem, load_pool, parse_problem
from .rounds import budget
from .spend import check as check_cost

PROPOSALS = 3               # problems asked for per generation
SHARE = 3                   # at most 1/SHARE of a round's problems are adversarial
FIRST_ID = 1000             # accepted ids start above this (the pool's highest is below)
MAX_REPLY = 30_000          # characters of a reply that are read
MAX_SOURCE = 6_000          # characters of one proposal
MAX_DEFINES = 15            # reference solution forms (each is one validation cell)
MAX_HIDDEN = 20             # hidden cases
QUOTE, DEFINE, LAMBDA = Symbol("quote"), Symbol("define"), Symbol("lambda")
ID = Keyword("id")
BINDERS = {"lambda", "let", "let*", "letrec", "letrec*"}

SYSTEM = """\
You design Lisp problems for a tournament in World, a persistent Lisp (a Scheme with keywords,
maps and vectors). Agents solve problems in a scratchpad under a step budget, through a
metacircular evaluator, my-eval, that they evolve. Accepted problems enter later rounds.
Reply with (problem ...) forms in a ```lisp code block; prose outside it is ignored.
"""

PROMPT = """\
Propose up to {count} new problems for generation {generation}. Write each as one form:

(problem
  :name "sum-of-squares" :category number-theory :difficulty 2
  :description "Define (sum-squares n), the sum of k*k for k from 1 to n. Make (sum-squares 3) work."
  :call (sum-squares 3)
  :expect 14
  :hidden (((sum-squares 0) 0) ((sum-squares 1) 1) ((sum-squares 5) 55))
  :solution ((define (sum-squares n) (if (= n 0) 0 (+ (* n n) (sum-squares (- n 1)))))))

A problem is accepted only when all of these hold:
- It reads as one (problem ...) form with exactly the fields above (no :id: accepted problems
  get fresh ids). :category is one of {categories}; :difficulty 1 to 5; :description names the
  call exactly as written in :call. :expect and the hidden expectations are literal data (not
  evaluated).
- :hidden has 2 to {max_hidden} (expression expected) pairs, some expecting a value other than
  :expect; every expression, and the call, uses a name the solution defines.
- :solution is a list of at most {max_defines} (define ...) forms. Evaluated through the SEED
  my-eval, one form at a time, the definitions and the call together use at most {budget} steps
  and return :expect, and each hidden case returns its value within {hidden_steps} steps. The
  seed my-eval handles these special forms: {forms}; everything else is a procedure call.
- It is new: its name, its call and its solution (up to renaming) differ from every pool
  problem and every problem accepted earlier.
- It is not trivial: not an identity (every case expecting one of its own arguments back),
  not a constant answer, not one builtin called under a new name such as
  (define (my-length l) (length l)).

## Pool problems (name: call)
{pool}

## Your earlier proposals
{earlier}
"""


class Rejected(Exception):
    """Why a proposal may not enter."""


# ---------------------------------------------------------------- the record

def enabled(s: dict[str, Any]) -> bool:
    """Whether a run with settings `s` asks for problems (it needs a round 2 to put them in)."""
    return bool(s.get("adversary")) and s["rounds"] >= 2


def book(run: Any) -> Any:
    """The run's proposal records by generation (created, uncommitted, on first use)."""
    found = getattr(run, "proposals", None)
    if found is None:
        found = run.proposals = OOBTree()
    return found


def proposals(run: Any) -> list[dict[str, Any]]:
    """Every proposal of the run, in order: generation, status, id, name, why (for reports)."""
    out = []
    for g, entry in (getattr(run, "proposals", None) or {}).items():
        if entry.get("error"):
            out.append({"generation": g, "status": "rejected", "id": 0, "name": "",
                        "category": "", "why": entry["error"]})
        for r in entry.get("proposals", ()):
            out.append({k: r.get(k) for k in ("generation", "status", "id", "name", "category",
                                                "why", "steps")})
    return out


def accepted(run: Any, upto: int | None = None) -> list[Problem]:
    """The problems accepted so far (in generations up to `upto`), rebuilt from their records."""
    out = []
    for g, entry in (getattr(run, "proposals", None) or {}).items():
        if upto is not None and g > upto:
            break
        for r in entry.get("proposals", ()):
            if r["status"] == "accepted":
                out.append(parse_proposal(read(r["source"]), r["id"], f"<adversary g{g}>"))
    return out


def with_accepted(run: Any, tasks: dict[int, Any]) -> dict[int, Any]:
    """`tasks` (problems by id) with the run's accepted problems added."""
    extra = accepted(run)
    return {**tasks, **{p.id: p for p in extra}} if extra else tasks


# ---------------------------------------------------------------- asking

def ask(image: Any, run: Any, generation: int, player: Any, pool: Any,
        progress: Callable[[dict[str, Any]], Any] = lambda e: None) -> None:
    """Ask the player for problems for `generation` (once: a resumed run asks no more),
    judge each, and commit the verdicts with the run."""
    s = run.settings
    records = book(run)
    if not enabled(s) or generation in records:
        return
    steps = validation_budget(s)
    earlier = proposals(run)
    prompt = proposal_prompt(s, generation, earlier, steps)
    key = f"adversary/g{generation}/t0"
    context = {"task": None, "turn": 0, "adversary": True, "generation": generation,
               "pool": pool, "settings": s, "known": Known(pool, accepted(run)),
               "count": PROPOSALS}
    entry: dict[str, Any] = {"key": key, "prompt": prompt, "reply": "", "model": "", "error": ""}
    check_cost(run)             # --max-cost: stop before the call; a resume asks again
    try:
        reply = player.reply(key, SYSTEM, prompt, context)
    except ModelError as e:
        if e.reply is not None:
            _count(run, e.reply)
        entry.update(error=f"model error: {e.message}", proposals=())
    else:
        _count(run, reply)
        next_id = max([FIRST_ID] + [p.id for p in accepted(run)]) + 1
        entry.update(reply=reply.text, model=reply.model,
                     proposals=tuple(judge(reply.text, s, Known(pool, accepted(run)),
                                           generation, next_id)))
    records[generation] = entry
    good = sum(r["status"] == "accepted" for r in entry["proposals"])
    image.tm.get().note(f"evolve: run {run.id} generation {generation}: the adversary's "
                        f"{good} of {len(entry['proposals'])} proposals accepted")
    image.tm.commit()
    progress({"phase": "adversary", "generation": generation, "accepted": good,
              "rejected": len(entry["proposals"]) - good})


def _count(run: Any, reply: Any) -> None:
    run.usage.add(len(reply.attempts), reply.tokens_in, reply.tokens_out, reply.cost,
                  reply.cache_write, reply.cache_read)


def validation_budget(s: dict[str, Any]) -> int:
    """The steps a proposal's reference solution may use: the least of rounds 2 and later."""
    return min(budget(s, r) for r in range(2, max(2, s["rounds"]) + 1))


def proposal_prompt(s: dict[str, Any], generation: int, earlier: list[dict[str, Any]],
                    steps: int) -> str:
    """What the adversary is asked: the format, what is accepted, the pool, its record."""
    from .evaluator import handled_forms
    from .seeding import seed_source
    shipped = load_pool()
    lines = [f"- {r['name'] or '(unreadable)'}: {r['status']}"
             + (f" as problem {r['id']}" if r["status"] == "accepted" else f": {r['why']}")
             for r in earlier]
    return PROMPT.format(count=PROPOSALS, generation=generation, categories=", ".join(CATEGORIES),
                         max_hidden=MAX_HIDDEN, max_defines=MAX_DEFINES, budget=steps,
                         hidden_steps=HIDDEN_STEPS,
                         forms=", ".join(handled_forms(read(seed_source()))),
                         pool="\n".join(f"{p.name}: {p.call_text}" for p in shipped),
                         earlier="\n".join(lines) or "(none)")


# ---------------------------------------------------------------- judging

class Known:
    """What a proposal must differ from: names, calls and normalized solutions."""

    def __init__(self, pool: Iterable[Problem], accepted: Iterable[Problem] = ()) -> None:
        shipped = _shipped_known()
        self.names, self.calls, self.solutions = (dict(d) for d in shipped)
        shipped_pool = load_pool()
        for p in [*pool, *accepted]:
            if p.id not in shipped_pool or shipped_pool[p.id].name != p.name:     # not a shipped one again
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


def judge(text: str, s: dict[str, Any], known: Known, generation: int,
          next_id: int) -> list[dict[str, Any]]:
    """The verdict on every (problem ...) form of a reply (at most PROPOSALS), in order."""
    ex = extract(text[:MAX_REPLY], limit=10_000)
    forms = [(f, t) for f, t in ex.forms if type(f) is Pair and f.car is Symbol("problem")]
    if not forms:
        broken = [n for n in ex.notes if "could not be read" in n or "unbalanced" in n]
        why = "no (problem ...) form could be read" + (f" ({'; '.join(broken)})" if broken else "")
        return [_record(generation, 0, "rejected", f"unreadable reply: {why}", None)]
    out = []
    for n, (form, _) in enumerate(forms):
        if n >= PROPOSALS:
            out.append(_record(generation, n, "rejected",
                               f"over the limit of {PROPOSALS} proposals a generation", form))
            continue
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
        raise Rejected("not a valid problem: " + re.sub(r"^problem -?\d+: ", "", e.message)) from None
    if len(problem.solution) > MAX_DEFINES:
        raise Rejected(f"not a valid problem: at most {MAX_DEFINES} solution forms")
    if len(problem.hidden) > MAX_HIDDEN:
        raise Rejected(f"not a valid problem: at most {MAX_HIDDEN} hidden cases")
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


def _args(expr: Any) -> list[Any]:
    try:
        return to_pylist(expr.cdr) if type(expr) is Pair else []
    except LispError:
        return []


def trivial(p: Problem) -> str:
    """Why problem `p` is trivial, or ''."""
    cases = [(p.call, p.expect)] + [(c.expr, c.expect) for c in p.hidden]
    if all(any(ok and equal(v, want) for ok, v in map(_literal, _args(expr)))
           for expr, want in cases):
        return "trivial: every case expects one of its own arguments back (an identity)"
    bodies = [_body(f) for f in p.solution]
    if all(b and _literal(b[-1])[0] for b in bodies):
        return "trivial: the reference solution is a constant"
    if len(p.solution) == 1 and len(bodies[0]) == 1:
        params = set(_params(p.solution[0]))
        call = bodies[0][0]
        if (type(call) is Pair and type(call.car) is Symbol and call.car not in params
                and call.car not in set(p.defines())
                and all(a in params or _literal(a)[0] for a in _args(call))):
            return f"trivial: the solution only calls the builtin {call.car.name} under a new name"
    return ""


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
        return _args(value)[1:]
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
        if isinstance(x, str) and x in ("(", ")", " . "):
            out.append(x)
        elif type(x) is Pair:
            items: list[Any] = ["("]
            while type(x) is Pair:
                items.append(x.car)
                x = x.cdr
            if x is not None:
                items += [" . ", x]
            items.append(")")
            stack.extend(reversed(items))
        elif type(x) is Symbol and x in names:
            out.append(names[x])
        else:
            out.append(write(x) if not isinstance(x, str) else repr(x))
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


# ---------------------------------------------------------------- rounds

def mix(chosen: list[Any], extra: Sequence[Problem], count: int, seed: str,
        used: Iterable[int]) -> list[Any]:
    """A round's problems with accepted ones not yet drawn this generation mixed in: at most
    `count // SHARE` (at least one), replacing pool problems of the most drawn categories."""
    seen = set(used)
    fresh = sorted((p for p in extra if p.id not in seen), key=lambda p: p.id)
    if not fresh:
        return chosen
    random.Random(f"{seed}/adversary").shuffle(fresh)
    take = fresh[:min(len(fresh), max(1, count // SHARE))]
    keep = list(chosen)
    while keep and len(keep) + len(take) > count:
        counts = Counter(p.category for p in keep)
        keep.remove(max(reversed(keep), key=lambda p: counts[p.category]))
    return sorted(keep + take, key=lambda p: p.id)


# ---------------------------------------------------------------- the reference stand-in

def reference_reply(context: dict[str, Any]) -> str:
    """The reference player's proposals: deterministic problems derived from pool problems
    (a one-argument procedure applied to every element of a list, with new cases) that the
    judge accepts."""
    pool, s, known = context["pool"], context["settings"], context["known"]
    rng = random.Random(f"{s['seed']}/{context['generation']}/adversary")
    candidates = [p for p in pool if _each_ready(p)]
    rng.shuffle(candidates)
    forms, pid = [], FIRST_ID + 1
    for p in candidates[:12]:
        form = _each_problem(p)
        try:
            problem, _ = validate(form, s, known, pid)
        except Rejected:
            continue
        known.add(problem)
        forms.append(write(form))
        if len(forms) >= context.get("count", PROPOSALS):
            break
    if not forms:
        return '(note "the reference player has no problem to propose")'
    return "```lisp\n" + "\n".join(forms) + "\n```"


def _entry(p: Problem) -> Symbol | None:
    """The one-argument procedure `p`'s call and hidden cases call, if they all call one."""
    name = p.call.car
    if name not in set(p.defines()):
        return None
    cases = [p.call] + [c.expr for c in p.hidden]
    if all(type(c) is Pair and c.car is name and len(_args(c)) == 1 for c in cases):
        return name
    return None


def _each_ready(p: Problem) -> bool:
    return _entry(p) is not None and len(p.hidden) >= 3


def _each_problem(p: Problem) -> Any:
    """`p` lifted to lists: (NAME-each xs) maps NAME over xs."""
    f = _entry(p)
    each = Symbol(f"{f.name}-each")
    args = [_args(c)[0] for c in [p.call] + [c.expr for c in p.hidden]]
    wants = [p.expect] + [c.expect for c in p.hidden]
    lst = Symbol("list")

    def call(idx: list[int]) -> Any:
        return make_list([each, make_list([lst] + [args[i] for i in idx])])
    main = call([0, 1])
    hidden = [make_list([call([2, 3] if len(args) > 3 else [2]),
                         make_list([wants[i] for i in ([2, 3] if len(args) > 3 else [2])])]),
              make_list([call([1]), make_list([wants[1]])]),
              make_list([make_list([each, make_list([QUOTE, None])]), None])]
    define = read(f"(define ({each.name} xs) (if (null? xs) '() "
                  f"(cons ({f.name} (car xs)) ({each.name} (cdr xs)))))")
    description = (f"Define ({each.name} xs), the list of ({f.name} x) for every x of the list xs, "
                   f"where {f.name} is as problem {p.id} ({p.name}) asks: "
                   f"{re.sub(r'[ ]*Make [(].*[)] work[.]', '', p.description)} "
                   f"Make {write(main)} work.")
    return make_list([Symbol("problem"), Keyword("name"), f"{p.name}-each",
                      Keyword("category"), Symbol(p.category),
                      Keyword("difficulty"), min(5, p.difficulty + 1),
                      Keyword("description"), description, Keyword("call"), main,
                      Keyword("expect"), make_list(wants[:2]), Keyword("hidden"), make_list(hidden),
                      Keyword("solution"), make_list(list(p.solution) + [define])])
