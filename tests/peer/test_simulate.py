"""`(simulate ...)`: a frame procedure over a state in a narrowed child sandbox
(world/lisp/primitives/simulate.py): the result, nesting to depth 3, the child's grant,
budget shares, and what may cross."""
from __future__ import annotations

from pathlib import Path

import pytest

import world
from world.lisp.errors import BudgetExceeded, LispError, SandboxFailure, UnboundVariable
from world.lisp.primitives import LINEAGE


def value(w: world.World, text: str, steps: int | None = None) -> str:
    return world.write(w.eval(text, steps=steps))


def failure(w: world.World, text: str, kind: type = LispError, steps: int | None = None) -> LispError:
    with pytest.raises(kind) as e:
        w.eval(text, steps=steps)
    assert "\n" not in str(e.value) and "Traceback" not in str(e.value)
    return e.value


@pytest.fixture
def owner() -> world.World:
    return world.open(out=lambda text: None)


STEP = "(define (step s x) (assoc s :n (+ (get s :n) x)))"

# A frame that nests D levels of simulation and returns the deepest depth it saw.
NEST = """(define (nest d)
  (if (= d 1)
      (lambda (s x) 0)
      (lambda (s x) (let ((r (simulate :initial-state 0 :frame (nest (- d 1)) :inputs '(1))))
                      (max (get r :depth) (get r :state))))))"""


# ---------------------------------------------------------------- the result

def test_the_result_holds_name_final_state_every_frame_steps_and_depth(owner: world.World) -> None:
    owner.eval(STEP)
    got = value(owner, '(simulate :name "t" :initial-state {:n 0} :frame step :inputs (list 1 2 3))')
    assert got.startswith('{:depth 1 :frames ({:n 1} {:n 3} {:n 6}) :name "t" :state {:n 6} :steps ')
    assert value(owner, "(get (simulate :initial-state {:n 0} :frame step :inputs [5]) :name)") \
        == '"simulation"'
    assert int(value(owner, "(get (simulate :initial-state {:n 0} :frame step :inputs [5]) :steps)")) > 0


@pytest.mark.parametrize("n, frames, state", [(0, "()", "0"), (2, "(1 3)", "3"), (4, "(1 3 6 10)", "10"),
                                              (99, "(1 3 6 10)", "10")])
def test_return_after_frames_stops_after_n_frames(owner: world.World, n: int, frames: str, state: str) -> None:
    r = f"(simulate :initial-state 0 :frame + :inputs [1 2 3 4] :return-after-frames {n})"
    assert value(owner, f"(list (get {r} :frames) (get {r} :state))") == f"({frames} {state})"


def test_output_of_a_frame_is_the_callers(owner: world.World) -> None:
    seen: list[str] = []
    w = world.open(out=seen.append)
    w.eval("(simulate :initial-state 0 :frame (lambda (s x) (display x) (+ s x)) :inputs '(7 8))")
    assert "".join(seen) == "78"


# ---------------------------------------------------------------- nesting

@pytest.mark.parametrize("d", [1, 2, 3])
def test_simulations_nest_to_depth_three(owner: world.World, d: int) -> None:
    owner.eval(NEST)
    r = f"(simulate :initial-state 0 :frame (nest {d}) :inputs '(1))"
    assert value(owner, f"(max (get {r} :depth) (get {r} :state))") == str(d)


def test_depth_four_is_one_guardable_line_and_the_world_goes_on(owner: world.World) -> None:
    owner.eval(NEST)
    e = failure(owner, "(simulate :initial-state 0 :frame (nest 4) :inputs '(1))", SandboxFailure)
    assert e.message == "simulate: depth 4 exceeds the limit of 3"
    assert value(owner, "(guard (e (#t (error-object-message e))) "
                        "(simulate :initial-state 0 :frame (nest 4) :inputs '(1)))") \
        == '"sandbox: simulate: depth 4 exceeds the limit of 3"'
    assert value(owner, "(get (simulate :initial-state 0 :frame (nest 3) :inputs '(1)) :depth)") == "1"


def test_a_sandbox_inside_a_simulation_does_not_reset_the_depth(owner: world.World) -> None:
    inner = "(quote (simulate :initial-state 0 :frame (lambda (s x) s) :inputs (quote (1))))"
    owner.eval(f"""(define (deep d)
      (lambda (s x)
        (if (= d 0)
            (sandbox {inner} :caps [:core :simulate])
            (get (simulate :initial-state 0 :frame (deep (- d 1)) :inputs '(1)
                           :caps [:core :eval :simulate]) :depth))))""")
    assert value(owner, "(get (simulate :initial-state 0 :frame (deep 1) :inputs '(1) "
                        ":caps [:core :eval :simulate]) :depth)") == "1"
    e = failure(owner, "(simulate :initial-state 0 :frame (deep 2) :inputs '(1) :caps [:core :eval :simulate])",
                SandboxFailure)
    assert "depth 4 exceeds the limit of 3" in e.message


# ---------------------------------------------------------------- the child's grant

def test_the_child_is_granted_core_output_and_simulate_by_default(owner: world.World) -> None:
    frame = "(lambda (s x) (capabilities))"
    assert value(owner, f"(get (simulate :initial-state 0 :frame {frame} :inputs '(1)) :state)") \
        == "(:core :output :simulate)"
    assert value(owner, f"(get (simulate :initial-state 0 :frame {frame} :inputs '(1) :caps [:core]) :state)") \
        == "(:core)"


def test_asked_caps_are_cut_to_what_the_caller_holds() -> None:
    w = world.open(out=lambda text: None, caps=("core", "simulate"))
    frame = "(lambda (s x) (capabilities))"
    assert value(w, f"(get (simulate :initial-state 0 :frame {frame} :inputs '(1) "
                    ":caps [:core :output :image :host]) :state)") == "(:core)"


def test_a_frame_calling_output_it_was_not_granted_fails(owner: world.World) -> None:
    e = failure(owner, "(simulate :initial-state 0 :frame (lambda (s x) (display x) s) :inputs '(1) "
                       ":caps [:core])", UnboundVariable)
    assert e.name() == "display"


def test_an_owner_procedure_cannot_reach_owner_only_primitives_from_inside(owner: world.World) -> None:
    owner.eval("(define (peek s x) (inspect :peers) s)")
    e = failure(owner, "(simulate :initial-state 0 :frame peek :inputs '(1))", UnboundVariable)
    assert e.name() == "inspect"
    assert "the caller's inspect stays outside the simulation" in str(e)
    # through an alias, a helper, or a captured primitive: never the owner's grant
    owner.eval("(define look inspect)")
    owner.eval("(define (helper) (look :peers))")
    owner.eval("(define (peek2 s x) (helper) s)")
    assert failure(owner, "(simulate :initial-state 0 :frame peek2 :inputs '(1))",
                   UnboundVariable).name() == "look"
    owner.eval('(define saver (let ((save world/save)) (lambda (s x) (save "x") s)))')
    e = failure(owner, "(simulate :initial-state 0 :frame saver :inputs '(1))", SandboxFailure)
    assert "captures the primitive world/save, which the simulation is not granted" in e.message
    # a primitive as the frame, or in the data, is refused too
    assert "not granted" in failure(owner, "(simulate :initial-state 0 :frame inspect :inputs '(1))").message
    assert "holds a procedure" in failure(owner, "(simulate :initial-state 0 :frame (lambda (s x) (x :peers)) "
                                                 ":inputs (list inspect))", SandboxFailure).message


def test_the_frame_works_on_copies_of_the_callers_globals(owner: world.World) -> None:
    owner.eval("(define counter 0)")
    owner.eval("(define (tick s x) (set! counter (+ counter x)) counter)")
    assert value(owner, "(get (simulate :initial-state 0 :frame tick :inputs '(1 2 3)) :state)") == "6"
    assert value(owner, "counter") == "0"


def test_helpers_and_macros_loaded_from_an_image_are_carried(tmp_path: Path) -> None:
    path = tmp_path / "w.fs"
    w = world.open(path, out=lambda text: None)
    w.eval("(defmacro twice (x) (list 'begin x x))")
    w.eval("(define (bump n) (+ n 1))")
    w.eval("(define (frame s x) (twice (set! s (bump s))) (+ s x))")
    w.close()
    w = world.open(path, out=lambda text: None)
    try:
        assert value(w, "(get (simulate :initial-state 0 :frame frame :inputs '(10 20)) :frames)") == "(12 34)"
    finally:
        w.close()


def test_a_lineage_is_not_granted_simulate() -> None:
    w = world.open(out=lambda text: None, caps=LINEAGE)
    e = failure(w, "(simulate :initial-state 0 :frame + :inputs '(1))", UnboundVariable)
    assert e.name() == "simulate"


# ---------------------------------------------------------------- budgets

LOOP = "(lambda (s x) (let loop ((i 0)) (loop (+ i 1))))"


def test_running_out_of_the_childs_share_is_guardable(owner: world.World) -> None:
    got = value(owner, f"(guard (e (#t (error-object-message e))) "
                       f"(simulate :initial-state 0 :frame {LOOP} :inputs '(1)))", steps=200_000)
    assert got.startswith('"sandbox: simulate simulation: frame 1: budget exceeded: step budget of')
    # the child's share is at most half of what was left, and every step was charged to the caller
    assert 100_000 <= owner.last.steps < 200_000
    got = value(owner, f"(guard (e (#t 'caught)) (simulate :initial-state 0 :frame {LOOP} :inputs '(1) "
                       ":steps 5000))", steps=200_000)
    assert got == "caught" and owner.last.steps < 20_000


@pytest.mark.parametrize("asked", ["", ":steps 100000000000"])
def test_running_out_of_the_callers_own_budget_stops_the_caller(owner: world.World, asked: str) -> None:
    # by default the child gets half; asking for more than the caller has left makes it the caller's
    nested = f"(simulate :initial-state 0 :frame {LOOP} :inputs '(1) {asked})"
    text = f"(guard (e (#t 'caught)) {nested})"
    if asked:
        failure(owner, text, BudgetExceeded, steps=100_000)
    else:
        assert value(owner, text, steps=100_000) == "caught"


def test_a_share_of_memory_that_runs_out_is_guardable(owner: world.World) -> None:
    got = value(owner, "(guard (e (#t (error-object-message e))) (simulate :initial-state 0 "
                       ":frame (lambda (s x) (make-list 100000 s)) :inputs '(1) :memory 10000))")
    assert "memory budget of" in got


def test_nested_shares_halve_and_are_charged_up_the_chain(owner: world.World) -> None:
    owner.eval(f"(define (outer s x) (guard (e (#t 'inner-ran-out)) "
               f"(simulate :initial-state 0 :frame {LOOP} :inputs '(1))))")
    assert value(owner, "(get (simulate :initial-state 0 :frame outer :inputs '(1)) :state)",
                 steps=400_000) == "inner-ran-out"
    assert 100_000 <= owner.last.steps < 400_000


# ---------------------------------------------------------------- what crosses

@pytest.mark.parametrize("opts, what", [
    (":initial-state (lambda () 1) :frame + :inputs '(1)", ":initial-state holds a procedure"),
    (":initial-state {:k car} :frame + :inputs '(1)", ":initial-state holds a procedure"),
    (":initial-state 0 :frame + :inputs (list (lambda () 1))", ":inputs holds a procedure"),
    (":initial-state 0 :frame (lambda (s x) (lambda () s)) :inputs '(1)",
     "the state after frame 1 holds a procedure"),
    (":initial-state 0 :frame (lambda (s x) (vector car)) :inputs '(1)",
     "the state after frame 1 holds a procedure"),
])
def test_only_data_crosses(owner: world.World, opts: str, what: str) -> None:
    assert what in failure(owner, f"(simulate {opts})", SandboxFailure).message


def test_a_continuation_cannot_be_carried_in(owner: world.World) -> None:
    e = failure(owner, "(call/cc (lambda (k) (simulate :initial-state 0 :frame (lambda (s x) (k 5)) "
                       ":inputs '(1))))", SandboxFailure)
    assert "holds a continuation" in e.message


DEEP = "(let loop ((i 0) (acc '())) (if (= i 200000) acc (loop (+ i 1) (list acc))))"


def test_a_huge_deep_state_is_metered_without_host_recursion(owner: world.World) -> None:
    got = value(owner, f"(let ((deep {DEEP})) (length (get (simulate :initial-state deep "
                       f":frame (lambda (s x) (list s)) :inputs '(1 2)) :frames)))")
    assert got == "2"
    # each frame's state is walked for procedures, charged to the child's share: it runs out
    e = failure(owner, f"(let ((deep {DEEP})) (simulate :initial-state deep :frame (lambda (s x) s) "
                       f":inputs (make-list 50 0)))", SandboxFailure, steps=3_000_000)
    assert "budget exceeded: step budget of" in e.message
    # deep data a frame captures does not read back at the reader's depth: refused in one line
    e = failure(owner, f"(let ((deep {DEEP})) (simulate :initial-state 0 :frame (lambda (s x) (car deep)) "
                       f":inputs '(1)))", SandboxFailure)
    assert e.message.startswith("simulate: cannot carry into the simulation")
    assert value(owner, "(+ 1 2)") == "3"


# ---------------------------------------------------------------- bad options

@pytest.mark.parametrize("opts, line", [
    (":initial-state 0 :frame + :inputs '(1) :bogus 2", "simulate: unknown option :bogus"),
    (":initial-state 0 :frame + :inputs", "simulate: options come in pairs, :key value"),
    (":initial-state 0 :frame + :inputs 5", "simulate: :inputs expects a list or a vector of inputs"),
    (":initial-state 0 :frame + :inputs '(1 . 2)", "simulate: :inputs expects a list or a vector"),
    (":initial-state 0 :frame + :inputs '(1) :return-after-frames -1",
     "simulate: :return-after-frames expects a non-negative integer"),
    (":initial-state 0 :frame + :inputs '(1) :return-after-frames 1.5",
     "simulate: :return-after-frames expects a non-negative integer"),
    (":initial-state 0 :frame 5 :inputs '(1)", "simulate: :frame expects a procedure of (state input)"),
    (":initial-state 0 :inputs '(1)", "simulate: :frame is required"),
    (":frame + :inputs '(1)", "simulate: :initial-state is required"),
    (":initial-state 0 :frame + :inputs '(1) :frame +", "simulate: option :frame given twice"),
    (':name 5 :initial-state 0 :frame + :inputs \'(1)', "simulate: :name expects a string"),
    (":initial-state 0 :frame + :inputs '(1) :steps -5", "simulate: :steps expects a non-negative integer"),
    (":initial-state 0 :frame + :inputs '(1) :caps [:bogus]", "unknown capability :bogus"),
    ("0 :frame + :inputs '(1)", "simulate: options come in pairs"),
    (":initial-state 0 :frame + :inputs '(1) 5 6", "simulate: unknown option; expected one of"),
])
def test_bad_options_are_one_line_each(owner: world.World, opts: str, line: str) -> None:
    e = failure(owner, f"(simulate {opts})")
    assert line in e.message
    assert value(owner, "(+ 1 2)") == "3"


def test_many_frames_run_in_one_child_evaluation(owner: world.World) -> None:
    got = value(owner, "(let ((r (simulate :initial-state 0 :frame + :inputs (iota 20000)))) "
                       "(list (get r :state) (length (get r :frames))))")
    assert got == "(199990000 20000)"


def test_a_peer_style_fresh_environment_granted_simulate_runs_it_within_its_limits() -> None:
    from world.lisp.budget import Limits
    from world.lisp.env import Environment
    from world.lisp.reader import read
    from world.lisp.runtime import run
    env = Environment(("core", "simulate"), Limits(steps=100_000))
    r = run(env, read("(simulate :initial-state 0 :frame (lambda (s x) (capabilities)) :inputs '(1) "
                      ":caps [:core :output :image])"))
    assert world.write(r.value.get(world.read(":state"))) == "(:core)"
    with pytest.raises(BudgetExceeded):
        run(env, read(f"(guard (e (#t 'caught)) (simulate :initial-state 0 :frame {LOOP} :inputs '(1) "
                      ":steps 1000000))"))
