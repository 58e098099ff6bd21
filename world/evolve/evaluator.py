"""Changing my-eval safely: install the seed, extend it, replace it, roll it
back, and define native helpers, each checked before it is kept.

Every change builds the new `(define (my-eval expr env) ...)`, binds it in
the environment without telling the world, and runs the sanity tests through
it, each under a small step budget, so an evaluator that loops or breaks `if`
fails cleanly. Only when all pass is the definition made for real, through
the environment's define hooks with the change's kind (`extend-eval`,
`edit-eval`, `defnative`): the world's Namespace stores it as a definition of
that kind, and world/history's hook records it as an atomic commit of that
kind whose source is the top-level form that made the change, so replaying
history remakes it (see `record` below). Then the slot gets its new version,
holding the commit's id. All of it happens
inside the running form's transaction, so a refused change, or any later
error in the same form, leaves the world as it was.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator

from ..lisp import budget
from ..lisp.errors import EvalError, Interrupted, LispError
from ..lisp.printer import write
from ..lisp.reader import read, read_all
from ..lisp.runtime import run
from ..lisp.types import Closure, Pair, Procedure, Symbol, equal, make_list, to_pylist
from . import probes
from .ground import global_key
from .slot import EvalSlot, EvalVersion

SEED_PATH = Path(__file__).with_name("seed-eval.lisp")
MY_EVAL = Symbol("my-eval")
S_DEFINE, S_LAMBDA, S_QUOTE, S_COND, S_ELSE = (Symbol(n) for n in ("define", "lambda", "quote",
                                                                   "cond", "else"))
S_FORMP, S_EQ, S_CAR = Symbol("form?"), Symbol("eq?"), Symbol("car")

# (source, expected printed value): what every evaluator must still do, the core of the
# seed's table (quote, if, lambda, let, named let, begin, cond, define in a body,
# application, closures), each run in the global environment without defining a global.
SANITY = (("42", "42"), ("(+ 1 2)", "3"), ("(if #t 1 2)", "1"), ("(if #f 1 2)", "2"),
          ("((lambda (x) x) 5)", "5"), ("'(a b)", "(a b)"), ("\"s\"", "\"s\""),
          ("((lambda (x y) (+ x y)) 1 2)", "3"), ("((lambda args args) 1 2 3)", "(1 2 3)"),
          ("(((lambda (x) (lambda (y) (- x y))) 5) 2)", "3"),
          ("(let ((x 1) (y 2)) (+ x y))", "3"),
          ("(let count-up ((i 0) (acc 1)) (if (= i 3) acc (count-up (+ i 1) (* acc 2))))", "8"),
          ("(begin 1 2 3)", "3"), ("(cond (#f 1) ((= 1 1) 2) (else 3))", "2"),
          ("(cond (#f 1) (else 3))", "3"), ("(cond ((+ 1 1) => (lambda (v) (* v 10))))", "20"),
          ("((lambda () (define z 5) (+ z 1)))", "6"),
          ("(let ((y 2)) (define (f x) (* x y)) (f 3))", "6"))
SANITY_STEPS = 20_000       # per sanity test: a looping evaluator stops here
REGRESSION_CASES = 8        # previously solved problems re-run after a change (the latest ones)
REGRESSION_STEPS = 1_500    # per regression case (the round-1 budget); charged to the change
HANDLER_STEPS = 2_000       # evaluating a handler expression to a procedure


class EvalRefused(EvalError):
    """A change to the evaluator failed its checks; nothing was changed (guard can catch it)."""

    kind = "refused"


class EvaluatorUnreadable(EvalError):
    """A slot's stored source does not read back: that evaluator cannot be installed or shown."""

    kind = "unreadable evaluator"


QUOTE_HINT = ("quote it: (extend-eval! 'name '(lambda (expr env) ...)), "
              "(edit-eval! '(define (my-eval expr env) ...))")


def canonical(x: Any, who: str, what: str = "the new source") -> str:
    """`x`'s canonical text, refused unless it reads back as `x` (source, not live values)."""
    proc = _procedure_in(x)
    if proc is not None:
        raise EvalRefused(f"{who}: nothing changed: {what} holds a procedure value "
                          f"({_short(proc)}) where source is expected: {QUOTE_HINT}")
    text = write(x)
    try:
        back = read(text)
    except LispError as e:
        raise EvalRefused(f"{who}: nothing changed: {what} does not read back "
                          f"({e.message}): {QUOTE_HINT}") from None
    if not equal(back, x):
        raise EvalRefused(f"{who}: nothing changed: {what} does not read back as itself: "
                          f"{_short(x)}")
    return text


def _procedure_in(x: Any) -> Any:
    """The first procedure (or other live value written as #<...>) inside `x`, else None."""
    stack = [x]
    while stack:
        y = stack.pop()
        if isinstance(y, Procedure):
            return y
        if type(y) is Pair:
            stack.append(y.cdr)
            stack.append(y.car)
        elif isinstance(y, (list, tuple)):
            stack.extend(y)
    return None


def readable(text: str, what: str) -> Any:
    """`text` read as one form, or EvaluatorUnreadable naming `what` and the read error."""
    try:
        return read(text)
    except LispError as e:
        raise EvaluatorUnreadable(f"{what} cannot be read ({e.message}): "
                                  f"roll it back or edit it from a readable source") from None


def broken(slot: EvalSlot) -> str | None:
    """Why the slot's current evaluator or one of its natives cannot be read, else None."""
    v = slot.version()
    sources = ([(f"my-eval version {v.seq}", v.source)] if v is not None else []) + \
        [(f"the native {n.name}", n.source) for n in slot.natives.values()]
    for what, text in sources:
        try:
            readable(text, what)
        except EvaluatorUnreadable as e:
            return e.message
    return None


# Called after each kept change as fn(env, kind, symbol, source, note); the last one's
# non-None answer is the change's commit id. Empty by default: see `record`.
RECORDERS: list[Callable[..., Any]] = []


def record(env: Any, kind: str, name: str, source: str, note: str) -> Any:
    """The id of the history commit that recorded a kept change, or None.

    The change itself reaches history through the environment's define hooks,
    which get the change's kind (`extend-eval`, `edit-eval`, `defnative`):
    world/history's hook makes the atomic commit of that kind in the same
    transaction. This only finds its id, in the world's history if it keeps
    one (`root.history.latest(symbol)`), or asks RECORDERS (lineages).
    """
    commit = None
    for fn in RECORDERS:
        commit = fn(env, kind, name, source, note) or commit
    if commit is None:
        commit = _history_commit(env, kind, name)
    return commit


def _history_commit(env: Any, kind: str, name: str) -> Any:
    from ..objects import prims as world_prims
    w = world_prims.WORLDS.get(id(env))
    if w is None or w.env is not env:
        return None
    hist = getattr(w.image.root, "history", None)
    latest = hist.latest(name) if hist is not None else None
    if latest is None or getattr(latest, "kind", None) != kind:
        return None
    return getattr(latest, "id", None)


# ---------------------------------------------------------------- reading sources

def seed_forms() -> list[Any]:
    """The top-level forms of seed-eval.lisp."""
    return read_all(SEED_PATH.read_text(encoding="utf-8"), "seed-eval.lisp")


def defined_name(form: Any) -> Symbol | None:
    """The name a `(define (name ...) ...)` or `(define name ...)` defines, else None."""
    if type(form) is not Pair or form.car is not S_DEFINE or type(form.cdr) is not Pair:
        return None
    target = form.cdr.car
    target = target.car if type(target) is Pair else target
    return target if type(target) is Symbol else None


def defines(form: Any, name: Symbol) -> bool:
    """Is `form` a define of `name`?"""
    return defined_name(form) is name


def handled_forms(form: Any) -> tuple[str, ...]:
    """Special-form names an evaluator's source dispatches on, in order of appearance."""
    found: list[str] = []
    stack = [form]
    while stack:
        x = stack.pop()
        if type(x) is not Pair:
            continue
        name = _dispatch_name(x)
        if name is not None and name not in found:
            found.append(name)
        stack.extend(reversed(list(_elements(x))))
    return tuple(found)


def _elements(x: Pair) -> list[Any]:
    out = []
    while type(x) is Pair:
        out.append(x.car)
        x = x.cdr
    return out


def _quoted_symbol(x: Any) -> str | None:
    if (type(x) is Pair and x.car is S_QUOTE and type(x.cdr) is Pair
            and type(x.cdr.car) is Symbol and x.cdr.cdr is None):
        return x.cdr.car.name
    return None


def _dispatch_name(x: Pair) -> str | None:
    """N for a test `(form? e 'N)` or `(eq? (car e) 'N)`."""
    parts = _elements(x)
    if len(parts) != 3:
        return None
    if parts[0] is S_FORMP:
        return _quoted_symbol(parts[2])
    if parts[0] is S_EQ and type(parts[1]) is Pair and parts[1].car is S_CAR:
        return _quoted_symbol(parts[2])
    return None


# ---------------------------------------------------------------- running checked code

def _limits(steps: int) -> Any:
    return replace(budget.limits(), steps=steps)


def _value(env: Any, form: Any, steps: int | None = None) -> Any:
    limits = env.limits if steps is None else _limits(steps)
    return run(env, form, limits).value


def sanity(env: Any, extra: tuple[tuple[Any, Any], ...] = ()) -> str | None:
    """Run the sanity tests through env's my-eval; None if all pass, else why the first failed."""
    cases = [(read(src), read(want), src) for src, want in SANITY]
    cases += [(expr, want, write(expr)) for expr, want in extra]
    for expr, want, text in cases:
        why = _through_my_eval(env, expr, want, SANITY_STEPS, f"sanity test {text}")
        if why is not None:
            return why
    return None


def _through_my_eval(env: Any, expr: Any, want: Any, steps: int, what: str) -> str | None:
    """None if env's my-eval gives `want` for `expr` within `steps`, else why `what` failed."""
    call = make_list([MY_EVAL, make_list([S_QUOTE, expr]), make_list([S_QUOTE, None])])
    try:
        got = _value(env, call, steps)
    except Interrupted:
        raise
    except LispError as e:
        return f"{what} failed: {e.kind}: {e.message}"
    if not equal(got, want):
        return f"{what} failed: expected {_short(want)}, got {_short(got)}"
    return None


class _Quiet:
    """Bind names in env without running its define hooks; put them back on exit unless kept."""

    def __init__(self, env: Any, names: list[Symbol]) -> None:
        self.env, self.names, self.keep = env, names, False

    def __enter__(self) -> "_Quiet":
        env = self.env
        self.saved = {s: (env.ns.get(global_key(s)) if env.is_bound(s) else None, env.docs.get(s))
                      for s in self.names}
        self.hooks, env.hooks = env.hooks, []
        return self

    def __exit__(self, *exc: Any) -> None:
        env = self.env
        env.hooks = self.hooks
        if self.keep:
            return
        for sym, (value, doc) in self.saved.items():
            if value is None:
                env.ns.pop(global_key(sym), None)
            else:
                env.ns[global_key(sym)] = value
            if doc is None:
                env.docs.pop(sym, None)
            else:
                env.docs[sym] = doc


def _define_for_real(env: Any, form: Any, kind: str) -> Any:
    """Run the define hooks for an already bound definition, with `kind`."""
    target = form.cdr.car
    sym = target.car if type(target) is Pair else target
    value = env.lookup(sym)
    env._define(sym, value, form, kind, env.docs.get(sym))
    return value


# ---------------------------------------------------------------- changes

def adopt(env: Any, slot: EvalSlot, form: Any, kind: str, note: str, who: str,
          extra: tuple[tuple[Any, Any], ...] = (), construct: str | None = None) -> EvalVersion:
    """Make `form` (a define of my-eval) the current evaluator if it is readable source and
    passes the sanity tests and the regression tests; its behaviour table is kept with it.

    Validation is the host's work, except the regression tests on the new evaluator, which
    are charged to the running evaluation (a lineage pays for re-running its problems)."""
    with budget.host_work():
        if not defines(form, MY_EVAL):
            hint = f": {QUOTE_HINT}" if _procedure_in(form) is not None else ""
            raise EvalRefused(f"{who}: expected (define (my-eval expr env) ...), "
                              f"got {_short(form)}{hint}")
        source = canonical(form, who)
        names = probes.names(form, _current_form(slot), first=[construct] if construct else [])
        with budget.uncharged(), _sealed(env):  # observing is the harness's, memoised, harmless
            _observe_current(env, slot, names)
        with _sealed(env):
            cases = [c for c in regression_cases(slot) if _passes(env, c) is None]
    with _Quiet(env, [MY_EVAL]) as q:
        with budget.host_work():
            try:
                with _lifted(env):
                    _value(env, form, HANDLER_STEPS)
            except Interrupted:
                raise
            except LispError as e:
                raise EvalRefused(f"{who}: nothing changed: the new my-eval does not "
                                  f"compile: {e.kind}: {e.message}") from None
            if not isinstance(env.lookup(MY_EVAL), Procedure):
                raise EvalRefused(f"{who}: nothing changed: my-eval would not be a procedure")
            why = sanity(env, extra)
        if why is None:
            with _sealed(env):
                why = next(filter(None, (_passes(env, c, regression=True) for c in cases)), None)
        if why is not None:
            raise EvalRefused(f"{who}: nothing changed: {why}")
        with budget.uncharged(), _sealed(env):
            table = probes.table(lambda f, n: _value(env, f, n), names)
        q.keep = True
    with budget.host_work(), _lifted(env):   # recording the change (history, audit) is the host's
        _define_for_real(env, form, kind)
        commit = record(env, kind, MY_EVAL.name, source, note)
        return slot.add(kind, source, note, handled_forms(form), commit, table, tuple(names))


@contextmanager
def _lifted(env: Any) -> Iterator[None]:
    """The evaluator's own machinery rebinds the guarded evaluator names (see lineage_world)."""
    env.unguarded += 1
    try:
        yield
    finally:
        env.unguarded -= 1


@contextmanager
def _sealed(env: Any) -> Iterator[None]:
    """No global define or set! while probes and regression tests run: they observe only."""
    was, env.sealed = env.sealed, True
    try:
        yield
    finally:
        env.sealed = was


def _current_form(slot: EvalSlot) -> Any:
    """The current my-eval's source as data, or None if there is none or it does not read."""
    v = slot.version()
    try:
        return read(v.source) if v is not None else None
    except LispError:
        return None


def _observe_current(env: Any, slot: EvalSlot, names: list[str]) -> None:
    """Extend the current version's behaviour table to `names`, probing env's my-eval."""
    v = slot.version()
    if v is None:
        return
    missing = [n for n in names if n not in (v.probed or ())]
    if not missing:
        return
    seen = dict(v.behaviour or {})
    seen.update(probes.table(lambda f, n: _value(env, f, n), missing))
    v.behaviour, v.probed = seen, tuple(v.probed or ()) + tuple(missing)


def regression_cases(slot: EvalSlot) -> list[tuple[Any, str, str, str]]:
    """The latest problems the slot's lineage solved: (id, name, call text, expected text)."""
    solved = getattr(slot, "solved", None)
    if not solved:
        return []
    latest = sorted(solved.items(), key=lambda kv: kv[1][0], reverse=True)[:REGRESSION_CASES]
    return [(pid, name, call, expect) for pid, (_, name, call, expect) in latest]


def _passes(env: Any, case: tuple[Any, str, str, str], regression: bool = False) -> str | None:
    """None if the case's call gives its expected value through env's my-eval, else why not."""
    pid, name, call_text, expect_text = case
    try:
        expr, want = read(call_text), read(expect_text)
    except LispError:
        return None if regression else "unreadable"     # a damaged record tests nothing
    return _through_my_eval(env, expr, want, REGRESSION_STEPS,
                            f"regression test {call_text} (problem {pid}, {name}, solved before)")


def install(env: Any, slot: EvalSlot) -> None:
    """Make env's my-eval, its helpers and natives the slot's (the seed on first use)."""
    forms = seed_forms()
    # Unbound first, so its recursion compiles as a global call (is_bound: stored ones too).
    before = env.ns.pop(global_key(MY_EVAL), None) if env.is_bound(MY_EVAL) else None
    try:
        with _lifted(env):
            _install(env, slot, forms)
        for native in slot.natives.values():     # not evaluator names: never lifted
            _value(env, readable(native.source, f"the native {native.name} of {slot.name}"))
    except BaseException:
        if before is not None and global_key(MY_EVAL) not in env.ns:
            env.ns[global_key(MY_EVAL)] = before
        raise


def _install(env: Any, slot: EvalSlot, forms: list[Any]) -> None:
    if slot.current == 0:
        for form in forms:
            _value(env, form)
        seed = next(f for f in forms if defines(f, MY_EVAL))
        slot.add("seed", write(seed), "the seed evaluator", handled_forms(seed),
                 record(env, "define", MY_EVAL.name, write(seed), "the seed evaluator"))
        return
    for form in forms:
        sym = defined_name(form)
        if sym is not MY_EVAL and not (env.is_bound(sym) and type(env.lookup(sym)) is Closure):
            _value(env, form)
    v = slot.version()
    _value(env, readable(v.source, f"my-eval version {v.seq} of {slot.name}"))


def current(env: Any) -> Any:
    """The procedure bound to my-eval in env."""
    return env.ns.get(global_key(MY_EVAL)) if env.is_bound(MY_EVAL) else None


def source(slot: EvalSlot) -> Any:
    """The current my-eval's source as Lisp data (EvaluatorUnreadable if it does not read)."""
    v = slot.version()
    return readable(v.source, f"my-eval version {v.seq} of {slot.name}")


def _short(x: Any) -> str:
    text = write(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _cond_of(form: Any, who: str) -> tuple[list[Any], int, Pair]:
    """The body of a my-eval define and the index of its final cond."""
    target = form.cdr.car
    if type(target) is not Pair:
        raise EvalRefused(f"{who}: the current my-eval is not written (define (my-eval expr env) ...)")
    body = to_pylist(form.cdr.cdr)
    last = body[-1] if body else None
    if type(last) is not Pair or last.car is not S_COND:
        raise EvalRefused(f"{who}: the current my-eval does not end in a cond to extend")
    return body, len(body) - 1, last


def extend(env: Any, slot: EvalSlot, name: Any, handler: Any,
           test: tuple[Any, Any] | None = None) -> EvalVersion:
    """Add the special form `name`, handled by `handler`, before my-eval's final cond clause."""
    who = "extend-eval!"
    if type(name) is not Symbol:
        raise EvalRefused(f"{who}: the form's name must be a symbol, got {_short(name)}")
    if isinstance(handler, Procedure):
        raise EvalRefused(f"{who}: nothing changed: the handler is a procedure value "
                          f"({_short(handler)}), not its source: quote it: "
                          f"(extend-eval! '{name.name} '(lambda (expr env) ...))")
    with budget.host_work():
        args = _extended(env, slot, name, handler, test, who)
    return adopt(env, slot, *args)


def _extended(env: Any, slot: EvalSlot, name: Symbol, handler: Any,
              test: tuple[Any, Any] | None, who: str) -> tuple[Any, str, str, str, tuple, str]:
    """The arguments of `adopt` for extend: my-eval's source with the new clause, and the rest."""
    canonical(handler, who, "the handler")
    _check_handler(env, handler, who)
    form = source(slot)
    params = to_pylist(form.cdr.car.cdr) if type(form.cdr.car) is Pair else []
    if len(params) < 2 or not all(type(p) is Symbol for p in params[:2]):
        raise EvalRefused(f"{who}: the current my-eval does not take (expr env)")
    expr, envp = params[0], params[1]
    body, i, cond = _cond_of(form, who)
    clauses = to_pylist(cond.cdr)
    test_form = make_list([S_FORMP, expr, make_list([S_QUOTE, name])])
    clause = make_list([test_form, make_list([handler, expr, envp])])
    kept = [c for c in clauses if _clause_name(c) != name.name]
    at = len(kept) - 1 if kept and type(kept[-1]) is Pair and kept[-1].car is S_ELSE else len(kept)
    kept.insert(at, clause)
    body[i] = make_list([S_COND] + kept)
    new = Pair(S_DEFINE, Pair(form.cdr.car, make_list(body)))
    extra = (test,) if test is not None else ()
    return new, "extend-eval", f"add the special form {name.name}", who, extra, name.name


def _clause_name(clause: Any) -> str | None:
    """N for a cond clause testing `(form? e 'N)` or `(eq? (car e) 'N)`."""
    if type(clause) is Pair and type(clause.car) is Pair:
        return _dispatch_name(clause.car)
    return None


def _check_handler(env: Any, handler: Any, who: str) -> None:
    """Refuse a handler that is not a procedure of (expr env)."""
    try:
        value = _value(env, handler, HANDLER_STEPS)
    except Interrupted:
        raise
    except LispError as e:
        raise EvalRefused(f"{who}: nothing changed: the handler {_short(handler)} "
                          f"fails: {e.kind}: {e.message}") from None
    if not isinstance(value, Procedure):
        which = "" if _short(handler) == _short(value) else f", which is {_short(value)}"
        raise EvalRefused(f"{who}: nothing changed: the handler must be a procedure "
                          f"of (expr env), got {_short(handler)}{which}")
    if type(value) is Closure and type(value.tmpl.form) is Pair:
        params = value.tmpl.form.cdr.car
        fixed = 0
        while type(params) is Pair:
            fixed, params = fixed + 1, params.cdr
        if fixed > 2 or (fixed < 2 and params is None):
            raise EvalRefused(f"{who}: nothing changed: the handler must take "
                              f"(expr env), it takes {fixed} argument(s)")


def edit(env: Any, slot: EvalSlot, form: Any) -> EvalVersion:
    """Replace my-eval with `form`, a whole `(define (my-eval expr env) ...)`."""
    return adopt(env, slot, form, "edit-eval", "replace my-eval", "edit-eval!")


def rollback(env: Any, slot: EvalSlot, seq: Any) -> EvalVersion:
    """Make version `seq` current again, as a new version."""
    old = slot.version(seq) if type(seq) is int else None
    if old is None:
        raise EvalRefused(f"eval-rollback!: no version {_short(seq)}: versions are 1 to "
                          f"{slot.versions.maxKey() if len(slot.versions) else 0}")
    form = readable(old.source, f"my-eval version {seq}")
    return adopt(env, slot, form, "edit-eval", f"roll back to version {seq}",
                 "eval-rollback!")


def defnative(env: Any, slot: EvalSlot, name: Any, params: Any, body: Any) -> Symbol:
    """Define `name` as a helper that runs on the ground evaluator."""
    who = "defnative!"
    if type(name) is not Symbol:
        raise EvalRefused(f"{who}: the name must be a symbol, got {_short(name)}")
    if name is MY_EVAL:
        raise EvalRefused(f"{who}: my-eval is changed with extend-eval! or edit-eval!")
    if body is None:
        raise EvalRefused(f"{who}: {name.name} needs a body")
    cap = slot.max_natives
    if cap is not None and name.name not in slot.natives and len(slot.natives) >= cap:
        raise EvalRefused(f"{who}: refused: this evaluator may have at most {cap} natives")
    form = Pair(S_DEFINE, Pair(Pair(name, params), body))
    canonical(form, who)
    with _Quiet(env, [name]) as q:
        try:
            _value(env, form, HANDLER_STEPS)
        except Interrupted:
            raise
        except LispError as e:
            raise EvalRefused(f"{who}: nothing changed: {e.kind}: {e.message}") from None
        q.keep = True
    _define_for_real(env, form, "defnative")
    text = write(form)
    slot.add_native(name.name, text, record(env, "defnative", name.name, text, f"native {name.name}"))
    return name
