"""Probes: a paused evaluation is data, not pickle.

Each probe hands `Suspension.from_bytes`/`from_text`/`resume` something an
attacker could write and asserts one clean Lisp error (or an inert result):
no host code runs, no Python exception escapes, and a resumed evaluation
never gets more capabilities or budget than its resumer grants.
"""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from world.lisp import runtime
from world.lisp.budget import Limits
from world.lisp.env import Environment
from world.lisp.errors import BudgetExceeded, EvalError, LispError, ReadError, SandboxError
from world.lisp.printer import write
from world.lisp.reader import read_all
from world.lisp.suspend import FORMAT, Suspension, resume, start

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = """
(define (count-to n acc) (if (= n 0) acc (count-to (- n 1) (+ acc 1))))
(display "a ")
(define x (count-to 3000 0))
(display x)
(+ x (count-to 2000 0))
"""


def env_with(setup: str = "", caps: tuple[str, ...] = ("core", "output")) -> Environment:
    env = Environment(caps)
    for form in read_all(setup):
        runtime.run(env, form)
    return env


def paused(k: int, text: str = PROGRAM, setup: str = "",
           caps: tuple[str, ...] = ("core", "output")) -> Suspension:
    result, susp = start(env_with(setup, caps), text, pause_at=k)
    assert result is None and susp is not None
    return susp


def doc(program: str = "1", **env: object) -> dict:
    """A minimal well-formed document, with environment parts overridden."""
    e = {"gensyms": 0, "objects": [], "globals": [], "macros": [], "docs": []}
    e.update(env)
    return {"format": FORMAT, "program": program, "step": 0, "delivered": 0,
            "limits": {"steps": 100_000}, "capabilities": ["core", "output"], "environment": e}


def load(d: dict) -> Suspension:
    return Suspension.from_text(json.dumps(d))


def one_line(e: LispError) -> str:
    text = str(e)
    assert "\n" not in text and "Traceback" not in text
    return text


# ---------------------------------------------------------------- no host code

class _Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_pickle_payload_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SandboxError) as e:
        Suspension.from_bytes(pickle.dumps(_Boom()))
    assert "suspension refused" in one_line(e.value)
    assert not (tmp_path / "PWNED").exists()


def test_host_names_in_the_program_are_inert(tmp_path: Path) -> None:
    susp = load(doc(f'(__import__ "os") (system "touch {tmp_path}/PWNED")'))
    with pytest.raises(EvalError) as e:
        resume(susp)
    assert "unbound" in one_line(e.value)
    assert not (tmp_path / "PWNED").exists()


def test_host_names_in_a_procedure_source_are_inert() -> None:
    obj = {"procedure": {"name": "f", "self": True, "captured": [],
                         "source": '(lambda () (__import__ "os"))'}}
    susp = load(doc("(f)", objects=[obj], globals=[{"name": "f", "value": {"ref": 0}}]))
    with pytest.raises(EvalError, match="unbound"):
        resume(susp)


def test_a_procedure_source_that_is_not_a_lambda_is_refused() -> None:
    obj = {"procedure": {"name": "f", "self": False, "captured": [],
                         "source": "(begin (display 1) 2)"}}
    susp = load(doc("1", objects=[obj], globals=[{"name": "f", "value": {"ref": 0}}]))
    with pytest.raises(SandboxError, match="not a lambda"):
        resume(susp)


# ---------------------------------------------------------------- capped by the resumer

def test_capabilities_are_capped_by_the_resumer() -> None:
    d = doc("(eval '(+ 1 2))")
    d["capabilities"] = ["core", "output", "eval"]
    with pytest.raises(EvalError, match="unbound variable: eval"):
        resume(load(d))
    assert resume(load(d), env_caps=("core", "eval")).value == 3


def test_a_primitive_value_needs_the_resumers_grant() -> None:
    d = doc("(e '(+ 1 2))", globals=[{"name": "e", "value": {"primitive": "eval"}}])
    d["capabilities"] = ["core", "eval"]
    with pytest.raises(SandboxError, match="eval, which is not granted"):
        resume(load(d))


def test_limits_are_capped_by_the_resumer() -> None:
    d = doc("(let loop ((i 0)) (if (< i 1000000) (loop (+ i 1)) i))")
    d["limits"] = {"steps": 10**15, "seconds": 1e9}
    t = time.monotonic()
    with pytest.raises(BudgetExceeded) as e:
        resume(load(d), limits=Limits(steps=50_000))
    assert e.value.budget == "steps" and time.monotonic() - t < 5


def test_a_macro_that_loops_while_rebuilding_stops_on_the_resumers_budget() -> None:
    objects = [{"procedure": {"name": "m", "self": False, "captured": [],
                              "source": "(lambda () (let loop () (loop)))"}},
               {"procedure": {"name": "f", "self": True, "captured": [],
                              "source": "(lambda () (m))"}}]
    d = doc("(f)", objects=objects, macros=[{"name": "m", "value": {"ref": 0}}],
            globals=[{"name": "f", "value": {"ref": 1}}])
    t = time.monotonic()
    with pytest.raises(BudgetExceeded):
        resume(load(d), limits=Limits(steps=100_000, seconds=2))
    assert time.monotonic() - t < 5


# ---------------------------------------------------------------- pausing and resuming

@pytest.fixture(scope="module")
def whole() -> runtime.Result:
    result, susp = start(env_with(), PROGRAM, pause_at=10**12)
    assert susp is None
    return result


def test_a_resumed_evaluation_can_pause_again(whole: runtime.Result) -> None:
    first = paused(whole.steps // 4)
    second = resume(Suspension.from_text(first.to_text()), pause_at=whole.steps // 2)
    assert isinstance(second, Suspension) and second.step == whole.steps // 2
    assert second.caps == ("core", "output")
    last = resume(Suspension.from_bytes(second.to_bytes()))
    assert (last.value, last.steps) == (whole.value, whole.steps)
    assert first.output + second.output + last.output == whole.output


def test_pausing_again_must_be_later() -> None:
    susp = paused(100)
    with pytest.raises(SandboxError, match="after step 100"):
        resume(susp, pause_at=50)


RESUME = """
import sys
from world.lisp import runtime
from world.lisp.printer import write
susp = runtime.Suspension.from_bytes(open(sys.argv[1], "rb").read())
r = runtime.resume(susp)
print(write(r.value), r.steps, repr(r.output))
"""


def test_resume_in_a_fresh_process(whole: runtime.Result, tmp_path: Path) -> None:
    setup = "(define k 7) (define add-k (let ((n k)) (lambda (x) (+ x n))))"
    text = "(display (add-k 1)) " + PROGRAM
    env = env_with(setup)
    full, _ = start(env, text, pause_at=10**12)
    _, susp = start(env_with(setup), text, pause_at=full.steps // 2)
    path = tmp_path / "s.json"
    path.write_bytes(susp.to_bytes())
    proc = subprocess.run([sys.executable, "-c", RESUME, str(path)], cwd=tmp_path,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    value, steps, output = proc.stdout.split(" ", 2)
    assert (value, int(steps)) == (write(full.value), full.steps)
    assert full.output[:susp.delivered] + eval(output) == full.output


def test_shared_state_and_cycles_survive_the_round_trip() -> None:
    setup = """(define counter (let ((n 0)) (lambda () (set! n (+ n 1)) n)))
               (define same counter)
               (define even (letrec ((ev (lambda (n) (if (= n 0) #t (od (- n 1)))))
                                     (od (lambda (n) (if (= n 0) #f (ev (- n 1)))))) ev))
               (counter)"""
    text = "(counter) (list (counter) (same) (even 10) (eq? counter same))"
    result, _ = start(env_with(setup), text, pause_at=10**9)
    susp = paused(5, text, setup)
    again = resume(Suspension.from_text(susp.to_text()))
    assert write(again.value) == write(result.value) == "(3 4 #t #t)"


def test_an_environment_without_source_cannot_be_suspended() -> None:
    env = env_with("(define k (call/cc (lambda (k) k)))")
    with pytest.raises(SandboxError, match="cannot suspend: k holds a"):
        start(env, "1", pause_at=1)


def test_a_huge_shared_structure_is_refused_quickly() -> None:
    env = env_with("(define d (let loop ((i 0) (x '())) (if (= i 60) x (loop (+ i 1) (cons x x)))))")
    t = time.monotonic()
    with pytest.raises(SandboxError, match="data nodes"):
        start(env, "1", pause_at=1)
    assert time.monotonic() - t < 10


# ---------------------------------------------------------------- malformed documents

def _deep(n: int) -> str:
    return "[" * n + "]" * n


MALFORMED = {
    "wrong version": json.dumps(dict(doc(), format="world-suspension/99")),
    "not an object": "[1, 2, 3]",
    "not JSON": "(+ 1 2)",
    "step not a count": json.dumps(dict(doc(), step="10")),
    "negative delivered": json.dumps(dict(doc(), delivered=-1)),
    "boolean step": json.dumps(dict(doc(), step=True)),
    "huge number": json.dumps(doc()).replace('"step": 0', '"step": ' + "9" * 5000),
    "NaN limit": json.dumps(doc()).replace('"steps": 100000', '"steps": NaN'),
    "infinite limit": json.dumps(doc()).replace('"steps": 100000', '"steps": 1e999'),
    "unknown limit": json.dumps(dict(doc(), limits={"cpu": 1})),
    "unknown field": json.dumps(dict(doc(), snapshot="gASV")),
    "deep nesting": json.dumps(doc()).replace('"program": "1"', '"program": ' + _deep(100_000)),
    "unknown capability": json.dumps(dict(doc(), capabilities=["core", "root"])),
    "internal capability": json.dumps(dict(doc(), capabilities=["internal"])),
    "ref out of range": json.dumps(doc(globals=[{"name": "f", "value": {"ref": 3}}])),
    "value with two keys": json.dumps(doc(globals=[{"name": "f", "value": {"ref": 0, "void": True}}])),
    "boxed without a box": json.dumps(doc(objects=[{"procedure": {
        "name": "f", "self": False, "source": "(lambda () n)",
        "captured": [{"var": "n", "boxed": True, "value": {"datum": "1"}}]}}])),
    "name with a newline": json.dumps(doc(globals=[{"name": "f\nTraceback", "value": {"void": True}}])),
    "macro that is data": json.dumps(doc(macros=[{"name": "m", "value": {"datum": "1"}}])),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_documents_are_one_clean_error(case: str) -> None:
    with pytest.raises(SandboxError) as e:
        Suspension.from_text(MALFORMED[case])
    one_line(e.value)


def test_bytes_that_are_not_utf8_are_refused() -> None:
    with pytest.raises(SandboxError, match="UTF-8"):
        Suspension.from_bytes(b"\xff\xfe{}")


@pytest.mark.parametrize("text", ["(((", '"unterminated', "#<procedure car>"])
def test_program_text_that_does_not_read(text: str) -> None:
    with pytest.raises(ReadError):
        resume(load(doc(text)))


def test_datum_text_that_does_not_read() -> None:
    d = doc("x", globals=[{"name": "x", "value": {"datum": "#<environment>"}}])
    with pytest.raises(ReadError):
        resume(load(d))
