"""R7RS compatibility: define-record-type (persisted across reopen), import of the
libraries the world provides (and refusal of the absent ones), define-library's
refusal, and eval with environment specifiers (also in a lineage, through my-eval)."""
from __future__ import annotations

from pathlib import Path

import pytest

import world
from world.lisp import runtime
from world.lisp.env import Environment
from world.lisp.errors import LispError, LispSyntaxError, LispTypeError
from world.lisp.primitives import LINEAGE, OWNER, RULES
from world.lisp.reader import read

PARE = "(define-record-type <pare> (kons x y) pare? (x kar set-kar!) (y kdr))"


def ev(source: str) -> str:
    return world.write(world.open(out=lambda t: None).eval(source))


def err(source: str) -> LispError:
    with pytest.raises(LispError) as info:
        world.open(out=lambda t: None).eval(source)
    return info.value


@pytest.mark.parametrize("src, want", [
    (PARE + "(list (pare? (kons 1 2)) (pare? (cons 1 2)) (kar (kons 1 2)) (kdr (kons 1 2))"
     " (let ((k (kons 1 2))) (set-kar! k 3) (kar k)))", "(#t #f 1 2 3)"),
    ("(define-record-type pt (mk y) pt? (x px set-px!) (y py)) (let ((p (mk 2))) (list (px p) (py p)))",
     "(#f 2)"),
    ("(define-record-type pt #f pt? (x px)) (list (pt? 1) (procedure? px))", "(#f #t)"),
    ("(define-record-type <cell> (mk v) cell? (v cell-v))"
     " (guard (e ((error-object? e) 'raised)) (cell-v 5))", "raised"),
    (PARE + "(define-record-type <other> (kons2 x y) other? (x okar) (y okdr)) (pare? (kons2 1 2))", "#f"),
    ("(import (scheme base) (scheme write) (scheme char)) (+ 1 2)", "3"),
    ("(import (scheme cxr)) (cadddr (list 1 2 3 4))", "4"),
    ("(eval '(* 7 3) (environment '(scheme base)))", "21"),
    ("(let ((f (eval '(lambda (f x) (f x x)) (environment '(scheme base))))) (f + 10))", "20"),
    ("(eval '(+ 1 2) (interaction-environment))", "3"),
    ("(eval ''a (null-environment 5))", "a"),
    ("(define z 4) (eval '(* z 2) (scheme-report-environment 5))", "8"),
])
def test_values(src: str, want: str) -> None:
    assert ev(src) == want


@pytest.mark.parametrize("src, kind, text", [
    ("(define-record-type <p> (mk z) p? (x px))", LispSyntaxError, "constructor field z is not a field"),
    ("(define-record-type <p> (mk x) p? (x px) (x py))", LispSyntaxError, "field x appears twice"),
    ("(define-record-type <p> (mk x) p? (x p?))", LispSyntaxError, "p? is defined twice"),
    ("(define-record-type <p> (mk x) p? (x))", LispSyntaxError, "(field accessor)"),
    ("(define-record-type <p>)", LispSyntaxError, "expected (define-record-type"),
    ("(import (scheme file))", LispSyntaxError, "absent by design"),
    ("(import (scheme process-context))", LispSyntaxError, "absent by design"),
    ("(import (scheme time))", LispSyntaxError, "absent by design"),
    ("(import (scheme load))", LispSyntaxError, "absent by design"),
    ("(import (srfi 1))", LispSyntaxError, "unknown library (srfi 1)"),
    ("(import (prefix (scheme base) b:))", LispSyntaxError, "write (import (scheme base))"),
    ("(define-library (mine) (export f))", LispSyntaxError, "definitions at top level"),
    ("(environment '(scheme file))", LispError, "absent by design"),
    ("(eval 1 2)", LispTypeError, "expected an environment"),
    ("(scheme-report-environment 7)", LispTypeError, "expected 5"),
])
def test_errors_are_one_line(src: str, kind: type, text: str) -> None:
    e = err(src)
    assert isinstance(e, kind) and text in str(e) and "\n" not in str(e), str(e)


def test_misuse_is_a_syntax_error_at_line_and_column() -> None:
    for src, where in [("(define x 1)\n  (let () (define-record-type <p> (mk x) p? (x px)) 1)", "2:11"),
                       ("(define x 1)\n (import (scheme time))", "2:2"),
                       ("\n\n(define-record-type <p> (mk x) p? 5)", "3:1")]:
        e = err(src)
        assert isinstance(e, LispSyntaxError) and str(e).startswith(where), (src, str(e))


@pytest.mark.parametrize("caps", [OWNER, LINEAGE, RULES])
def test_forms_and_specifiers_need_only_core(caps: tuple[str, ...]) -> None:
    env = Environment(caps)
    for src in (PARE, "(import (scheme base))"):
        runtime.run(env, read(src))
    out = world.write(runtime.run(env, read("(list (kar (kons 1 2)) (interaction-environment))")).value)
    assert out == "(1 #<environment name=interaction>)"


def test_eval_with_a_specifier_stays_in_the_sandbox() -> None:
    assert "unbound" in str(err("(sandbox '(eval '(+ 1 2) (interaction-environment)))"))
    assert ev("(sandbox '(list (environment '(scheme base))))") == "(#<environment name=standard>)"


def test_records_and_specifiers_persist_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "w.fs"
    w = world.open(path, out=lambda t: None)
    w.eval(PARE)
    w.eval("(define k (kons 1 2))")
    w.eval("(set-kar! k 10)")
    w.eval("(define e (interaction-environment))")
    w.close()
    w = world.open(path, out=lambda t: None)
    assert world.write(w.eval("(list (pare? k) (kar k) (kdr k) (eval '(kar k) e))")) == "(#t 10 2 10)"
    # redefined with another field: the stored instance follows it (as define-record's do)
    w.eval("(define-record-type <pare> (kons x y z) pare? (x kar) (y kdr) (z kz))")
    assert world.write(w.eval("(list (pare? k) (kar k) (kz k))")) == "(#t 10 #f)"
    assert w.eval("(history/verify)") is not False
    w.close()
    w = world.open(path, out=lambda t: None)
    assert world.write(w.eval("(list (kar k) (kz k))")) == "(10 #f)"
    w.close()


def test_a_lineage_eval_with_a_specifier_goes_through_my_eval(tmp_path: Path) -> None:
    from world.evolve.lineage import Lineage, evolve_root, lineage_world
    from world.evolve.scratchpad import Scratchpad
    from world.evolve.seeding import install, seed_source
    from world.evolve.workspace import Workspace
    with world.open(tmp_path / "w.fs") as w:
        lin = Lineage("t", 1, 0, seed_source())
        evolve_root(w.image).hall["t/1"] = lin
        w.image.tm.commit()
        lw = lineage_world(w.image, lin)
        install(lw, lin.seed)
        ws = Workspace(lw, Scratchpad("p"))
        try:
            def run(text: str) -> tuple[str, str, int]:
                out = ws.run_cell(world.read(text), text, 10_000_000)
                return out.kind, out.result, out.steps
            plain = run("(eval '(+ 1 2))")
            spec = run("(eval '(+ 1 2) (interaction-environment))")
            assert plain[:2] == spec[:2] == ("CODE", "3")
            assert spec[2] >= plain[2]          # at my-eval's price, never the ground's
            assert run("(eval '(+ 1 2) (environment '(scheme base)))")[:2] == ("CODE", "3")
        finally:
            lw.close()
