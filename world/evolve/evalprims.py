"""The evaluator's Lisp face: eval-in, extend-eval!, edit-eval!, defnative!,
show-eval, eval-history, eval-rollback!, and the world's evaluation mode.

They act on the evaluator of the environment running them: a lineage's
slot if one was bound to it (`slot.bind`), else the world's. The seed is
installed on first use: until then `my-eval` is bound to a small procedure
that installs it and then hands over, so `(eval-in my-eval '(+ 1 2))` works
in a brand-new world. `(set-eval-mode! 'my-eval)` makes every plain
top-level form of the world go through my-eval (`route`); the default is the
ground evaluator. Even then a top-level form headed by a macro, or by a
special form the current my-eval does not handle (defmacro, do, set!...),
runs on the ground, so the world stays fully usable.
"""
from __future__ import annotations

from typing import Any

from ..lisp.analyze import SPECIAL
from ..lisp import budget
from ..lisp.calls import call
from ..lisp.errors import LispError, LispTypeError, SandboxError
from ..lisp.primitives import primitive
from ..lisp.reader import read
from ..lisp.runtime import run
from ..lisp.types import (VOID, Closure, Keyword, LispMap, Pair, Primitive, Procedure, Symbol,
                          make_list)
from ..objects import prims as world_prims
from ..objects.image import iso
from . import ablations  # noqa: F401  registers the refusals a lineage may have stored
from . import evaluator as ev
from .ground import running_env
from .slot import BOUND, SETTINGS_KEY, EvalSlot, world_slot

MODE_KEY = "evolve/mode"
MODES = ("ground", "my-eval")
QUOTE = Symbol("quote")
DEFNATIVE = Symbol("defnative!")
DEFNATIVE_MACRO = ("(lambda (name params . body) "
                   "(list 'evolve/defnative! (list 'quote name) (list 'quote params) "
                   "(list 'quote body)))")


def slot_for(env: Any) -> EvalSlot:
    """The evaluator slot of `env`: its lineage's, or its world's."""
    slot = BOUND.get(env)
    if slot is not None:
        return slot
    w = world_prims.WORLDS.get(id(env))
    if w is None or w.env is not env:
        raise SandboxError("this environment has no evaluator: it is neither a world's nor a lineage's")
    return world_slot(w.image.root)


def ensure(env: Any) -> EvalSlot:
    """The slot of `env`, with its evaluator installed in `env`."""
    slot = slot_for(env)
    if slot.current == 0 or type(ev.current(env)) is not Closure:
        ev.install(env, slot)
    return slot


@primitive("my-eval/first-use", group="evaluator")
def first_use(expr: Any, env: Any = None) -> Any:
    """(my-eval expr env) before the seed is installed: install it, then evaluate."""
    e = running_env()
    with budget.host_work():        # installing the seed is the host's work
        ensure(e)
    return call(ev.current(e), expr, env)


FIRST_USE = Primitive.registry["my-eval/first-use"]


@primitive("eval-in", group="evaluator")
def eval_in(evaluator: Any, expr: Any) -> Any:
    """(eval-in my-eval expr) -> expr evaluated by evaluator in the global environment."""
    if not isinstance(evaluator, Procedure):
        raise LispTypeError("eval-in: expected an evaluator procedure such as my-eval")
    return call(evaluator, expr, None)


@primitive("extend-eval!", group="evaluator")
def extend_eval(name: Any, handler: Any, test: Any = VOID, expected: Any = VOID) -> int:
    """(extend-eval! 'name '(lambda (expr env) ...) [test expected]) adds a special form; -> version."""
    env = running_env()
    check = None if test is VOID else (test, expected)
    with budget.host_work():        # installing the seed is the host's work
        slot = ensure(env)
    # Validating the change is the host's too, but for the regression tests (see ev.adopt).
    return ev.extend(env, slot, name, handler, check).seq


@primitive("edit-eval!", group="evaluator")
def edit_eval(form: Any) -> int:
    """(edit-eval! '(define (my-eval expr env) ...)) replaces the evaluator; -> version."""
    env = running_env()
    with budget.host_work():
        slot = ensure(env)
    return ev.edit(env, slot, form).seq


@primitive("eval-rollback!", group="evaluator")
def eval_rollback(seq: Any) -> int:
    """(eval-rollback! n) makes version n current again, as a new version; -> its number."""
    env = running_env()
    with budget.host_work():
        slot = ensure(env)
    return ev.rollback(env, slot, seq).seq


@primitive("evolve/defnative!", group="evaluator")
def defnative(name: Any, params: Any, body: Any) -> Symbol:
    """(evolve/defnative! 'name 'params 'body) what (defnative! name params body...) expands to."""
    env = running_env()
    with budget.host_work():
        return ev.defnative(env, ensure(env), name, params, body)


@primitive("show-eval", group="reflect")
def show_eval() -> Any:
    """(show-eval) -> the current my-eval's source."""
    return ev.source(ensure(running_env()))


@primitive("eval-history", group="reflect")
def eval_history() -> Any:
    """(eval-history) -> my-eval's versions, oldest first, each a map."""
    slot = ensure(running_env())
    return make_list([_version_map(v, slot.current) for v in slot.history()])


def _version_map(v: Any, current: int) -> LispMap:
    d = world_prims.host_facts({"version": v.seq, "kind": v.kind, "note": v.note, "time": iso(v.time),
                                "forms": make_list([Symbol(f) for f in v.forms]),
                                "commit": False if v.commit is None else v.commit,
                                "current": v.seq == current})
    return LispMap((Keyword(k), x) for k, x in d.items())


@primitive("eval-natives", group="reflect")
def eval_natives() -> Any:
    """(eval-natives) -> the names of the helpers defined with defnative!."""
    return make_list([Symbol(n) for n in ensure(running_env()).natives.keys()])


@primitive("eval-constructs", group="reflect")
def eval_constructs() -> Any:
    """(eval-constructs) -> special forms added since the seed: ((name version commit) ...)."""
    slot = ensure(running_env())
    return make_list([make_list([Symbol(n), seq, False if commit is None else commit])
                      for n, (seq, commit, _) in slot.constructs.items()])


def describe(env: Any) -> LispMap:
    """The evaluator of `env` as data, for `(inspect :evaluator)`: current version, forms,
    discovered constructs with their commits, natives, how many versions, the mode."""
    slot = slot_for(env)
    v = slot.version()
    w = world_prims.WORLDS.get(id(env))
    mode = w.image.root.settings.get(MODE_KEY, "ground") if w is not None and w.env is env else "ground"
    constructs = [LispMap([(Keyword("name"), Symbol(n)), (Keyword("version"), seq),
                           (Keyword("commit"), False if commit is None else commit),
                           (Keyword("time"), iso(t))])
                  for n, (seq, commit, t) in slot.constructs.items()]
    return LispMap([(Keyword("slot"), slot.name), (Keyword("installed"), v is not None),
                    (Keyword("version"), v.seq if v else 0),
                    (Keyword("kind"), v.kind if v else False),
                    (Keyword("forms"), make_list([Symbol(f) for f in (v.forms if v else ())])),
                    (Keyword("constructs"), make_list(constructs)),
                    (Keyword("natives"), make_list([Symbol(n) for n in slot.natives.keys()])),
                    (Keyword("versions"), len(slot.versions)), (Keyword("mode"), Symbol(mode))])


@primitive("evaluator-info", group="reflect")
def evaluator_info() -> LispMap:
    """(evaluator-info) -> the evaluator as data: version, forms, constructs, natives, mode."""
    return describe(running_env())


@primitive("eval-mode", group="reflect")
def eval_mode() -> Symbol:
    """(eval-mode) -> ground or my-eval: which evaluator runs the world's top-level forms."""
    w = _world("eval-mode")
    return Symbol(w.image.root.settings.get(MODE_KEY, "ground"))


@primitive("set-eval-mode!", group="image")
def set_eval_mode(mode: Any) -> Symbol:
    """(set-eval-mode! 'my-eval) or (set-eval-mode! 'ground) for the world's top-level forms."""
    w = _world("set-eval-mode!")
    name = mode.name if type(mode) is Symbol else mode
    if name not in MODES:
        raise LispTypeError("set-eval-mode!: expected 'ground or 'my-eval")
    if name == "my-eval":
        ensure(w.env)
    w.image.root.settings[MODE_KEY] = name
    return Symbol(name)


def _world(who: str) -> Any:
    env = running_env()
    w = world_prims.WORLDS.get(id(env))
    if w is None or w.env is not env:
        raise SandboxError(f"{who}: this evaluation is not running in a world")
    return w


# ---------------------------------------------------------------- attaching to a world

def prepare(env: Any) -> None:
    """Bind the first-use my-eval and the defnative! macro in env if it has none."""
    if not env.is_bound(ev.MY_EVAL):      # asks a lazily bound world's store too
        env.define(ev.MY_EVAL, FIRST_USE)
    if DEFNATIVE not in env.macros:
        env.macros[DEFNATIVE] = run(env, read(DEFNATIVE_MACRO)).value


def route(world: Any, form: Any) -> Any:
    """The form to run for a top-level `form`: through my-eval when the world says so."""
    if world.image.root.settings.get(MODE_KEY, "ground") != "my-eval":
        return form
    if type(form) is Pair and type(form.car) is Symbol:
        if form.car in world.env.macros:
            return form     # macros (defnative!, the world's own) belong to the ground
        if form.car in SPECIAL:
            version = world_slot(world.image.root).version()
            if version is not None and form.car.name not in version.forms:
                return form     # a special form my-eval does not handle (defmacro, do...)
    return make_list([ev.MY_EVAL, make_list([QUOTE, form]), make_list([QUOTE, None])])


def attach(world: Any) -> None:
    """Give `world` its evaluator primitives' state and top-level routing."""
    prepare(world.env)
    world.route = lambda form: route(world, form)


# ---------------------------------------------------------------- a lineage's record

def remember_solved(world: Any, task: Any) -> None:
    """Record in `world`'s evaluator slot that `task` was solved: later changes re-run it."""
    slot = world_slot(world.image.root)
    world._change(lambda: slot.remember(task.id, task.name, task.call_text, task.expect_text),
                  f"evolve: problem {task.id} joins the regression tests")


def change_mark(world: Any) -> int:
    """The newest evaluator version of `world`, to compare against after a cell (`earned`)."""
    return world_slot(world.image.root).last()


def earned(world: Any, mark: int) -> bool:
    """Did a change since `mark` make my-eval do something new (see world/evolve/probes.py)?"""
    return world_slot(world.image.root).earned_since(mark) > 0


def evaluator_failure(world: Any, seed: str = "") -> str | None:
    """Why a lineage's evaluator cannot be used (its seed, its my-eval or a native does not
    read back), else None: such a lineage is marked failed and the run goes on."""
    if seed:
        try:
            read(seed)
        except LispError as e:
            return f"its seed evaluator cannot be read ({e.message})"
    slot = world.image.root.settings.get(SETTINGS_KEY)
    why = ev.broken(slot) if slot is not None else None
    return f"its evaluator cannot be read: {why}" if why else None
