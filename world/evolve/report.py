"""Evolution runs as data: a run's summary rows, every lineage by generation
(for `(inspect :lineages)` and `world inspect lineages`), live progress of a
running generation, and a plot of fitness by generation (PNG, matplotlib's
Agg backend). Nothing here prints.
"""
from __future__ import annotations

import difflib
import time
from typing import Any

from .adversary import proposals
from .lineage import Lineage, Run, evolve_root
from .personalities import name_for
from .seeding import pretty_lines

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
           "usage": lineage.usage.as_dict(), "island": lineage.island,
           "personality": getattr(lineage, "personality", "")}     # '' without personalities
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
                     "lineages": rows, "islands": [dict(d) for d in gen.islands]})
    return {"run": run.id, "agent": run.agent, "status": run.status, "created": run.created,
            "settings": dict(run.settings), "usage": run.usage.as_dict(),
            "endpoints": list(run.endpoints), "models": models_used(run), "generations": gens,
            "adversary": proposals(run)}


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
            if run.settings.get("islands", 1) > 1:      # which island, seeded by whom
                rows[-1] += _island_cells(g, l)
            if run.settings.get("personalities"):       # a pending lineage's is its future one
                rows[-1].append(l["personality"] or name_for(run.settings, l["index"]))
    if run.settings.get("islands", 1) > 1:
        rows[0] += ["island", "seeded by"]
    if run.settings.get("personalities"):
        rows[0].append("personality")
    return rows


def _island_cells(g: dict[str, Any], l: dict[str, Any]) -> list[str]:
    """The island of a lineage row and whose winner seeded it (marked when it migrated)."""
    seeded = next((d for d in g.get("islands", ()) if d.get("island") == l["island"]), None)
    if seeded is None:
        return [str(l["island"]), "-"]
    moved = seeded.get("migrated_from")
    return [str(l["island"]),
            str(seeded.get("seed_from", "-")) + ("" if moved is None else f" (from island {moved})")]


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
    from .hall import held_outs
    hall = [{"id": k, "run": e.run_id, "generation": e.generation, "lineage": e.lineage,
             "fitness": dict(e.fitness), "evaluator_lines": pretty_lines(e.evaluator),
             "held_out": [{x: h[x] for x in ("run", "solved", "attempted")} for h in held_outs(e)]}
            for k, e in root.hall.items()]
    return {"runs": runs, "hall_of_fame": hall}


def _constructs(lineage: Lineage) -> set[str]:
    """What the lineage handles that the original seed does not (by probes, once finished)."""
    if lineage.package is not None:
        return set(lineage.novel)
    from .tournament import constructs      # finished before novelty was probed
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


PANELS = COMPONENTS + ("total",)         # one subplot each, in this order
DPI = 100


def title(run: Run, models: list[str] | None = None) -> str:
    """The run in one line: id, agent and model, mode, lineages x rounds x generations
    (and islands), date, and its status unless done (`models`: models_used(run), if known)."""
    s = run.settings
    models = [m for m in (models_used(run) if models is None else models)
              if m and m != s.get("agent")]
    who = run.agent.split(" (")[0] + (f", model {', '.join(models)}" if models else "")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.created))
    size = " \u00d7 ".join(_count(s.get(k), k) for k in ("lineages", "rounds", "generations"))
    if (s.get("islands") or 1) > 1:
        size += f" on {s['islands']} islands"
    status = "" if run.status == "done" else f" ({run.status})"
    mode = s.get("mode", "tournament")
    return f"{run.id} \u2014 {who} \u2014 {mode}, {size} \u2014 {when}{status}"


def _count(n: Any, noun: str) -> str:
    """'1 round', '3 rounds'."""
    return f"{'?' if n is None else n} {noun[:-1] if n == 1 else noun}"


def figure(run: Run, s: dict[str, Any] | None = None) -> Any:
    """A matplotlib Figure (Agg, no pyplot state): one subplot per fitness component and
    the total, x the generation, one series per lineage index (nudged sideways so equal
    values stay visible); the winner of each generation starred, failed lineages crossed.
    `s` is summary(run), if the caller has it."""
    import textwrap
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator
    s = s or summary(run)
    gens = s["generations"]
    numbers = [g["generation"] for g in gens] or [1]
    width = max([len(g["lineages"]) for g in gens] or [1])
    step = min(0.12, 0.6 / width)
    star = 170 * min(1.0, 8 / len(numbers))     # smaller when many generations share the axis
    fig = Figure(figsize=(12, 7.2), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 3, sharex=True).flatten()
    colors = [f"C{i % 10}" for i in range(width)]
    marks = ["osD^v"[(i // 10) % 5] for i in range(width)]     # past 10 lineages colours repeat
    for ax, comp in zip(axes, PANELS):
        series: dict[int, list[tuple[float, float]]] = {}
        for g in gens:
            for row in g["lineages"]:
                v = row["fitness"] if comp == "total" else row["components"].get(comp)
                if v is None:                   # not finished yet: nothing to plot
                    continue
                x = g["generation"] + (row["index"] - (width - 1) / 2) * step
                series.setdefault(row["index"], []).append((x, v))
                if row["status"] == "failed":
                    ax.scatter([x], [v], marker="x", s=50, color="red", zorder=4, gid="failed")
                if row["name"] == g["winner"]:
                    ax.scatter([x], [v], marker="*", s=star, facecolor="gold",
                               edgecolor="black", linewidth=0.8, zorder=5, gid="winner")
        for idx in sorted(series):
            pts = series[idx]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marks[idx % width],
                    markersize=4, linewidth=1, alpha=0.8, color=colors[idx % width], zorder=3)
        ax.set_title(comp, fontsize=10)
        ax.set_ylim(-0.05, 1.05)
        if len(numbers) <= 15:
            ax.set_xticks(numbers)
        else:                                   # a long run: a tick every few generations
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(min(numbers) - 0.5, max(numbers) + 0.5)
        ax.grid(True, alpha=0.3)
        ax.set_ylabel(f"{comp} (0\u20131)", fontsize=9)
    for ax in axes[3:]:
        ax.set_xlabel("generation", fontsize=9)
    for ax in axes[:3]:
        ax.tick_params(labelbottom=True)
    handles = [Line2D([], [], color=colors[i], marker=marks[i], markersize=4, label=f"L{i}")
               for i in range(width if width <= 36 else 0)]    # past 36 a key is noise
    handles += [Line2D([], [], linestyle="", marker="*", markersize=12, markerfacecolor="gold",
                       markeredgecolor="black", label="winner"),
                Line2D([], [], linestyle="", marker="x", markersize=8, color="red",
                       label="failed")]
    rows = -(-len(handles) // 12)
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 12), fontsize=8,
               frameon=False)
    head = textwrap.wrap(title(run, s["models"]), 120)
    fig.suptitle("\n".join(head), fontsize=11)
    fig.tight_layout(rect=(0, 0.01 + 0.03 * rows, 1, 1 - 0.03 * len(head)))
    return fig


def png_bytes(fig: Any) -> bytes:
    """`fig` as PNG bytes (no timestamp in the metadata: the same run gives the same bytes)."""
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def plot(run: Run, path: str) -> str:
    """Write the PNG of `figure(run)` to `path`; return `path`."""
    return write_file(path, png_bytes(figure(run)))


def write_file(path: str, data: bytes) -> str:
    """Write `data` to `path`; an unwritable path is an EvolveError naming it."""
    from .agent_errors import EvolveError
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise EvolveError(f"cannot write {path}: {e.strerror or e}") from None
    return path


def by_category(run: Run) -> dict[str, dict[int, tuple[int, int]]]:
    """Category -> generation -> (solved, attempted) over every lineage's attempts."""
    out: dict[str, dict[int, tuple[int, int]]] = {}
    for gen in run.generations.values():
        for lineage in gen.lineages.values():
            for a in lineage.attempts():
                solved, tried = out.setdefault(a.category, {}).get(gen.number, (0, 0))
                out[a.category][gen.number] = (solved + bool(a.solved), tried + 1)
    return dict(sorted(out.items()))


def category_figure(run: Run) -> Any:
    """A matplotlib Figure: solve rate per category, one bar per generation."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    cats = by_category(run)
    numbers = [g.number for g in run.generations.values()] or [1]
    fig = Figure(figsize=(max(6.0, 1.1 * len(cats) + 2), 3.6), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    bar = 0.8 / len(numbers)
    for j, n in enumerate(numbers):
        rates = [cats[c].get(n, (0, 0)) for c in cats]
        xs = [i + (j - (len(numbers) - 1) / 2) * bar for i in range(len(cats))]
        ax.bar(xs, [s / t if t else 0.0 for s, t in rates], width=bar * 0.95,
               color=f"C{j % 10}", label=f"generation {n}")
    ax.set_xticks(range(len(cats)))
    ax.set_xticklabels(list(cats), fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("problem category", fontsize=9)
    ax.set_ylabel("solved / attempted", fontsize=9)
    ax.set_title(f"{run.id}: solve rate per category", fontsize=10)
    if len(numbers) > 1:
        ax.legend(fontsize=8, ncol=min(len(numbers), 6))
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
