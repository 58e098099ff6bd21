"""R7RS control features (4.2 derived expressions, 5.3 define-values, 6.10 control,
6.11 exceptions): tables of (source, expected printed value), syntax errors with
line and column, budgets inside the new forms, sandboxes, lineages and persistence."""
from __future__ import annotations

import pytest

import world
from world.lisp import runtime
from world.lisp.env import Environment
from world.lisp.errors import (ArityError, BudgetExceeded, EvalError, LispError, LispSyntaxError,
                               LispTypeError, SandboxFailure)
from world.lisp.primitives import LINEAGE, OWNER, RULES
from world.lisp.reader import read

NOTE = "(define out '()) (define (note x) (set! out (cons x out))) "


def ev(source: str, **kw: object) -> str:
    """Evaluate `source` in a fresh world; the written form of the last value."""
    return world.write(world.open(out=lambda t: None).eval(source, **kw))


def err(source: str, **kw: object) -> LispError:
    with pytest.raises(LispError) as info:
        world.open(out=lambda t: None).eval(source, **kw)
    return info.value


VALUES = [
    # multiple values
    ("(call-with-values (lambda () (values 1 2)) +)", "3"),
    ("(call-with-values (lambda () (values)) list)", "()"),
    ("(call-with-values (lambda () 5) list)", "(5)"),
    ("(call-with-values * -)", "-1"),
    ("(values 7)", "7"),
    ("(let-values (((root rem) (values 17 2)) ((x . y) (values 1 2 3)) (all (values 4 5)))"
     " (list root rem x y all))", "(17 2 1 (2 3) (4 5))"),
    ("(let ((a 'a) (b 'b) (x 'x) (y 'y)) (let*-values (((a b) (values x y)) ((x y) (values a b)))"
     " (list a b x y)))", "(x y x y)"),
    ("(let ((a 1)) (let-values (((a b) (values 10 a))) (list a b)))", "(10 1)"),
    ("(let-values () 5)", "5"),
    ("(define-values (a b . c) (values 1 2 3 4)) (list a b c)", "(1 2 (3 4))"),
    ("(define-values all (values 1 2)) all", "(1 2)"),
    ("(define-values () (values)) 1", "1"),
    ("(define (f) (define-values (q r) (values 1 2)) (define s 3) (+ q r s)) (f)", "6"),
    ("(call-with-values (lambda () (call/cc (lambda (k) (k 1 2)))) list)", "(1 2)"),
    # dynamic-wind
    (NOTE + "(dynamic-wind (lambda () (note 'in)) (lambda () (note 'body) 5)"
     " (lambda () (note 'out))) (reverse out)", "(in body out)"),
    (NOTE + "(guard (e (#t (note (list 'caught e)))) (dynamic-wind (lambda () (note 'in))"
     " (lambda () (raise 'boom)) (lambda () (note 'out)))) (reverse out)", "(in out (caught boom))"),
    (NOTE + "(call/cc (lambda (k) (dynamic-wind (lambda () (note 'in)) (lambda () (k 1))"
     " (lambda () (note 'out))))) (reverse out)", "(in out)"),
    (NOTE + "(guard (e (#t 'x)) (dynamic-wind (lambda () (note 'in)) (lambda () (car 1))"
     " (lambda () (note 'out)))) (reverse out)", "(in out)"),
    (NOTE + "(dynamic-wind (lambda () (note 1)) (lambda () (dynamic-wind (lambda () (note 2))"
     " (lambda () (note 3)) (lambda () (note 4)))) (lambda () (note 5))) (reverse out)", "(1 2 3 4 5)"),
    # handlers run where the raise is: inside the dynamic-wind, before it unwinds
    (NOTE + "(with-exception-handler (lambda (e) (note (list 'handler e)) 99) (lambda ()"
     " (dynamic-wind (lambda () (note 'in)) (lambda () (+ 1 (raise-continuable 'c)))"
     " (lambda () (note 'out))))) (reverse out)", "(in (handler c) out)"),
    # parameters
    ("(define p (make-parameter 10 (lambda (x) (* x 2)))) (list (p) (parameterize ((p 3)) (p)) (p))",
     "(20 6 20)"),
    ("(define p (make-parameter 1)) (define (f) (p))"
     " (list (parameterize ((p 2)) (list (f) (parameterize ((p 3)) (f)) (f))) (f))", "((2 3 2) 1)"),
    ("(define p (make-parameter 1)) (define q (make-parameter 2))"
     " (parameterize ((p 10) (q (p))) (list (p) (q)))", "(10 1)"),
    ("(define p (make-parameter 1)) (list (call/cc (lambda (k) (parameterize ((p 2)) (k (p))))) (p))",
     "(2 1)"),
    ("(define p (make-parameter 1)) (list (guard (e (#t (p))) (parameterize ((p 2)) (raise 'x))) (p))",
     "(1 1)"),
    ("(define p (make-parameter 1)) (with-exception-handler (lambda (e) (p))"
     " (lambda () (parameterize ((p 2)) (raise-continuable 'x))))", "2"),
    ("(define (f) (define p (make-parameter 0)) (parameterize ((p 5)) (p))) (f)", "5"),
    # promises
    ("(force (delay (+ 1 2)))", "3"),
    ("(let ((p (delay (+ 1 2)))) (list (force p) (force p)))", "(3 3)"),
    ("(define n 0) (define p (delay (begin (set! n (+ n 1)) n))) (force p) (force p) n", "1"),
    ("(define count 0) (define p (delay (begin (set! count (+ count 1))"
     " (if (> count x) count (force p))))) (define x 5) (list (force p) (begin (set! x 10) (force p)))",
     "(6 6)"),
    ("(define (stream-drop s n) (delay-force (if (= n 0) s (stream-drop (cdr (force s)) (- n 1)))))"
     " (define (from n) (delay (cons n (from (+ n 1))))) (car (force (stream-drop (from 0) 20000)))",
     "20000"),
    ("(force (delay-force (delay 3)))", "3"),
    ("(force (make-promise 3))", "3"),
    ("(let ((p (delay 1))) (eq? p (make-promise p)))", "#t"),
    ("(list (promise? (delay 1)) (promise? (make-promise 1)) (promise? 1) (promise? (lambda () 1)))",
     "(#t #t #f #f)"),
    ("(force 5)", "5"),
    ("(delay 1)", "#<promise>"),
    # case-lambda
    ("(define plus (case-lambda ((a) a) ((a b) (+ a b)) ((a b . rest) (apply plus (+ a b) rest))))"
     " (list (plus 1) (plus 1 2) (plus 1 2 3 4))", "(1 3 10)"),
    ("((case-lambda (args args)) 1 2)", "(1 2)"),
    ("((case-lambda (() 'none) ((x . r) 'some)))", "none"),
    ("(define f (case-lambda (() 0) ((n) (if (= n 0) 'done (f (- n 1)))))) (f 100000)", "done"),
    ("(let ((args 5)) ((case-lambda ((x) args)) 1))", "5"),
    # case with =>, cond/case expansions do not capture user names
    ("(case 5 ((5) => (lambda (x) (* x 2))) (else 0))", "10"),
    ("(case 6 ((5) 1) (else => (lambda (x) (list x))))", "(6)"),
    ("(case (* 2 3) ((2 3 5 7) 'prime) ((1 4 6 8 9) 'composite))", "composite"),
    ("(let ((case-key 5)) (case 1 ((1) case-key)))", "5"),
    ("(let ((cond-value 5)) (cond (1 => (lambda (x) cond-value))))", "5"),
    # do, when, unless, letrec*
    ("(do ((acc '() (cons i acc)) (i 0 (+ i 1))) ((= i 5) acc))", "(4 3 2 1 0)"),
    ("(let ((x '(1 3 5 7 9))) (do ((x x (cdr x)) (sum 0 (+ sum (car x)))) ((null? x) sum)))", "25"),
    ("(list (when (= 1 1) 'a 'b) (unless (= 1 2) 'c))", "(b c)"),
    ("(letrec* ((p (lambda (x) (+ 1 (q (- x 1))))) (q (lambda (y) (if (zero? y) 0 (+ 1 (p (- y 1))))))"
     " (x (p 5)) (y x)) y)", "5"),
    # exceptions
    ("(guard (e (#t (error-object-message e))) (error \"boom\" 1))", '"boom"'),
    ("(guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'a 42))))", "42"),
    ("(guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'b 23))))", "(b . 23)"),
    ("(guard (e ((symbol? e) 'outer)) (guard (e ((string? e) 'inner)) (raise 'x)))", "outer"),
    ("(with-exception-handler (lambda (e) 42) (lambda () (+ (raise-continuable 'c) 23)))", "65"),
    ("(with-exception-handler (lambda (e) 10)"
     " (lambda () (guard (e (#t (list 'guard e))) (raise-continuable 1))))", "(guard 1)"),
    ("(guard (e (#t (list 'outer e))) (with-exception-handler (lambda (e) (raise (list 'wrapped e)))"
     " (lambda () (raise 'x))))", "(outer (wrapped x))"),
    ("(guard (e (#t (error-object-message e))) (with-exception-handler (lambda (e) (car e))"
     " (lambda () (raise 'x))))", '"type error: car: expected a pair, got a symbol"'),
    ("(with-exception-handler (lambda (e) (list 'outer e)) (lambda () (with-exception-handler"
     " (lambda (e) (raise-continuable (list 'inner e))) (lambda () (raise-continuable 1)))))",
     "(outer (inner 1))"),
    ("(call/cc (lambda (k) (with-exception-handler (lambda (e) (k (list 'caught"
     " (error-object-message e)))) (lambda () (car 1)))))",
     '(caught "type error: car: expected a pair, got an integer")'),
    ("(call/cc (lambda (k) (with-exception-handler (lambda (e) (k (list 'caught e)))"
     " (lambda () (+ 1 (raise 'oops))))))", "(caught oops)"),
    ("(guard (e ((error-object? e) (list (error-object-message e) (error-object-irritants e))))"
     " (with-exception-handler (lambda (e) (error \"again\" e)) (lambda () (raise 1))))", '("again" (1))'),
    ("(guard (e ((read-error? e) 'read-error)) (read \"(1 2\"))", "read-error"),
    ("(guard (e ((read-error? e) 'read-error)) (read \")\"))", "read-error"),
    ("(list (read-error? 1) (file-error? 1) (file-error? (guard (e (#t e)) (error \"x\"))))", "(#f #f #f)"),
    # call/cc, apply, map with several lists, equivalence
    ("(call/cc (lambda (k) (+ 1 (k 42))))", "42"),
    ("(call-with-current-continuation (lambda (k) (for-each (lambda (x) (if (negative? x) (k x)))"
     " '(54 0 37 -3 245 19)) #t))", "-3"),
    ("(apply + 1 2 '(3 4))", "10"),
    ("(map + '(1 2 3) '(10 20 30 40))", "(11 22 33)"),
    ("(let ((v '())) (for-each (lambda (a b) (set! v (cons (* a b) v))) '(1 2) '(3 4)) v)", "(8 3)"),
    ("(list (boolean=? #t #t) (boolean=? #f #f #t) (symbol=? 'a 'a 'a) (symbol=? 'a 'b))",
     "(#t #f #t #f)"),
    ("(list (assoc 2.0 '((1 a) (2 b)) =) (member 2.0 '(1 2 3) =))", "((2 b) (2 3))"),
    # cond-expand
    ("(cond-expand ((and r7rs (not foo)) 'yes) (else 'no))", "yes"),
    ("(cond-expand ((or foo (library (scheme base))) 'lib) (else 'no))", "lib"),
    ("(cond-expand ((library (scheme file)) 'file) ((library (srfi 1)) 'srfi) (else 'no))", "no"),
    ("(cond-expand (foo 1))", "#<void>"),
    ("(memq 'r7rs (features))", "(r7rs exact-closed ratios full-unicode world)"),
    # printing
    ("(values 1 \"a\")", '#<values 1 "a">'), ("(values)", "#<values>"),
    ("(list (values 1 2))", "(#<values 1 2>)"),
    ("(make-parameter 1)", "#<parameter>"),
]


@pytest.mark.parametrize("source,expected", VALUES)
def test_value(source: str, expected: str) -> None:
    assert ev(source) == expected


ERRORS = [
    ("(let-values (((a b) (values 1))) a)", ArityError, "expected 2 values, got 1"),
    ("(let-values (((a b) (values 1 2 3))) a)", ArityError, "expected 2 values, got 3"),
    ("(define-values (a b . c) 1)", ArityError, "at least 2 values"),
    ("((case-lambda ((a) a) ((a b) b)))", ArityError, "no clause takes 0 arguments"),
    ("(define p (make-parameter 1)) (p 5)", ArityError, "use parameterize"),
    ("(parameterize ((car 1)) 2)", LispTypeError, "expected a parameter object"),
    ("(with-exception-handler (lambda (e) 0) (lambda () (car 1)))", EvalError,
     "handler returned from a non-continuable raise"),
    ("(with-exception-handler (lambda (e) 10) (lambda () (+ 1 (raise 5))))", EvalError,
     "handler returned from a non-continuable raise of 5"),
    ("(guard (e ((string? e) e)) (raise 42))", EvalError, "uncaught raise: 42"),
    ("(raise-continuable 'x)", EvalError, "uncaught raise: x"),
    ("(let ((k2 #f)) (+ 1 (call/cc (lambda (k) (set! k2 k) 1))) (k2 5))", EvalError, "escape-only"),
    ("(with-exception-handler 1 2)", LispTypeError, "expected a procedure"),
    ("(dynamic-wind 1 2 3)", LispTypeError, "expected a procedure"),
    ("(make-parameter 1 2)", LispTypeError, "expected a procedure"),
    ("(boolean=? #t 1)", LispTypeError, "expected a boolean"),
    ("(symbol=? 'a)", ArityError, "at least 2"),
    ("(define v (values 1 2))", LispTypeError, "multiple values cannot be stored"),
]


@pytest.mark.parametrize("source,kind,text", ERRORS)
def test_error(source: str, kind: type, text: str) -> None:
    e = err(source)
    assert isinstance(e, kind) and text in str(e), str(e)


SYNTAX = [
    ("1\n(let-values ((a)) a)", 2, 14, "let-values: each binding is (formals expr)"),
    ("1\n  (let-values (((a b) 1)))", 2, 3, "let-values: expected bindings and a body"),
    ("(let-values (((a) 1) ((a) 2)) a)", 1, 1, "let-values: a name is bound twice"),
    ("(let*-values (((a) 1)\n   (b)) 1)", 2, 4, "let*-values: each binding is (formals expr)"),
    ("1\n (define-values (a 1) 2)", 2, 2, "define-values: formals must be symbols"),
    ("(define-values (a))", 1, 1, "define-values: expected (define-values formals expr)"),
    ("(define (f)\n  (define-values (a a) (values 1 2)) a)", 2, 3, "define-values: a name is bound twice"),
    ("(define (f)\n  (+ 1 (define-values (a) 1)))", 2, 8, "define-values: only allowed at top level"),
    ("\n(case-lambda)", 2, 1, "case-lambda: expected at least one clause"),
    ("(case-lambda (x))", 1, 14, "case-lambda: each clause is (formals body...)"),
    ("  (case-lambda ((a 1) a))", 1, 16, "case-lambda: formals must be symbols"),
    ("(case-lambda ((a a) a))", 1, 14, "case-lambda: a name is bound twice"),
    ("(parameterize)", 1, 1, "parameterize: expected bindings and a body"),
    ("(parameterize ((p)) 1)", 1, 16, "parameterize: each binding is (param value)"),
    ("(parameterize x 1)", 1, 1, "parameterize bindings: improper list"),
    ("(delay)", 1, 1, "delay: expected exactly one expression"),
    ("(list\n (delay 1 2))", 2, 2, "delay: expected exactly one expression"),
    ("(delay-force)", 1, 1, "delay-force: expected exactly one expression"),
    ("(cond-expand (1 2))", 1, 14, "cond-expand: a requirement is a feature"),
    ("(cond-expand ((foo a) 2))", 1, 14, "cond-expand: bad requirement (foo ...)"),
    ("(cond-expand x)", 1, 1, "cond-expand: each clause is (requirement body...)"),
    ("(case 1\n ((1) =>))", 2, 2, "case: expected ((datum...) => proc)"),
    ("(case 1 (else => 1 2))", 1, 9, "case: expected ((datum...) => proc)"),
]


@pytest.mark.parametrize("source,line,col,text", SYNTAX)
def test_syntax_error_names_line_and_column(source: str, line: int, col: int, text: str) -> None:
    e = err(source)
    assert isinstance(e, LispSyntaxError), str(e)
    assert (e.loc, text in e.message) == ((line, col), True), str(e)


LOOP = "(let loop () (loop))"
RUNAWAY = [
    f"(dynamic-wind (lambda () 1) (lambda () {LOOP}) (lambda () 3))",
    f"(dynamic-wind (lambda () {LOOP}) (lambda () 2) (lambda () 3))",
    f"(guard (e (#t 'caught)) (dynamic-wind (lambda () 1) (lambda () {LOOP}) (lambda () 3)))",
    f"(define p (make-parameter 1)) (parameterize ((p 2)) {LOOP})",
    f"(define p (make-parameter 1 (lambda (x) {LOOP})))",
    f"(force (delay {LOOP}))",
    "(define (s) (delay-force (s))) (force (s))",
    f"(with-exception-handler (lambda (e) {LOOP}) (lambda () (raise 1)))",
    f"(with-exception-handler (lambda (e) {LOOP}) (lambda () (car 1)))",
    f"(call-with-values (lambda () {LOOP}) list)",
    f"((case-lambda ((x) {LOOP})) 1)",
    f"(let-values (((a) {LOOP})) a)",
]


@pytest.mark.parametrize("source", RUNAWAY)
def test_runaway_loops_stop_at_the_step_limit(source: str) -> None:
    e = err(source, steps=20_000)
    assert isinstance(e, BudgetExceeded) and e.budget == "steps", str(e)


def test_after_thunk_does_not_run_past_a_spent_budget() -> None:
    w = world.open(out=lambda t: None)
    w.eval("(define ran #f)")
    with pytest.raises(BudgetExceeded):
        w.eval(f"(dynamic-wind (lambda () 1) (lambda () {LOOP}) (lambda () (set! ran #t)))",
               steps=20_000)
    assert w.eval("ran") is False


def test_handler_state_does_not_leak_between_forms() -> None:
    w = world.open(out=lambda t: None)
    w.eval("(define p (make-parameter 1))")
    with pytest.raises(LispError):
        w.eval("(with-exception-handler (lambda (e) 0) (lambda () (parameterize ((p 2)) (car 1))))")
    assert w.eval("(p)") == 1
    with pytest.raises(EvalError, match="uncaught raise"):
        w.eval("(raise-continuable 1)")


@pytest.mark.parametrize("caps", [OWNER, LINEAGE, RULES])
def test_forms_run_with_only_core(caps: tuple[str, ...]) -> None:
    src = ("(list (force (delay 1)) (let-values (((a b) (values 1 2))) b)"
           " (parameterize (((make-parameter 1) 2)) 3) ((case-lambda ((x) x)) 4)"
           " (dynamic-wind (lambda () 1) (lambda () 5) (lambda () 3))"
           " (with-exception-handler (lambda (e) 6) (lambda () (raise-continuable 1)))"
           " (guard (e (#t 7)) (raise 0)) (call-with-values (lambda () (values 4 4)) +))")
    assert world.write(runtime.run(Environment(caps), read(src)).value) == "(1 2 3 4 5 6 7 8)"


def test_internal_procedures_cannot_be_named() -> None:
    for name in ("%parameterize", "%case-lambda", "%make-promise", "%values-list", "%values-ref"):
        assert "unbound" in str(err(f"({name} 1)"))


def test_sandboxes_run_the_forms_and_refuse_promises_and_parameters_at_the_boundary() -> None:
    assert ev("(sandbox '(list (force (delay 1)) (parameterize (((make-parameter 1) 2)) 3)))") == "(1 3)"
    assert ev("(sandbox '(values 1 2))") == "#<values 1 2>"
    for src in ("(define p (delay 1)) (sandbox (list 'force p))",
                "(define p (make-parameter 1)) (sandbox (list p))",
                "(sandbox '(make-parameter 1))", "(sandbox '(delay 1))",
                "(sandbox '(values 1 (lambda () 1)))"):
        e = err(src)
        assert isinstance(e, SandboxFailure) and "holds a procedure" in str(e), src


def test_a_sandbox_does_not_see_its_callers_handlers() -> None:
    src = ("(with-exception-handler (lambda (e) 'parent)"
           " (lambda () (guard (e (#t (list 'caught e))) (sandbox '(raise-continuable 1)))))")
    assert ev(src) == "(caught 1)"


def test_promises_parameters_and_case_lambdas_persist(tmp_path) -> None:
    path = tmp_path / "w.fs"
    w = world.open(path, out=lambda t: None)
    w.eval("(define p (make-parameter 10 (lambda (x) (* x 2))))")
    w.eval("(define n 0)")
    w.eval("(define d (delay (begin (set! n (+ n 1)) n)))")
    w.eval("(force d)")
    w.eval("(define plus (case-lambda ((a) a) ((a b) (+ a b))))")
    w.eval("(define-values (q r) (values 1 2))")
    w.close()
    w = world.open(path, out=lambda t: None)
    assert world.write(w.eval("(list (p) (parameterize ((p 1)) (p)) (force d) (force d) n"
                              " (plus 1) (plus 1 2) q r)")) == "(20 2 1 1 1 1 3 1 2)"
    assert w.eval("(history/verify)") is not False
    w.close()


def test_pause_and_resume_inside_the_new_forms() -> None:
    text = ("(define p (make-parameter 0)) (define (f n) (if (= n 0) (p) (+ 1 (f (- n 1)))))"
            " (parameterize ((p 5)) (dynamic-wind (lambda () 0)"
            " (lambda () (force (delay (guard (e (#t (f 3000))) (raise 'x))))) (lambda () 0)))")
    whole, susp = runtime.start(Environment(OWNER), text, pause_at=10**12)
    assert susp is None and whole.value == 3005
    result, susp = runtime.start(Environment(OWNER), text, pause_at=whole.steps // 2)
    assert result is None and susp is not None
    again = runtime.resume(runtime.Suspension.from_bytes(susp.to_bytes()))
    assert (again.value, again.steps) == (whole.value, whole.steps)
