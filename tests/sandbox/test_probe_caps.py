"""Capabilities by grant: an environment holds only the groups it was given.

Probes of the capability model: what each kind of session is granted, what
`(sandbox ...)` lets a program hand to a child, and how audit rules are
confined to a per-world environment they cannot change.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

import world
from world.lisp.budget import Limits
from world.lisp.env import Environment
from world.lisp.errors import (BudgetExceeded, LispError, SandboxError, SandboxFailure,
                               UnboundVariable)
from world.lisp.primitives import CAPABILITIES, GROUPS, LINEAGE, OWNER, load, names_of
from world.lisp.reader import read
from world.lisp.runtime import run


def value(w: world.World, text: str) -> str:
    return world.write(w.eval(text))


def failure(w: world.World, text: str) -> LispError:
    with pytest.raises(LispError) as e:
        w.eval(text)
    assert "\n" not in str(e.value)
    return e.value


@pytest.fixture
def owner() -> world.World:
    return world.open(out=lambda text: None)


@pytest.fixture
def lineage() -> world.World:
    return world.open(out=lambda text: None, caps=LINEAGE)


# ---------------------------------------------------------------- the groups

def test_every_primitive_is_in_exactly_one_group() -> None:
    prims = load()
    owners: dict[str, list[str]] = {}
    for group, names in GROUPS.items():
        for n in names:
            owners.setdefault(n, []).append(group)
    assert set(owners) == set(prims)
    assert {n: g for n, g in owners.items() if len(g) != 1} == {}
    assert set(GROUPS) <= set(CAPABILITIES)


@pytest.mark.parametrize("name, group", [
    ("car", "core"), ("read", "core"), ("sandbox", "eval"), ("display", "output"),
    ("history/log", "reflect"), ("inspect", "reflect"), ("world/save-dev", "image"),
    ("world/rebuild", "image"), ("world/build-prod", "image"), ("commit", "image"),
    ("undefine", "image"), ("world/pack", "image"), ("world/restore", "image"),
    ("world/info", "host"), ("eval", "eval"), ("extend-eval!", "evaluator"),
    ("set-eval-mode!", "image"), ("my-eval/eval", "evaluator"),
    ("audit/defrule", "audit"), ("%record-make", "internal"),
])
def test_primitive_groups(name: str, group: str) -> None:
    load()
    assert name in GROUPS[group]


def test_nothing_is_granted_by_default() -> None:
    env = Environment()
    assert env.granted == frozenset()
    with pytest.raises(UnboundVariable):
        run(env, read("(+ 1 2)"))


def test_internal_cannot_be_granted() -> None:
    with pytest.raises(SandboxError, match="internal"):
        Environment(["internal"])


def test_unknown_capability_is_refused_not_ignored() -> None:
    with pytest.raises(SandboxError, match="unknown capability"):
        Environment(["core", "files"])


def test_owner_sessions_get_every_group_but_internal(owner: world.World) -> None:
    assert owner.env.granted == names_of(OWNER)
    assert not owner.env.granted & GROUPS["internal"]


# ---------------------------------------------------------------- lineage cells

@pytest.mark.parametrize("text", [
    '(world/save-dev "x.fs")', '(world/rebuild "x.fs" :human)', '(world/build-prod "p.fs")',
    '(world/save "s")', '(world/restore "s")', "(world/pack)", "(world/info)",
    '(commit "m")', "(undefine 'my-eval)", "(eval '(+ 1 2))", "(sandbox '(+ 1 2))",
    "(set-eval-mode! 'ground)", "(audit/set-tolerance! 0)",
    "(audit/run)", "(audit/defrule 'r :when (lambda (m) #t))",
])
def test_lineage_cells_cannot_reach_image_host_audit_or_ground_eval(lineage: world.World, text: str) -> None:
    assert isinstance(failure(lineage, text), UnboundVariable)


def test_lineage_cells_keep_core_output_reflect_evaluator(lineage: world.World) -> None:
    assert value(lineage, "(+ 1 2)") == "3"
    assert value(lineage, "(begin (display 1) 'ok)") == "ok"
    assert value(lineage, "(list? (history/log))") == "#t"
    assert value(lineage, "(eval-in my-eval '(* 6 7))") == "42"


def test_records_work_without_naming_their_internals(owner: world.World, lineage: world.World) -> None:
    for w in (owner, lineage):
        assert value(w, "(define-record pt x y) (pt-y (make-pt 1 2))") == "2"
        assert isinstance(failure(w, "(%record-make pt 1)"), UnboundVariable)
        assert isinstance(failure(w, "((eval (string->symbol \"%record-ref\")) pt 1 5)"
                                  if w is owner else "(%record-ref pt (make-pt 1 2) 7)"),
                          UnboundVariable)


def test_a_forged_record_type_cannot_be_built(owner: world.World) -> None:
    owner.eval("(define-record pt x y)")
    e = failure(owner, "(pt-x 5)")
    assert "expected a pt" in str(e)


# ---------------------------------------------------------------- (sandbox ...)

@pytest.mark.parametrize("text, expected", [
    ("(sandbox '(+ 1 2))", "3"),
    ("(sandbox '(map (lambda (x) (* x x)) '(1 2 3)))", "(1 4 9)"),
    ("(sandbox '(sandbox '(+ 1 1)) :caps [:core :eval])", "2"),
    ("(sandbox '(begin (display \"hi\") 7) :caps [:core :output])", "7"),
    ("(sandbox '(eval '(+ 2 3)) :caps [:core :eval])", "5"),
    ("(guard (e ((error-object? e) (error-object-message e))) (sandbox '(let loop () (loop)) :steps 1000))",
     '"sandbox: budget exceeded: step budget of 1000 exhausted"'),
    ("(guard (e ((error-object? e) 'caught)) (sandbox '(let loop ((x '())) (loop (cons 1 x))) :memory 100000))",
     "caught"),
    ("(guard (e ((error-object? e) 'caught)) (sandbox '(car 1)))", "caught"),
    ("(guard (e ((error-object? e) 'caught)) (sandbox '(display 1)))", "caught"),
])
def test_sandbox_values(owner: world.World, text: str, expected: str) -> None:
    assert value(owner, text) == expected


@pytest.mark.parametrize("text, kind", [
    ("(sandbox '(display 1))", UnboundVariable),
    ("(sandbox '(world/save-dev \"x.fs\"))", UnboundVariable),
    ("(sandbox '(eval 1))", UnboundVariable),
    ("(sandbox '(sandbox '1))", UnboundVariable),          # ground evaluation is granted, not inherited
    ("(sandbox '(sandbox '1 :caps [:core :output]) :caps [:core :eval])", SandboxFailure),
    ("(sandbox '1 :caps [:internal])", SandboxFailure),
    ("(sandbox '1 :caps [:files])", SandboxFailure),
    ("(sandbox '(lambda (x) x))", SandboxFailure),
    ("(sandbox (list (lambda () 1)))", SandboxFailure),
    ("(sandbox '1 :steps -5)", LispError),
    ("(sandbox '1 :steps 1.5e300)", LispError),
    ("(sandbox '1 :colour 1)", LispError),
    ("(sandbox '1 :seconds +nan.0)", LispError),
    ("(sandbox '1 :steps)", LispError),
])
def test_sandbox_refusals(owner: world.World, text: str, kind: type) -> None:
    assert isinstance(failure(owner, text), kind)


def test_a_sandbox_only_narrows_its_callers_grant(lineage: world.World) -> None:
    # a lineage is not granted ground evaluation at all; a grant that has it only narrows
    assert isinstance(failure(lineage, "(sandbox '(+ 1 2))"), UnboundVariable)
    w = world.open(out=lambda text: None, caps=("core", "eval"))
    assert isinstance(failure(w, "(sandbox '(world/info) :caps [:core :host])"), SandboxFailure)
    assert isinstance(failure(w, "(sandbox '(display 1) :caps [:output])"), SandboxFailure)
    assert value(w, "(sandbox '(eval '(+ 1 2)) :caps [:core :eval])") == "3"


def test_sandbox_steps_are_charged_to_the_caller(owner: world.World) -> None:
    bare = owner.eval_form(read("(+ 1 2)")).steps
    r = owner.eval_form(read("(sandbox '(let loop ((i 0)) (if (< i 5000) (loop (+ i 1)) i)))"))
    assert r.value == 5000 and r.steps > bare + 5000


def test_a_sandbox_cannot_outlast_its_caller(owner: world.World) -> None:
    """Asking for more than the caller has left gives the caller's remainder; running
    it out stops the caller, and guard cannot catch that."""
    t0 = time.monotonic()
    with pytest.raises(BudgetExceeded):
        owner.eval("(guard (e (#t 'caught)) (sandbox '(let loop () (loop)) :steps 100000000000))",
                   steps=200_000)
    assert time.monotonic() - t0 < 5


def test_a_sandbox_cannot_outlast_its_callers_time() -> None:
    w = world.open(out=lambda text: None, limits=Limits(seconds=0.5, steps=10**12))
    t0 = time.monotonic()
    with pytest.raises(BudgetExceeded) as e:
        w.eval("(guard (e (#t 'caught)) (sandbox '(let loop () (loop)) :seconds 1000))")
    assert e.value.budget == "time"
    assert time.monotonic() - t0 < 3


def test_sandbox_output_counts_against_the_caller() -> None:
    w = world.open(out=lambda text: None, limits=Limits(output=100))
    with pytest.raises(BudgetExceeded) as e:
        w.eval("(sandbox '(let loop () (display \"xxxxxxxxxx\") (loop)) :caps [:core :output])")
    assert e.value.budget == "output"


# ---------------------------------------------------------------- audit rules

def test_a_rule_cannot_rebind_globals(tmp_path: Path) -> None:
    w = world.open(tmp_path / "a.fs", out=lambda text: None)
    w.eval('(defrule poison :category :x :severity :warning '
           ':when (lambda (m) (set! not (lambda (x) #t)) #f) :message "m")')
    w.eval("(define (f x) x)")
    found = value(w, "(audit/violations 'f)")
    assert "poison" in found and "sealed" in found
    assert value(w, "(not #f)") == "#t"
    w.close()


def test_one_worlds_rules_never_reach_anothers(tmp_path: Path) -> None:
    a = world.open(tmp_path / "a.fs", out=lambda text: None)
    b = world.open(tmp_path / "b.fs", out=lambda text: None)
    a.eval('(defrule def-it :category :x :severity :warning '
           ':when (lambda (m) (define leaked 1) #f) :message "m")')
    a.eval("(define (f x) x)")
    b.eval("(define (g x) x)")
    assert "rule-error" not in value(b, "(audit/violations 'g)")
    a.close()
    b.close()


def test_a_rule_cannot_hold_world_state(tmp_path: Path) -> None:
    w = world.open(tmp_path / "a.fs", out=lambda text: None)
    w.eval("(define counter (box 0))")
    w.eval('(define spy (let ((b counter)) (lambda (m) (set-box! b (+ 1 (unbox b))) #f)))')
    w.eval('(defrule spying :category :x :severity :warning :when spy :message "m")')
    w.eval("(define (f x) x)")
    assert value(w, "(unbox counter)") == "0"
    assert "may capture only plain data" in value(w, "(audit/violations 'f)")
    w.close()


@pytest.mark.parametrize("body", ["(display 1)", "(eval 1)", "(world/info)", "(history/log)"])
def test_rules_are_granted_core_only(tmp_path: Path, body: str) -> None:
    w = world.open(tmp_path / "a.fs", out=lambda text: None)
    w.eval(f'(defrule r :category :x :severity :warning :when (lambda (m) {body} #f) :message "m")')
    w.eval("(define (f x) x)")
    assert "unbound variable" in value(w, "(audit/violations 'f)")
    w.close()


def test_a_box_that_holds_itself_crosses_as_data(owner: world.World) -> None:
    assert value(owner, "(define b (box 0)) (set-box! b b) (box? (sandbox (list 'quote b)))") == "#t"


def test_a_procedure_hidden_in_a_record_is_refused(owner: world.World) -> None:
    owner.eval("(define-record holder x)")
    # a primitive the caller holds may be handed over, as in an object-capability system
    assert value(owner, "((holder-x (sandbox (list 'quote (make-holder car)))) '(1 2))") == "1"
    assert isinstance(failure(owner, "(sandbox (list 'quote (make-holder (lambda () 1))))"), SandboxFailure)


def test_capabilities_names_the_grant(owner: world.World, lineage: world.World) -> None:
    assert value(owner, "(capabilities)") == ("(:audit :cartridge :companion :core :eval :evaluator :host :image :net "
                                             ":output :reflect :simulate)")
    assert value(lineage, "(capabilities)") == "(:core :evaluator :output :reflect)"
    assert value(owner, "(sandbox '(capabilities))") == "(:core)"


# ---------------------------------------------------------------- host work on a program's behalf

FIB = "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))"


def test_steps_are_the_same_after_reopening_the_image(tmp_path: Path) -> None:
    """Compiling a procedure loaded from the image is loading, not the program's work."""
    path = tmp_path / "w.fs"
    with world.open(path, out=lambda text: None) as w:
        w.eval(FIB)
        first = w.eval_form(read("(fib 12)")).steps
    with world.open(path, out=lambda text: None) as w:
        again = w.eval_form(read("(fib 12)")).steps
    assert again == first


def test_recording_a_definition_is_counted_as_host_work(owner: world.World) -> None:
    r = owner.eval_form(read(FIB))
    assert 0 < r.host <= r.steps


def test_an_evolution_cell_is_scored_without_the_hosts_recording() -> None:
    from world.evolve.meta import Meta
    from world.evolve.scratchpad import Scratchpad
    w = world.open(out=lambda text: None, caps=LINEAGE)
    pad = Scratchpad(1, "p")
    w._change(lambda: Meta(w.env, pad, 1500).run(FIB), "cell")
    whole = w.eval_form(read(FIB.replace("fib", "fob"))).steps
    assert pad.steps() < whole


def test_a_sandboxs_definitions_stay_inside(owner: world.World) -> None:
    assert value(owner, "(sandbox '(begin (define x 1) x))") == "1"
    assert isinstance(failure(owner, "x"), UnboundVariable)


# ---------------------------------------------------------------- host facts through reflect

@pytest.mark.parametrize("text", [
    "(history/log)", "(history/show 1)", "(history/milestones)", "(history/pending)",
    "(eval-history)", "(inspect :history)", "(inspect :world)", "(inspect 'f)", "(inspect :evaluator)",
])
def test_reading_the_world_does_not_hand_out_the_clock_or_the_user(lineage: world.World, text: str) -> None:
    """`reflect` is not `host`: times, authors and paths are left out of what it shows."""
    lineage.eval("(define (f x) x)")
    shown = value(lineage, text)
    for fact in (":time", ":author", ":created", ":last-transaction", ":path", ":where"):
        assert fact not in shown, (fact, shown[:200])


def test_the_owner_sees_the_host_facts(owner: world.World) -> None:
    owner.eval("(define (f x) x)")
    assert ":time" in value(owner, "(history/log 'f)")
    assert ":author" in value(owner, "(history/milestones)")
    assert ":path" in value(owner, "(inspect :world)")
