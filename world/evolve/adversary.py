"""Adversarial problems: the run's player proposes new problems for later rounds.

With the `adversary` setting, once per generation, before its rounds are
drawn, the player is asked for up to `PROPOSALS` problems in the pool's own
format, `(problem :name ... :category ... :difficulty ... :description ...
:call ... :expect ... :hidden ... :solution ...)` (no `:id`); the prompt says
what makes one acceptable. world/evolve/proposals.py judges each: it must
read as a problem, be no duplicate and not trivial, and its reference
solution must pass through the SEED my-eval within the least step budget of
the rounds it may enter. Every verdict is kept with its reason.

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
from typing import Any, Callable, Iterable, Sequence

from BTrees.OOBTree import OOBTree

from ..lisp.printer import write
from ..lisp.reader import read
from ..lisp.types import Keyword, Pair, Symbol, make_list
from .agent_errors import ModelError
from .pool import CATEGORIES, HIDDEN_STEPS, Problem, load_pool
from .proposals import (MAX_DEFINES, MAX_HIDDEN, Known, Rejected, judge, parse_proposal,
                        validate, validation_budget, args_of)
from .spend import check as check_cost

PROPOSALS = 3               # problems asked for per generation
SHARE = 3                   # at most 1/SHARE of a round's problems are adversarial
FIRST_ID = 1000             # accepted ids start above this (the pool's highest is below)
QUOTE = Symbol("quote")

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
  get fresh ids); :difficulty 1 to 5; :description names the call exactly as written in :call;
  :expect and the hidden expectations are literal data (not evaluated); :category is one of
  {categories}.
- :hidden has 2 to {max_hidden} (expression expected) pairs, some expecting a value other than
  :expect; every expression, and the call, uses a name the solution defines.
- :solution is a list of at most {max_defines} (define ...) forms. Evaluated through the SEED
  my-eval, one form at a time, the definitions and the call together use at most {budget} steps
  and return :expect, and each hidden case returns its value within {hidden_steps} steps. The
  seed my-eval handles these special forms: {forms};
  everything else (and, or, when, let*, ...) is a procedure call, so avoid them.
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


def proposal_lines(run: Any) -> list[str]:
    """The proposals as text lines for a report ([] when the run asked for none)."""
    found = proposals(run)
    if not found:
        return []
    good = sum(p["status"] == "accepted" for p in found)
    lines = [f"adversary: {good} of {len(found)} proposals accepted"]
    for p in found:
        who = f"#{p['id']} {p['name']}" if p["status"] == "accepted" else p["name"] or "-"
        cat = f" ({p['category']})" if p["category"] else ""
        verdict = "accepted" if p["status"] == "accepted" else f"rejected: {p['why']}"
        lines.append(f"  g{p['generation']} {who}{cat}: {verdict}")
    return lines


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
    if not enabled(s) or generation in (getattr(run, "proposals", None) or {}):
        return
    records = book(run)
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
                                           generation, next_id, PROPOSALS)))
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
    if all(type(c) is Pair and c.car is name and len(args_of(c)) == 1 for c in cases):
        return name
    return None


def _each_ready(p: Problem) -> bool:
    return _entry(p) is not None and len(p.hidden) >= 3


def _each_problem(p: Problem) -> Any:
    """`p` lifted to lists: (NAME-each xs) maps NAME over xs."""
    f = _entry(p)
    each = Symbol(f"{f.name}-each")
    args = [args_of(c)[0] for c in [p.call] + [c.expr for c in p.hidden]]
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
