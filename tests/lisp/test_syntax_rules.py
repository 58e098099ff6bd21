"""Hygienic macros: the R7RS 4.3 examples, hygiene both ways, errors at the use's line
and column, limits on expansion, and macros kept across a reopen of a real image."""
from __future__ import annotations

from pathlib import Path

import pytest

import world
from world.lisp.errors import BudgetExceeded, LispSyntaxError
from world.lisp.reader import read
from world.lisp.syntax_rules import expand, syntax_rules_from_source

MY_OR = """(define-syntax my-or (syntax-rules ()
  ((_) #f) ((_ e) e) ((_ e r ...) (let ((temp e)) (if temp temp (my-or r ...))))))"""
SWAP = "(define-syntax swap! (syntax-rules () ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp)))))"
WHILE = """(define-syntax while (syntax-rules ()
  ((_ c body ...) (let lp () (when c body ... (lp))))))"""
MY_LET_STAR = """(define-syntax my-let* (syntax-rules ()
  ((_ () body ...) (let () body ...))
  ((_ ((x v) rest ...) body ...) (let ((x v)) (my-let* (rest ...) body ...)))))"""
BE_LIKE_BEGIN = """(define-syntax be-like-begin (syntax-rules ()
  ((be-like-begin name) (define-syntax name (syntax-rules ()
    ((name expr (... ...)) (begin expr (... ...))))))))"""
SIMPLE_LET = """(define-syntax simple-let (syntax-rules ()
  ((_ (head ... ((x . y) val) . tail) body1 body2 ...)
   (syntax-error "expected an identifier but got" (x . y)))
  ((_ ((name val) ...) body1 body2 ...) ((lambda (name ...) body1 body2 ...) val ...))))"""
MY_IF = "(define-syntax my-if (syntax-rules (else) ((_ c a else b) (cond (c a) (else b)))))"


def ev(source: str) -> str:
    """The canonical text of the last value of `source` in a fresh world."""
    return world.write(world.open().eval(source))


CASES = [
    # R7RS 4.3.1 let-syntax and letrec-syntax
    ("""(let-syntax ((given-that (syntax-rules ()
         ((_ test stmt1 stmt2 ...) (if test (begin stmt1 stmt2 ...))))))
       (let ((if #t)) (given-that if (set! if 'now)) if))""", "now"),
    ("""(let ((x 'outer))
       (let-syntax ((m (syntax-rules () ((m) x))))
         (let ((x 'inner)) (m))))""", "outer"),
    ("""(letrec-syntax ((my-or (syntax-rules ()
         ((my-or) #f) ((my-or e) e)
         ((my-or e1 e2 ...) (let ((temp e1)) (if temp temp (my-or e2 ...)))))))
       (let ((x #f) (y 7) (temp 8) (let odd?) (if even?))
         (my-or x (let temp) (if y) y)))""", "7"),
    # R7RS 4.3.2 syntax-rules
    (f"{BE_LIKE_BEGIN} (be-like-begin sequence) (sequence 1 2 3 4)", "4"),
    ("(let ((=> #f)) (cond (#t => 'ok)))", "ok"),
    # R7RS 4.3.3 syntax-error: the rule that does not call it
    (f"{SIMPLE_LET} (simple-let ((a 1) (b 2)) (+ a b))", "3"),
    # my-or at top level: its temp does not capture the user's temp
    (f"{MY_OR} (let ((x #f) (y 7) (temp 8) (let odd?) (if even?)) (my-or x (let temp) (if y) y))", "7"),
    (f"{MY_OR} (my-or)", "#f"),
    (f"{MY_OR} (let ((temp 5)) (my-or #f temp))", "5"),
    # literals
    (f"{MY_IF} (list (my-if #t 1 else 2) (my-if #f 1 else 2))", "(1 2)"),
    (f"{MY_IF} (let ((else #f)) (guard (e (#t 'no-match)) (eval '(my-if #f 1 else 2))))", "2"),
    # swap!, while, my-let*: recursive macros, user names that a template also uses
    (f"{SWAP} (let ((tmp 1) (other 2)) (swap! tmp other) (list tmp other))", "(2 1)"),
    (f"{WHILE} (let ((i 0) (acc '())) (while (< i 3) (set! acc (cons i acc)) (set! i (+ i 1))) acc)",
     "(2 1 0)"),
    (f"{WHILE} (let ((lp 0)) (while (< lp 3) (set! lp (+ lp 1))) lp)", "3"),
    (f"{MY_LET_STAR} (my-let* ((a 1) (b (+ a 1)) (c (* b 10))) (list a b c))", "(1 2 20)"),
    # a macro that expands to a define, at top level and in a body
    ("(define-syntax def-const (syntax-rules () ((_ n v) (define (n) v)))) (def-const five 5) (five)",
     "5"),
    ("""(define-syntax def-const (syntax-rules () ((_ n v) (define n v))))
       (define (f) (def-const a 1) (def-const b 2) (+ a b)) (f)""", "3"),
    ("(define (f a) (define-syntax inc! (syntax-rules () ((_ v) (set! v (+ v 1))))) (inc! a) a) (f 4)",
     "5"),
    ("(begin (define-syntax sw (syntax-rules () ((_ a b) (list b a)))) (sw 1 2))", "(2 1)"),
    # free template identifiers mean what they meant where the macro was defined
    ("(define-syntax kons (syntax-rules () ((_ a b) (cons a b)))) (let ((cons list)) (kons 1 2))",
     "(1 . 2)"),
    (f"{MY_OR} (let ((if list) (let 3)) (my-or #f 3))", "3"),
    ("(define-syntax q (syntax-rules () ((_ x) (case x ((a) 'got-a) (else 'other))))) (q 'a)",
     "got-a"),
    ("(define-syntax qq (syntax-rules () ((_ x) `(x ,x tmp)))) (qq 5)", "(5 5 tmp)"),
    # templates using other binding forms: their names stay the template's own
    ("""(define-syntax m (syntax-rules () ((_ e) (do ((i 0 (+ i 1)) (acc '() (cons e acc))) ((= i 2) acc)))))
       (let ((i 'user)) (m i))""", "(user user)"),
    ("""(define-syntax m (syntax-rules () ((_ e) (guard (err (#t (list 'caught e))) (raise 'boom)))))
       (let ((err 'mine)) (m err))""", "(caught mine)"),
    ("""(define-syntax m (syntax-rules () ((_ x) (let loop ((i x)) (if (> i 0) (loop (- i 1)) 'done)))))
       (let ((loop 5)) (m loop))""", "done"),
    ("(define-syntax m (syntax-rules () ((_ n) (define-record n a b)))) (m pt) (pt-b (make-pt 1 2))", "2"),
    ("(define-syntax m (syntax-rules () ((_ x) (when x (and 1 (or #f x)))))) (let ((when list) (and list)) (m 3))",
     "3"),
    # ellipsis: items after it, dotted tails, nesting, vectors, custom ellipsis, escapes
    ("(define-syntax t (syntax-rules () ((_ a ... z) '(z a ...)))) (t 1 2 3 4)", "(4 1 2 3)"),
    ("(define-syntax t (syntax-rules () ((_ a ... y z) '(y z (a ...))))) (t 1 2)", "(1 2 ())"),
    ("(define-syntax t (syntax-rules () ((_ a . b) '(a b)))) (t 1 2 3)", "(1 (2 3))"),
    ("(define-syntax t (syntax-rules () ((_ (a b ...) ...) '((a ...) (b ... ...))))) (t (1 2 3) (4 5))",
     "((1 4) (2 3 5))"),
    ("(define-syntax t (syntax-rules () ((_ (a ...) (b ...)) '((a b ...) ...)))) (t (1 2) (3 4))",
     "((1 3 4) (2 3 4))"),
    ("(define-syntax t (syntax-rules () ((_ [a b ...]) (list a '(b ...))))) (t [1 2 3])", "(1 (2 3))"),
    ("(define-syntax t (syntax-rules () ((_ a ...) [a ... 0]))) (t 1 2)", "[1 2 0]"),
    ("(define-syntax t (syntax-rules ::: () ((_ a :::) (list a :::)))) (t 1 2 3)", "(1 2 3)"),
    ("(define-syntax t (syntax-rules () ((_ a) '(a (... ...))))) (t 1)", "(1 ...)"),
    ("(define-syntax t (syntax-rules (...) ((_ ...) 'dots) ((_ x) 'other))) (list (t ...) (t 1))",
     "(dots other)"),
    ("(define-syntax t (syntax-rules () ((_ _ _ x) x))) (t 1 2 3)", "3"),
    # macros defining macros, with their own ellipses
    ("""(define-syntax def-lister (syntax-rules ()
         ((_ name) (define-syntax name (syntax-rules () ((_ x (... ...)) (list x (... ...))))))))
       (def-lister l3) (l3 1 2 3)""", "(1 2 3)"),
    # macroexpand
    (f"{MY_OR} (macroexpand-1 '(my-or 1 2))", "(let ((temp 1)) (if temp temp (my-or 2)))"),
    (f"{MY_OR} (macroexpand '(my-or temp 2))",
     "(let ((temp.1 temp)) (if temp.1 temp.1 (my-or 2)))"),
    (f"{SWAP} (macroexpand '(swap! x y))", "(let ((tmp x)) (set! x y) (set! y tmp))"),
    ("(macroexpand '(+ 1 2))", "(+ 1 2)"),
    # in a sandbox
    ("(sandbox '(begin (define-syntax sw (syntax-rules () ((_ a b) (let ((t a)) (list b t))))) (sw 1 2)))",
     "(2 1)"),
]


@pytest.mark.parametrize("source, expected", CASES)
def test_macro(source: str, expected: str) -> None:
    assert ev(source) == expected


ERRORS = [
    (f"{MY_IF}\n  (my-if 1 2 3 4)", "2:3", "my-if: no syntax-rules pattern matches (my-if 1 2 3 4)"),
    (f"{MY_OR}\n(list 1\n   my-or)", "4:4", "my-or is syntax, not a variable"),
    (f"{MY_OR}\n (set! my-or 1)", "3:2", "my-or is a macro, not a variable"),
    ("(let-syntax ((m (syntax-rules () ((_) 1))))\n  (m 2))", "2:3", "m: no syntax-rules pattern"),
    ("\n(let-syntax ((m (syntax-rules () ((_) 1)))) m)", "2:1", "m is a macro, not a variable"),
    ("(define-syntax t\n  (syntax-rules () ((_ a ...) a)))", "2:3", "needs 1 more ellipsis"),
    ("(define-syntax t (syntax-rules () ((_ a) (a ...))))", "1:18", "no pattern variable repeats"),
    ("(define-syntax t (syntax-rules () ((_ a ... b ...) 1)))", "1:18", "at most one ellipsis"),
    ("(define-syntax t (syntax-rules () ((_ ...) 1)))", "1:18", "the ellipsis must follow"),
    ("(define-syntax t (syntax-rules () ((_ a a) 1)))", "1:18", "pattern variable a appears twice"),
    ("(define-syntax t (syntax-rules () (_ 1)))", "1:18", "a pattern is a list"),
    ("(define-syntax t (syntax-rules () ((_) 1 2)))", "1:18", "each rule is (pattern template)"),
    ("(define-syntax t (syntax-rules (1) ((_) 1)))", "1:18", "literals must be a list of identifiers"),
    ("(define-syntax t 5)", "1:1", "a macro is defined by (syntax-rules ...)"),
    ("(define-syntax t)", "1:1", "expected (define-syntax name"),
    ("(syntax-rules () ((_) 1))", "1:1", "only inside define-syntax"),
    ("(define (f) 1 (define-syntax t (syntax-rules () ((_) 1))))", "1:15", "define-syntax: only allowed"),
    ("(define-syntax t (syntax-rules () ((_ (a ...) (b ...)) '((a b) ...))))\n (t (1 2) (3))", "2:2",
     "pattern variables a, b matched different numbers of forms"),
    (f"{SIMPLE_LET}\n  (simple-let ((a 1) ((b c) 2)) a)", "5:3", "expected an identifier but got: (b c)"),
    ("(defmacro dm (a) a)\n  (dm 1 2)", "2:3", "dm: wrong number of arguments"),
    ("(defmacro dm (a b) a)\n(define (f)\n  (dm 1))", "3:3", "dm: wrong number of arguments"),
    ("(define-syntax forever (syntax-rules () ((_ x) (forever (x)))))\n (forever 1)", "2:2",
     "forever: macro uses nested more than"),
    ("(define-syntax forever (syntax-rules () ((_) (forever))))\n(define (f)\n  (forever))", "3:3",
     "forever: more than"),
]


@pytest.mark.parametrize("source, where, message", ERRORS)
def test_macro_error(source: str, where: str, message: str) -> None:
    with pytest.raises(LispSyntaxError) as e:
        world.open().eval(source)
    assert message in str(e.value)
    assert str(e.value).startswith(f"{where}: syntax error:"), str(e.value)


def test_exponential_expansion_is_metered() -> None:
    w = world.open()
    w.eval("(define-syntax grow (syntax-rules () ((_ x ...) (grow x ... x ...))))")
    with pytest.raises(BudgetExceeded):
        w.eval("(grow 1)", steps=2_000_000)


def test_expand_function_for_the_repl() -> None:
    w = world.open()
    w.eval(MY_OR)
    assert world.write(expand(w.env, read("(my-or a b)"), once=True)) == \
        "(let ((temp a)) (if temp temp (my-or b)))"
    assert world.write(expand(w.env, read("(f x)"))) == "(f x)"


def test_damaged_stored_macro_says_so() -> None:
    w = world.open()
    broken = syntax_rules_from_source("m", "(syntax-rules () ((_ a ...) a))")
    w.env.macros[world.read("m")] = broken
    with pytest.raises(LispSyntaxError, match="m: the stored macro cannot be rebuilt"):
        w.eval("(m 1)")


def test_macros_survive_a_reopen_and_are_history(tmp_path: Path) -> None:
    path = str(tmp_path / "images" / "w.fs")
    w = world.open(path)
    w.eval(MY_OR)
    w.eval("(define-syntax defn (syntax-rules () ((_ n body) (define n (lambda (x) (list x body))))))")
    w.eval("(defn g (my-or #f 'b)) (define (h a) (let ((temp 0)) (my-or #f a temp)))")
    info = w.eval("(inspect 'my-or)")
    assert world.write(info.get(world.read(":kind"))) == '"defmacro"'
    assert "(define-syntax my-or" in info.get(world.read(":source"))
    log = world.write(w.eval("(history/log 'my-or)"))
    assert ":kind defmacro" in log and ":symbol my-or" in log
    w.close()
    w = world.open(path)
    assert world.write(w.eval("(list (my-or #f 2) (h 3) (g 4))")) == "(2 3 (4 b))"
    assert world.write(w.eval("(macroexpand-1 '(my-or 1 2))")) == \
        "(let ((temp 1)) (if temp temp (my-or 2)))"
    assert w.eval("(history/verify)") is True
    w.close()


def test_a_paused_evaluation_keeps_its_macros() -> None:
    from world.lisp import runtime
    from world.lisp.env import Environment
    from world.lisp.primitives import OWNER
    from world.lisp.suspend import Suspension
    env = Environment(OWNER)
    runtime.run(env, read("(define-syntax sw (syntax-rules () ((_ a b) (list b a))))"))
    _, paused = runtime.start(env, "(define (lp n) (if (= n 0) (sw 1 2) (lp (- n 1)))) (lp 1000)", 500)
    text = paused.to_text()
    assert '"syntax": "(syntax-rules () ((_ a b) (list b a)))"' in text
    assert world.write(runtime.resume(Suspension.from_text(text)).value) == "(2 1)"
