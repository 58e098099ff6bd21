"""The audit primitives and the `defrule` and `check` macros.

`defrule` and `check` are macros whose expanders are host procedures: they
quote what must not be evaluated yet and call `audit/defrule` or
`audit/check`, which act on the world running the current evaluation.
"""
from __future__ import annotations

from typing import Any

from ..lisp.errors import EvalError, LispTypeError
from ..lisp.printer import write
from ..lisp.primitives import primitive
from ..lisp.types import VOID, Keyword, LispMap, Pair, Procedure, Symbol, make_list
from ..objects.prims import _world, as_map
from . import metrics
from .checks import CheckReport, Outcome, evaluate, exercised, run_checks
from .report import latest_violations, summary
from .rules import SEVERITIES
from .store import Rule

QUOTE, DEFRULE, CHECK, UNCHECK = Symbol("quote"), Symbol("defrule"), Symbol("check"), Symbol("uncheck")
SYSTEM_MACROS = {"defrule": "%expand-defrule", "check": "%expand-check"}
metrics.SYSTEM_MACROS.update(SYSTEM_MACROS)


def _quote(x: Any) -> Pair:
    return make_list([QUOTE, x])


@primitive("%expand-defrule", group="internal")
def expand_defrule(name: Any = None, *opts: Any) -> Any:
    """(defrule name :category c :severity s :when pred :message text) defines an audit rule."""
    if type(name) is not Symbol:
        raise EvalError("defrule: expected (defrule name :category c :severity s :when pred :message text)")
    return make_list([Symbol("audit/defrule"), _quote(name), *opts])


@primitive("%expand-check", group="internal")
def expand_check(*parts: Any) -> Any:
    """(check expected expr) records an example against the definitions expr exercises."""
    if len(parts) != 2:
        raise EvalError("check: expected (check expected expr)")
    return make_list([Symbol("audit/check"), _quote(parts[0]), _quote(parts[1])])


def install(env: Any) -> None:
    """Make `defrule` and `check` macros of `env` (unless the world defines those names)."""
    from ..lisp.types import Primitive
    for name, expander in SYSTEM_MACROS.items():
        sym = Symbol(name)
        if sym not in env.macros and not env.is_bound(sym):
            env.macros[sym] = Primitive.registry[expander]


def _top(w: Any, head: Symbol) -> Any:
    """The running top-level form if it is a `head` form, else None."""
    top = getattr(w, "current_form", None)
    form = top[0] if top is not None else None
    return form if type(form) is Pair and form.car is head else None


def _options(opts: tuple) -> dict[str, Any]:
    if len(opts) % 2:
        raise EvalError("defrule: options come in pairs, :key value")
    out = {}
    for k, v in zip(opts[::2], opts[1::2]):
        if type(k) is not Keyword or k.name not in ("category", "severity", "when", "message"):
            raise EvalError(f"defrule: unknown option {k!r}; expected :category :severity :when :message")
        out[k.name] = v
    return out


@primitive("audit/defrule", group="audit")
def audit_defrule(name: Any, *opts: Any) -> Symbol:
    """(audit/defrule 'name :category c :severity s :when pred :message text), what defrule expands to."""
    from ..history.record import audit_of, record
    w = _world("defrule")
    store = audit_of(w)
    if store is None:
        raise EvalError("defrule: this is a production image: it has no audit rules")
    top = _top(w, DEFRULE)
    if type(name) is not Symbol or top is None:
        raise EvalError("defrule: only allowed at top level, as (defrule name ...)")
    o = _options(opts)
    cat = o.get("category", Keyword("maintainability"))
    sev, when, msg = o.get("severity", Keyword("warning")), o.get("when"), o.get("message", "")
    if type(cat) is not Keyword:
        raise LispTypeError(f"defrule {name.name}: :category must be a keyword")
    if type(sev) is not Keyword or sev.name not in SEVERITIES:
        raise LispTypeError(f"defrule {name.name}: :severity must be one of :info :warning :error")
    if not isinstance(when, Procedure):
        raise LispTypeError(f"defrule {name.name}: :when must be a procedure of the metrics map")
    if type(msg) is not str:
        raise LispTypeError(f"defrule {name.name}: :message must be a string")
    store.rules[name.name] = Rule(name.name, cat.name, sev.name, when, msg)
    record(w, "defrule", name.name, top, None, msg or None)
    return name


@primitive("audit/check", group="audit")
def audit_check(expected: Any, expr: Any) -> LispMap:
    """(audit/check 'expected 'expr) evaluates both; at top level records the example."""
    from ..history.record import audit_of
    w = _world("check")
    names = exercised(w.names, expr)
    out = evaluate(w, expected, expr, 0, names)
    store = audit_of(w)
    if store is not None and _top(w, CHECK) is not None:
        out.number = store.add_check(out.expected_src, out.expr_src, names).number
    return _outcome(out)


@primitive("uncheck", group="audit")
def uncheck(name: Any) -> int:
    """(uncheck 'name) forgets the checks recorded against name; recorded as a commit."""
    from ..history.record import audit_of, record
    if type(name) is not Symbol:
        raise LispTypeError("uncheck: expected a quoted name, as in (uncheck 'name)")
    w = _world("uncheck")
    store = audit_of(w)
    if store is None:
        raise EvalError("uncheck: this is a production image: it has no checks")
    n = name.name
    if n not in store.by_definition and n not in w.names.defs and n not in w.names.macros:
        raise EvalError(f"uncheck: no checks are recorded against {n}, and nothing is named {n}")
    removed = store.remove_against(n)
    # Recorded even when nothing was removed: replaying history must meet the same commit.
    record(w, "uncheck", n, None, None, None, source=write(make_list([UNCHECK, _quote(name)])))
    return removed


def _outcome(o: Outcome) -> LispMap:
    d = {"pass": o.passed, "check": o.number, "expr": o.expr_src, "expected": o.expected,
         "actual": o.actual, "definitions": make_list([Symbol(n) for n in o.names])}
    if o.error is not None:
        d["error"] = o.error
    return as_map(d)


def report_map(report: CheckReport) -> LispMap:
    """A check report as a Lisp map: totals, per definition, and the failures."""
    per = [as_map({"definition": Symbol(n), "passed": p, "failed": f})
           for n, (p, f) in report.by_definition().items()]
    return as_map({"passed": len(report.outcomes) - len(report.failed), "failed": len(report.failed),
                   "definitions": make_list(per),
                   "failures": make_list([_outcome(o) for o in report.failed])})


@primitive("audit/run", group="audit")
def audit_run() -> LispMap:
    """(audit/run) runs every recorded check again; pass/fail per definition."""
    from ..history.record import audit_of
    w = _world("audit/run")
    store = audit_of(w)
    return report_map(run_checks(w, store.checks) if store is not None else CheckReport())


@primitive("audit/rules", group="reflect")
def audit_rules() -> Any:
    """(audit/rules) -> every rule: name, category, severity, message."""
    from ..history.record import audit_of
    store = audit_of(_world("audit/rules"))
    rules = store.rules.values() if store is not None else ()
    return make_list([as_map({"name": Symbol(r.name), "category": Keyword(r.category),
                              "severity": Keyword(r.severity), "message": r.message})
                      for r in rules])


def _violation(symbol: str, v: tuple) -> LispMap:
    return as_map({"symbol": Symbol(symbol), "rule": Symbol(v[0]), "category": Keyword(v[1]),
                   "severity": Keyword(v[2]), "message": v[3]})


@primitive("audit/violations", group="reflect")
def audit_violations(name: Any = None) -> Any:
    """(audit/violations ['name]) -> violations of the latest version of each (or one) definition."""
    if name is not None and type(name) is not Symbol:
        raise LispTypeError("audit/violations: expected a symbol")
    w = _world("audit/violations")
    rows = latest_violations(w, None if name is None else name.name)
    return make_list([_violation(s, v) for s, vs in rows for v in vs])


@primitive("audit/report", group="reflect")
def audit_report() -> LispMap:
    """(audit/report) -> violations over the latest definitions, by category and severity."""
    s = summary(_world("audit/report"))
    return as_map({"definitions": s["definitions"], "violations": s["violations"],
                   "by-category": LispMap((Keyword(k), v) for k, v in s["by-category"].items()),
                   "by-severity": LispMap((Keyword(k), v) for k, v in s["by-severity"].items()),
                   "worst": make_list([make_list([Symbol(n), c]) for n, c in s["worst"]])})


@primitive("audit/set-tolerance!", group="audit")
def audit_set_tolerance(limit: Any) -> Any:
    """(audit/set-tolerance! n) refuses definitions with more than n warnings+errors; #f: off."""
    from ..history.record import TOLERANCE
    if limit is not False and (type(limit) is not int or limit < 0):
        raise LispTypeError("audit/set-tolerance!: expected a count (0 or more) or #f")
    w = _world("audit/set-tolerance!")
    if limit is False:
        w.image.root.settings.pop(TOLERANCE, None)
    else:
        w.image.root.settings[TOLERANCE] = limit
    return VOID


@primitive("audit/tolerance", group="reflect")
def audit_tolerance() -> Any:
    """(audit/tolerance) -> the most warnings+errors a definition may have, or #f."""
    from ..history.record import TOLERANCE
    return _world("audit/tolerance").image.root.settings.get(TOLERANCE, False)
