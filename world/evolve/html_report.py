"""A run as one self-contained HTML page: its settings, usage, the summary per
generation and per lineage with every fitness component, the solve rate per
category, each lineage's evaluator diff against its seed, the run's
hall-of-fame entries and the plots (PNG data URIs, inline CSS, nothing
fetched). Every string that comes from the run is escaped: a model's text,
a problem's name or an evaluator's source is shown, never interpreted.
"""
from __future__ import annotations

import base64
import html
import time
from typing import Any, Iterable

from .lineage import HallEntry, Run, evolve_root
from .report import (COMPONENTS, PANELS, by_category, category_figure, evaluator_diff, figure,
                     png_bytes, summary, title, write_file)
from .seeding import pretty

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 78em; color: #222; }
h1 { font-size: 1.35em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ddd; padding: .2em .55em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.winner td { background: #fff6cc; } tr.failed td { background: #fde4e4; color: #822; }
pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: 12px; }
.add { color: #066c06; } .del { color: #a11; } .hunk { color: #555; }
img { max-width: 100%; } .muted { color: #777; }
"""
KNOWN_ROW = {"name", "generation", "index", "status", "failure", "attempted", "solved",
             "solved_ids", "fitness", "components", "steps", "natives", "changes", "usage"}
HALL_FIELDS = ("run_id", "generation", "lineage", "evaluator", "fitness", "time", "package")


def e(value: Any) -> str:
    """Any value as escaped text."""
    return html.escape(str(value), quote=True)


def num(v: Any, digits: int = 3) -> str:
    """A number for a table cell ('-' when absent)."""
    if v is None:
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else e(v)


def setting(v: Any) -> str:
    """A run setting, readable: pairs one per line, maps as key=value, None as 'none'."""
    if v is None:
        return '<span class="muted">none</span>'
    if isinstance(v, dict):
        return e(", ".join(f"{k}={v[k]}" for k in v))
    if isinstance(v, (tuple, list)) and v and all(isinstance(p, (tuple, list)) and len(p) == 2
                                                  for p in v):
        return "<br>".join(f"<b>{e(a)}</b>: {e(b)}" for a, b in v)
    if isinstance(v, (tuple, list)):
        return e(", ".join("none" if x is None else str(x) for x in v))
    return e(v)


def table(header: Iterable[str], rows: Iterable[tuple[str, list[str]]]) -> str:
    """An HTML table: `header` is escaped here; each row is (class, already-escaped cells)."""
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join((f'<tr class="{cls}">' if cls else "<tr>")
                   + "".join(rows_cell(c) for c in cells) + "</tr>" for cls, cells in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def rows_cell(cell: str) -> str:
    """A cell; numbers are right-aligned."""
    plain = cell.replace(".", "").replace("-", "").replace("/", "").replace("%", "").strip()
    return f'<td class="n">{cell}</td>' if plain.isdigit() else f"<td>{cell}</td>"


def data_uri(png: bytes) -> str:
    """A PNG as a data: URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def glance(run: Run, s: dict[str, Any]) -> str:
    """The experiment in a few lines: mode, ablations, personalities, islands, sampling,
    models and endpoints (the full settings follow)."""
    st = run.settings
    off = [k.replace("_", "-") for k in ("self_modify", "reflection", "metacognition")
           if st.get(k) is False]
    pers = st.get("personalities") or ()
    isl = st.get("islands") or 1
    temp = st.get("temperature")
    items = [("mode", st.get("mode", "tournament")),
             ("ablations", ", ".join(f"no {k}" for k in off) or "none"),
             ("personalities", ", ".join(str(p[0]) for p in pers) or "none"),
             ("islands", f"{isl}" + (f", migrating every {st.get('migrate_every')} generation(s)"
                                     if isl > 1 and st.get("migrate_every") else "")),
             ("temperature", "the API default" if temp is None else temp),
             ("models", ", ".join(s["models"]) or st.get("model") or "-"),
             ("endpoints", ", ".join(s["endpoints"]) or "-"),
             ("cost", f"${s['usage'].get('cost', 0.0):.4f} estimated, "
                      f"{s['usage'].get('calls', 0)} model calls")]
    return "<ul>" + "".join(f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in items) + "</ul>"


def settings_section(run: Run, s: dict[str, Any]) -> str:
    """Every setting the run holds, in the order it holds them, then usage and endpoints."""
    rows = [("", [e(k), setting(v)]) for k, v in run.settings.items()]
    usage = [("", [e(k), num(v, 4)]) for k, v in s["usage"].items()]
    where = [("", ["agent", e(run.agent)]), ("", ["status", e(run.status)]),
             ("", ["endpoints", e(", ".join(s["endpoints"])) or "-"]),
             ("", ["models that answered", e(", ".join(s["models"])) or "-"])]
    return ("<h2>Settings</h2>" + table(["setting", "value"], rows)
            + "<h2>Usage and cost</h2>" + table(["", "value"], where + usage))


def generations_section(s: dict[str, Any]) -> str:
    """One row per generation: winner, lineages, solved, mean of every component, best total."""
    rows = []
    for g in s["generations"]:
        ls = g["lineages"]
        done = [r for r in ls if r["fitness"] is not None]

        def mean(k: str) -> str:
            vals = [(r["fitness"] if k == "total" else r["components"][k]) for r in done]
            vals = [v for v in vals if v is not None]
            return num(sum(vals) / len(vals)) if vals else "-"
        best = max((r["fitness"] for r in done), default=None)
        seeds = e(g["seed_from"])
        if len(g.get("islands") or ()) > 1:        # each island's seed, and where it came from
            seeds = "<br>".join(e(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in d.items()
                                           if v is not None))
                                for d in g["islands"])
        rows.append(("", [e(g["generation"]), seeds, e(g["status"]),
                          e(g["winner"] or "-"), e(len(ls)),
                          e(sum(r["status"] == "failed" for r in ls)),
                          f"{sum(r['solved'] for r in ls)}/{sum(r['attempted'] for r in ls)}",
                          *[mean(k) for k in PANELS], num(best)]))
    header = ["gen", "seeded from", "status", "winner", "lineages", "failed", "solved",
              *[f"mean {k}" for k in PANELS], "best total"]
    return "<h2>Generations</h2>" + table(header, rows)


def lineages_section(s: dict[str, Any]) -> str:
    """One row per lineage: every fitness component, steps, changes, cost, failure, and
    whatever else the rows hold (island, personality, ...) where some lineage has it."""
    rows_in = [r for g in s["generations"] for r in g["lineages"]]
    extra = [k for k in dict.fromkeys(k for r in rows_in for k in r)
             if k not in KNOWN_ROW and any(r.get(k) for r in rows_in)
             and all(r.get(k) is None or isinstance(r.get(k), (str, int, float)) for r in rows_in)]
    rows = []
    for g in s["generations"]:
        for r in g["lineages"]:
            cls = ("failed" if r["status"] == "failed"
                   else "winner" if r["name"] == g["winner"] else "")
            cells = [e(g["generation"]), e(r["name"]) + (" &#9733;" if cls == "winner" else ""),
                     e(r["status"]), *[num(r.get(k)) for k in extra],
                     f"{r['solved']}/{r['attempted']}",
                     *[num(r["components"][k]) for k in COMPONENTS],
                     num(r["fitness"]), e(r["steps"]), e(r["changes"]), e(r["natives"]),
                     e(r["usage"].get("calls", 0)), num(r["usage"].get("cost", 0.0), 4),
                     e(r["failure"] or "")]
            rows.append((cls, cells))
    header = ["gen", "lineage", "status", *extra, "solved", *COMPONENTS, "total", "steps",
              "changes", "natives", "calls", "cost $", "failure"]
    return ("<h2>Lineages</h2><p>&#9733; the generation's winner; failed lineages in red.</p>"
            + table(header, rows))


def categories_section(run: Run) -> str:
    """Solved/attempted per category, per generation and over the run."""
    cats = by_category(run)
    numbers = [g.number for g in run.generations.values()]
    rows = []
    for cat, per in cats.items():
        cells = [e(cat)]
        for n in numbers:
            sv, tr = per.get(n, (0, 0))
            cells.append(f"{sv}/{tr} ({100 * sv / tr:.0f}%)" if tr else "-")
        sv, tr = sum(p[0] for p in per.values()), sum(p[1] for p in per.values())
        cells.append(f"{sv}/{tr} ({100 * sv / tr:.0f}%)")
        rows.append(("", cells))
    header = ["category", *[f"gen {n}" for n in numbers], "run"]
    return "<h2>Solve rate per category</h2>" + (table(header, rows) if rows
                                                 else "<p>No problem attempted yet.</p>")


def diff_html(diff: str) -> str:
    """A unified diff, escaped, its added and removed lines coloured."""
    out = []
    for line in diff.splitlines():
        cls = ("hunk" if line.startswith(("@@", "+++", "---")) else "add" if line.startswith("+")
               else "del" if line.startswith("-") else "")
        out.append(f'<span class="{cls}">{e(line)}</span>' if cls else e(line))
    return "<pre>" + "\n".join(out) + "</pre>"


def diffs_section(run: Run) -> str:
    """Each lineage's evaluator against its seed (report.evaluator_diff)."""
    parts = []
    for gen in run.generations.values():
        for lineage in gen.lineages.values():
            diff = evaluator_diff(lineage)
            if not diff:
                parts.append(f"<p>{e(lineage.name)}: evaluator unchanged from its seed.</p>")
                continue
            lines = diff.splitlines()[2:]
            plus = sum(1 for x in lines if x.startswith("+"))
            minus = sum(1 for x in lines if x.startswith("-"))
            parts.append(f"<details><summary>{e(lineage.name)}: +{plus} &minus;{minus} lines"
                         f"</summary>{diff_html(diff)}</details>")
    return "<h2>Evaluator changes (diff against each lineage's seed)</h2>" + "".join(parts)


def attempts_section(run: Run) -> str:
    """Each lineage's problem attempts: round, problem, category, outcome, steps of budget."""
    parts = []
    for gen in run.generations.values():
        for lineage in gen.lineages.values():
            rows = [("" if a.solved else "failed",
                     [e(rnd.number), e(a.problem), e(a.name), e(a.category), e(a.status),
                      e(a.why), f"{a.steps}/{a.budget}", e(a.changes)])
                    for rnd in lineage.rounds.values() for a in rnd.attempts.values()]
            solved = sum(1 for cls, _ in rows if not cls)
            parts.append(f"<details><summary>{e(lineage.name)}: {solved}/{len(rows)} solved"
                         "</summary>" + table(["round", "problem", "name", "category", "status",
                                               "how it ended", "steps/budget", "changes"], rows)
                         + "</details>")
    return "<h2>Problem attempts</h2>" + "".join(parts)


def hall_entries(world: Any, run: Run) -> list[tuple[str, HallEntry]]:
    """The run's hall-of-fame entries, by key."""
    root = evolve_root(world.image, create=False)
    if root is None:
        return []
    return [(k, h) for k, h in root.hall.items() if getattr(h, "run_id", None) == run.id]


def hall_section(entries: list[tuple[str, HallEntry]]) -> str:
    """Each entry: its key, lineage, fitness components, its evaluator package (my-eval, the
    helpers and natives it uses), and whatever else it holds."""
    from .package import describe, stored
    if not entries:
        return "<h2>Hall of fame</h2><p>No entry from this run.</p>"
    rows, details = [], []
    for key, h in entries:
        f = dict(getattr(h, "fitness", {}) or {})
        package = stored(h)
        src = pretty(package.get("evaluator") or "")
        rows.append(("", [e(key), e(h.generation), e(h.lineage),
                          *[num(f.get(k)) for k in PANELS], e(len(src.splitlines())),
                          e(describe(package))]))
        parts = "".join(f"<h4>{e(kind[:-1])} {e(name)}</h4><pre>{e(pretty(text))}</pre>"
                        for kind in ("helpers", "natives")
                        for name, text in package.get(kind) or ())
        h._p_activate()
        more = "".join(f"<h4>{e(k)}</h4><pre>{e(_plain(v))}</pre>" for k, v in vars(h).items()
                       if not k.startswith("_") and k not in HALL_FIELDS)
        details.append(f"<details><summary>{e(key)}: {e(h.lineage)}'s evaluator</summary>"
                       f"<pre>{e(src)}</pre>{parts}{more}</details>")
    header = ["id", "gen", "lineage", *PANELS, "evaluator lines", "package"]
    return "<h2>Hall of fame</h2>" + table(header, rows) + "".join(details)


def _plain(v: Any) -> str:
    """A stored value as text: mappings and sequences one item a line."""
    if hasattr(v, "items"):
        return "\n".join(f"{k}: {x}" for k, x in v.items())
    if isinstance(v, (tuple, list)):
        return "\n".join(str(x) for x in v)
    return str(v)


def page(world: Any, run: Run) -> str:
    """The whole report as one HTML document."""
    s = summary(run)
    plots = [("Every fitness component by generation and lineage", png_bytes(figure(run, s))),
             ("Solve rate per category", png_bytes(category_figure(run)))]
    imgs = "".join(f'<figure><img alt="{e(alt)}" src="{data_uri(png)}"><figcaption>{e(alt)}'
                   f"</figcaption></figure>" for alt, png in plots)
    made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.created))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(run.id)}: evolution report</title><style>{CSS}</style></head><body>"
            f"<h1>{e(title(run, s['models']))}</h1><p>Run {e(run.id)}, started {made}, status "
            f"{e(run.status)}.</p>{glance(run, s)}<h2>Plots</h2>{imgs}"
            + settings_section(run, s) + generations_section(s) + lineages_section(s)
            + categories_section(run) + attempts_section(run)
            + hall_section(hall_entries(world, run))
            + diffs_section(run) + "</body></html>\n")


def write_html(world: Any, run: Run, path: str) -> str:
    """Write `page(world, run)` to `path`; return `path`."""
    return write_file(path, page(world, run).encode("utf-8"))
