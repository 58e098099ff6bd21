"""Tournaments: lineages run their rounds, are scored, and the fittest
evaluator enters the hall of fame and seeds the next generation.

A seed is an evaluator package (world/evolve/package.py): the winner's
my-eval with the helpers and natives it uses, installed whole. With islands
(world/evolve/islands.py) each island's winner seeds its own island.

Fitness = 0.50 x solve rate + 0.15 x novelty (constructs my-eval handles
that the original seed does not, found by running probes through it
(world/evolve/novelty.py), / 10, capped at 1) + 0.15 x efficiency (the
share of the budget that solved
problems left unspent) + 0.10 x diversity (categories solved / 9) + 0.10 x
evaluator richness (my-eval lines / 120, capped at 1). The weights are run
settings; every component is stored with the lineage, not only the sum.

`run_lineage` is resumable at any point: finished rounds and attempts are
skipped, an attempt left running by a crash is started over with a fresh
scratchpad (definitions its cells had already committed stay in the
lineage's namespace, as they would after any failed attempt).
"""
from __future__ import annotations

import time
from typing import Any, Callable

from .adversary import accepted, ask, with_accepted
from .agent import Context, reflect, solve
from .lineage import Generation, HallEntry, Lineage, Round, Run, evolve_root, lineage_world
from .prompt import failure_note
from .personalities import name_for
from .rounds import CATEGORIES, budget, native_cap, select
from ..lisp.reader import read
from ..lisp.errors import Interrupted, LispError
from .evalprims import evaluator_failure
from .evaluator import handled_forms
from .islands import island_count, island_seeds, record_islands
from .novelty import novel_constructs
from .package import as_package, install_package, package_of, seed_of
from .seeding import base_names, evaluator_of, pretty_lines, seed_source

def constructs(source: str) -> set[str]:
    """The special-form names a my-eval source dispatches on (none if it does not read)."""
    try:
        return set(handled_forms(read(source))) if source.strip() else set()
    except LispError:
        return set()


def evaluator_lines(source: str) -> int:
    """Lines of a my-eval source, pretty-printed."""
    return pretty_lines(source)


def fitness(lineage: Lineage, weights: dict[str, float],
            novel: Any = None) -> dict[str, float]:
    """The fitness components of a finished lineage, their weights and their sum; `novel`:
    the constructs it handles that the original seed does not (default: `lineage.novel`)."""
    attempts = list(lineage.attempts())
    solved = [a for a in attempts if a.solved]
    new = set(lineage.novel if novel is None else novel)
    parts = {
        "solve": len(solved) / len(attempts) if attempts else 0.0,
        "novelty": min(1.0, len(new) / 10),
        "efficiency": (sum(max(0.0, 1 - a.steps / a.budget) for a in solved) / len(solved)
                       if solved else 0.0),
        "diversity": len({a.category for a in solved} & set(CATEGORIES)) / len(CATEGORIES),
        "richness": min(1.0, evaluator_lines(lineage.evaluator) / 120),
    }
    out = {k: round(v, 6) for k, v in parts.items()}
    out["total"] = round(sum(weights[k] * parts[k] for k in parts), 6)
    out["solved"] = len(solved)
    out["attempted"] = len(attempts)
    out["new_constructs"] = len(new)
    return out


def _records_commit(image: Any, note: str) -> None:
    image.tm.get().note(note)
    image.tm.commit()


def new_run(image: Any, run_id: str, settings: dict[str, Any], agent: str) -> Run:
    """Create and commit an empty run."""
    root = evolve_root(image)
    if run_id in root.runs:
        from .agent_errors import EvolveError
        raise EvolveError(f"a run named {run_id} exists already: choose another name or --resume")
    run = Run(run_id, settings, agent)
    root.runs[run_id] = run
    root.last_run = run_id
    _records_commit(image, f"evolve: start run {run_id}")
    return run


def new_generation(image: Any, run: Run, number: int, seed: Any, seed_from: str,
                   tasks: Any, islands: list[dict[str, Any]] | None = None) -> Generation:
    """Create generation `number`: its lineages and the problems of every round. `seed` is a
    package or a my-eval source; `islands` (world/evolve/islands.py), if given, seeds each
    island apart (lineage i is on island i % K), else every lineage gets `seed`."""
    s = run.settings
    k = island_count(s)
    if islands is None:
        islands = [{"island": i, "package": as_package(seed), "seed_from": seed_from,
                    "migrated_from": None} for i in range(k)]
    first = islands[0]["package"]
    gen = Generation(number, first["evaluator"], islands[0]["seed_from"], first)
    record_islands(gen, islands)
    used: set[int] = set()
    problems = {}
    extra = accepted(run, number)       # the adversary's problems, for rounds 2 and later
    for r in range(1, s["rounds"] + 1):
        problems[r] = select(tasks, s, number, r, used, extra)
        used |= set(problems[r])
    gen.problems = problems
    for i in range(s["lineages"]):
        pkg = islands[i % k]["package"]
        gen.lineages[i] = Lineage(run.id, number, i, pkg["evaluator"], pkg, i % k)
    run.generations[number] = gen
    _records_commit(image, f"evolve: run {run.id} generation {number}")
    return gen


def run_lineage(image: Any, run: Run, lineage: Lineage, player: Any, tasks: dict[int, Any],
                progress: Callable[[dict[str, Any]], Any] = lambda e: None) -> dict[str, float]:
    """Run (or resume) every round of `lineage`; store and return its fitness."""
    s = run.settings
    gen = run.generations[lineage.generation]
    tasks = with_accepted(run, tasks)
    world = lineage_world(image, lineage)
    try:
        why = evaluator_failure(world, lineage.seed if lineage.status == "pending" else "")
        if why is None and lineage.status == "pending":
            try:
                base = install_package(world, seed_of(lineage))
            except Interrupted:
                raise           # Ctrl-C stops the run, resumable; the lineage did not fail
            except LispError as e:
                why = f"its seed evaluator cannot be installed: {e.message}"
        if why is not None:
            return _failed(image, lineage, why, progress)
        if lineage.status == "pending":
            lineage.base = base
            lineage.status = "running"
            lineage.personality = name_for(s, lineage.index)     # recorded with the lineage
            lineage.evaluator = evaluator_of(world, base)
            _records_commit(image, f"evolve: {lineage.name} installs its seed evaluator")
        base = lineage.base if lineage.base is not None else base_names()
        ctx = Context(image, run, lineage, world, player, tasks, base, progress)
        ctx.failures = [failure_note(a) for a in lineage.attempts() if a.status == "failed"]
        for r in range(1, s["rounds"] + 1):
            rnd = lineage.rounds.get(r)
            if rnd is None:
                rnd = Round(r, budget(s, r), native_cap(s, r), tuple(gen.problems[r]))
                prev = lineage.rounds.get(r - 1)
                rnd.bonus = prev.reflection.bonus if prev is not None and prev.reflection else 0
                lineage.rounds[r] = rnd
                _records_commit(image, f"evolve: {lineage.name} round {r}")
            if rnd.status == "done":
                continue
            for pos, pid in enumerate(rnd.problems):
                att = rnd.attempts.get(pos)
                if att is not None and att.status != "running":
                    continue
                solve(ctx, rnd, pos, tasks[pid])          # a running one is started over
            if r < s["rounds"] and s.get("reflection", True) and (   # --no-reflection: none
                    rnd.reflection is None or rnd.reflection.status == "running"):
                reflect(ctx, rnd, budget(s, r + 1), native_cap(s, r + 1))
            rnd.status = "done"
            _records_commit(image, f"evolve: {lineage.name} round {r} done")
        lineage.evaluator = evaluator_of(world, base)
        lineage.package = package_of(world)
        lineage.novel = novel_constructs(world, lineage.package)
        lineage.fitness = fitness(lineage, s["weights"])
        lineage.status = "done"
        _records_commit(image, f"evolve: {lineage.name} done")
        progress({"phase": "lineage-done", "lineage": lineage.name,
                  "fitness": lineage.fitness["total"], "solved": lineage.fitness["solved"]})
        return lineage.fitness
    finally:
        world.close()


def _failed(image: Any, lineage: Lineage, why: str,
            progress: Callable[[dict[str, Any]], Any]) -> dict[str, float]:
    """Mark `lineage` failed with `why` (done, every fitness component 0): the run goes on."""
    attempts = list(lineage.attempts())
    lineage.failure, lineage.status = why, "done"
    lineage.fitness = {**{k: 0.0 for k in ("solve", "novelty", "efficiency", "diversity",
                                            "richness", "total")},
                       "solved": 0, "attempted": len(attempts), "new_constructs": 0}
    _records_commit(image, f"evolve: {lineage.name} failed: {why}"[:200])
    progress({"phase": "lineage-failed", "lineage": lineage.name, "why": why})
    return lineage.fitness


def finish_generation(image: Any, run: Run, gen: Generation) -> HallEntry:
    """Pick the fittest lineage (ties: the lower index; a failed one only if all failed),
    enter it in the hall of fame."""
    lineages = list(gen.lineages.values())
    best = max(lineages, key=lambda l: (not l.failure, l.fitness["total"], -l.index))
    gen.winner = best.index
    gen.status = "done"
    entry = HallEntry(run.id, gen.number, best.name, best.evaluator, best.fitness,
                      best.package)
    evolve_root(image).hall[f"{run.id}/{gen.number:04d}"] = entry
    _records_commit(image, f"evolve: generation {gen.number} of {run.id} won by {best.name}")
    return entry


def run_generations(image: Any, run: Run, player: Any, tasks: Any,
                    run_lineages: Callable[[Generation], None] | None = None,
                    progress: Callable[[dict[str, Any]], Any] = lambda e: None,
                    seed: Any = "", seed_from: str = "seed-eval.lisp") -> Run:
    """Run (or resume) every generation of `run`; lineages in turn unless `run_lineages` is given.

    Generation 1 starts from `seed` (a package or a my-eval source; the seed my-eval by
    default), which came from `seed_from`; each later one from the previous one's island winners (world/evolve/islands.py)."""
    by_id = {t.id: t for t in tasks}
    s = run.settings
    for g in range(1, s["generations"] + 1):
        gen = run.generations.get(g)
        if gen is None:
            ask(image, run, g, player, tasks, progress)     # the adversary's problems, if any
            prev = run.generations.get(g - 1)
            if prev is None:
                gen = new_generation(image, run, g, seed or seed_source(), seed_from, tasks)
            else:
                gen = new_generation(image, run, g, "", "", tasks, island_seeds(run, prev, g))
        if gen.status == "done":
            continue
        progress({"phase": "generation", "generation": g})
        if run_lineages is not None:
            run_lineages(gen)
        else:
            for lineage in gen.lineages.values():
                if lineage.status != "done":
                    run_lineage(image, run, lineage, player, by_id, progress)
        finish_generation(image, run, gen)
    run.status, run.finished = "done", time.time()
    _records_commit(image, f"evolve: run {run.id} done")
    return run
