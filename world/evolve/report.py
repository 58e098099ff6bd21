"""Evolution runs as data: a run's summary rows, every lineage by generation
(for `(inspect :lineages)` and `world inspect lineages`), live progress of a
running generation, and a plot of fitness by generation (PNG, matplotlib's
Agg backend). Nothing here prints.
"""
from __future__ import annotations

import difflib
from typing import Any

from .lineage import Lineage, Run, evolve_root

COMPONENTS = ("solve", "novelty", "efficiency", "diversity", "richness")


def lineage_row(lineage: Lineage) -> dict[str, Any]:
    """One lineage as plain data: status, fitness components, solved problems, usage."""
    attempts = list(lineage.attempts())
    solved = [a.problem for a in attempts if a.solved]
    f = lineage.fitness or {}
    row = {"name": lineage.name, "generation": lineage.generation, "index": lineage.index,
           "status": "failed" if lineage.failure else lineage.status,
           "failure": lineage.failure, "attempted": len(attempts), "solved": len(solved),
           "solved_ids": sorted(set(solved)), "fitness": f.get("total"),
           "components": {k: f.get(k) for k in COMPONENTS},
           "steps": sum(a.steps for a in attempts), "natives": lineage.natives,
           "changes": sum(a.changes for a in attempts)
           + sum(r.reflection.changes for r in lineage.rounds.values() if r.reflection),
           "usage": lineage.usage.as_dict()}
    return row


def evaluator_diff(lineage: Lineage) -> str:
    """The lineage's evaluator against its seed, as a unified diff ('' when unchanged)."""
    from .seeding import pretty
    diff = difflib.unified_diff(pretty(lineage.seed).splitlines(),
                                pretty(lineage.evaluator).splitlines(), "seed", lineage.name,
                                lineterm="")
    return "\n".join(diff)


def summary(run: Run) -> dict[str, Any]:
    """A run: settings, agent, usage, and per generation its lineages and winner."""
    gens = []
    for gen in run.generations.values():
        rows = [lineage_row(l) for l in gen.lineages.values()]
        winner = gen.lineages[gen.winner].name if gen.winner >= 0 else None
        gens.append({"generation": gen.number, "seed_from": gen.seed_from, "status": gen.status,
                     "winner": winner, "problems": {r: list(p) for r, p in gen.problems.items()},
                     "lineages": rows})
    return {"run": run.id, "agent": run.agent, "status": run.status, "created": run.created,
            "settings": dict(run.settings), "usage": run.usage.as_dict(),
            "endpoints": list(run.endpoints), "models": models_used(run), "generations": gens}


def models_used(run: Run) -> list[str]:
    """The models that actually answered the run's prompts (as their replies name them)."""
    seen: dict[str, None] = {}
    for gen in run.generations.values():
        for lineage in gen.lineages.values():
            for rnd in lineage.rounds.values():
                atts = list(rnd.attempts.values()) + ([rnd.reflection] if rnd.reflection else [])
                for att in atts:
                    for turn in att.turns.values():
                        if turn.reply:          # a turn that failed names the player, not a model
                            seen.setdefault(turn.model, None)
    return list(seen)


def table(run: Run) -> list[list[str]]:
    """The summary as rows of text cells, a header row first."""
    rows = [["gen", "lineage", "status", "solved", "fitness"] + list(COMPONENTS) + ["steps", "winner"]]
    for g in summary(run)["generations"]:
        for l in g["lineages"]:
            fit = "-" if l["fitness"] is None else f"{l['fitness']:.3f}"
            comps = ["-" if l["components"][k] is None else f"{l['components'][k]:.2f}"
                     for k in COMPONENTS]
            rows.append([str(g["generation"]), l["name"], l["status"],
                         f"{l['solved']}/{l['attempted']}", fit, *comps, str(l["steps"]),
                         "*" if l["name"] == g["winner"] else ""])
    return rows


def lineages_view(world: Any) -> dict[str, Any]:
    """Every run's lineages by generation, with evaluator diffs, and the hall of fame."""
    root = evolve_root(world.image, create=False)
    if root is None:
        return {"runs": [], "hall_of_fame": []}
    runs = []
    for run in root.runs.values():
        s = summary(run)
        for g, gen in zip(s["generations"], run.generations.values()):
            for row, lineage in zip(g["lineages"], gen.lineages.values()):
                row["evaluator_diff"] = evaluator_diff(lineage)
                row["constructs"] = sorted(_constructs(lineage))
        runs.append(s)
    hall = [{"run": e.run_id, "generation": e.generation, "lineage": e.lineage,
             "fitness": dict(e.fitness), "evaluator_lines": len(e.evaluator.splitlines())}
            for e in root.hall.values()]
    return {"runs": runs, "hall_of_fame": hall}


def _constructs(lineage: Lineage) -> set[str]:
    from .tournament import constructs
    return constructs(lineage.evaluator) - constructs(lineage.seed)


def progress(run: Run) -> list[dict[str, Any]]:
    """Where each lineage of the running generation is: round, problem, steps, solved."""
    gens = list(run.generations.values())
    if not gens:
        return []
    out = []
    for l in gens[-1].lineages.values():
        att, rnd = None, None
        for r in l.rounds.values():
            rnd = r
            for a in r.attempts.values():
                att = a
        out.append({"lineage": l.name, "status": l.status,
                    "round": rnd.number if rnd else 0, "problem": att.problem if att else None,
                    "steps": att.steps if att else 0,
                    "solved": sum(a.solved for a in l.attempts()),
                    "fitness": (l.fitness or {}).get("total")})
    return out


def plot(run: Run, path: str) -> str:
    """Write a PNG of fitness by generation (every lineage, and the best); return `path`."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    gens = [g for g in run.generations.values()]
    xs_all, ys_all, best = [], [], []
    for gen in gens:
        fits = [l.fitness["total"] for l in gen.lineages.values() if l.fitness]
        xs_all += [gen.number] * len(fits)
        ys_all += fits
        best.append((gen.number, max(fits) if fits else 0.0))
    ax.scatter(xs_all, ys_all, s=18, alpha=0.6, label="lineages")
    if best:
        ax.plot([b[0] for b in best], [b[1] for b in best], marker="o", label="winner")
    ax.set_xlabel("generation")
    ax.set_ylabel("fitness")
    ax.set_ylim(0, 1)
    ax.set_xticks([g.number for g in gens] or [1])
    ax.set_title(f"{run.id}: fitness by generation ({run.agent})", fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
