"""Evaluator tests: tables of (source, expected printed value) and (source, error class).

Each source runs in a fresh world; the expected value is its canonical text
(`world.write`). Cases that fail because of a bug in the language are kept,
marked `xfail(strict=True)` with a reason starting "BUG:", so they turn red
the moment the bug is fixed and the mark can go.
"""
from __future__ import annotations

import pytest

import world
from world.lisp.errors import (ArityError, BudgetExceeded, EvalError, InternalError, LispError,
                               LispSyntaxError, LispTypeError, ReadError, UnboundVariable,
                               UserError)
from world.lisp.types import Symbol


def bug(reason: str) -> pytest.MarkDecorator:
    """Mark a case that fails because of a known bug in the language."""
    return pytest.mark.xfail(reason="BUG: " + reason, strict=True)


def BUG(source: str, expected: object, reason: str) -> object:
    """A table row expected to fail until the bug it names is fixed."""
    return pytest.param(source, expected, marks=bug(reason))




def ev(source: str, **kw: object) -> str:
    """Evaluate `source` in a fresh world and return the canonical text of its value."""
    return world.write(world.open(**kw).eval(source))


# ---------------------------------------------------------------- special forms

SPECIAL_FORMS = [
    # quote
    ("'a", "a"), ("(quote (1 . 2))", "(1 . 2)"), ("''a", "'a"), ("'[1 a]", "[1 a]"),
    ("'{:a b}", "{:a b}"), ("'()", "()"), ("(quote (quasiquote (a (unquote b))))", "`(a ,b)"),
    # quasiquote, unquote, unquote-splicing
    ("`(1 ,(+ 1 1) ,@(list 3 4))", "(1 2 3 4)"),
    ("`(1 ,@(list) 2)", "(1 2)"),
    ("`(,@(list 1 2) . 3)", "(1 2 . 3)"),
    ("(define x 5) `(a . ,x)", "(a . 5)"),
    ("(define x 5) `,x", "5"),
    ("(define x 5) (quasiquote (1 (unquote x)))", "(1 5)"),
    ("`(1 `(2 ,(3 ,(+ 1 3))))", "(1 `(2 ,(3 4)))"),
    ("(define x 5) ``(a ,,x)", "`(a ,5)"),
    ("(define x 5) `(a `(b ,(c ,x)))", "(a `(b ,(c 5)))"),
    ("`[1 ,(+ 1 1) ,@(list 3 4)]", "[1 2 3 4]"),
    ("(define x 5) `[a [b ,x] ,@(list 1 2)]", "[a [b 5] 1 2]"),
    ("`{:a ,(+ 1 2)}", "{:a 3}"),
    ("(define x 5) `(1 [2 ,x] {:k ,x})", "(1 [2 5] {:k 5})"),
    ("`(a b)", "(a b)"),
    # lambda: fixed, rest, all-args
    ("((lambda (x y) (- x y)) 5 3)", "2"),
    ("((lambda () 7))", "7"),
    ("((lambda (a . rest) (list a rest)) 1 2 3)", "(1 (2 3))"),
    ("((lambda (a . rest) rest) 1)", "()"),
    ("((lambda args args) 1 2 3)", "(1 2 3)"),
    ("((lambda args args))", "()"),
    ("(((lambda (x) (lambda (y) (+ x y))) 3) 4)", "7"),
    ("(define (mk) (let ((n 0)) (lambda () (set! n (+ n 1)) n))) (define c (mk)) (c) (c)", "2"),
    # define
    ("(define x 10) x", "10"),
    ("(define x)", "x"),
    ("(define (f x) (* x 2)) (f 4)", "8"),
    ("(define (f x) \"doc\" (* x 2)) (f 4)", "8"),
    ("(define (f) \"just a string\") (f)", '"just a string"'),
    ("(define (f . r) r) (f 1 2)", "(1 2)"),
    ("(define (f a . r) (cons a r)) (f 1 2)", "(1 2)"),
    ("(define (f n) (define a 1) (+ a n)) (f 1)", "2"),
    ("(define (f n) (define (g i) (* 2 i)) (g n)) (f 4)", "8"),
    ("(define (f n) (define g (lambda (i) (* 2 i))) (g n)) (f 4)", "8"),
    ("(let () (define (k x) x) (k 1))", "1"),
    ("(begin (define zz 1) zz)", "1"),
    # set!
    ("(define x 1) (set! x 2) x", "2"),
    ("(define x 1) (define (bump) (set! x (+ x 1))) (bump) (bump) x", "3"),
    ("(let ((x 1)) (set! x 5) x)", "5"),
    ("(define x 1) (set! x 2)", "#<void>"),
    # if
    ("(if #t 1 2)", "1"), ("(if #f 1 2)", "2"), ("(if #f #f)", "#<void>"),
    ("(if (begin #f #t) 1 2)", "1"),
    # cond
    ("(cond (#f 1) (#t 2))", "2"),
    ("(cond (#f 1) (else 3))", "3"),
    ("(cond (#f 1))", "#<void>"),
    ("(cond (5))", "5"),
    ("(cond ((assv 2 '((1 . a) (2 . b))) => cdr) (else 'no))", "b"),
    ("(cond ((+ 1 1) => (lambda (v) (* v 10))))", "20"),
    ("(cond (#f 1) (else 1 2 3))", "3"),
    # case
    ("(case 3 ((1 2) 'low) ((3 4) 'mid) (else 'high))", "mid"),
    ("(case 9 ((1 2) 'low) (else 'high))", "high"),
    ("(case 9 ((1) 1))", "#<void>"),
    ("(case 'b ((a) 1) ((b c) 2) (else 3))", "2"),
    ("(case #\\a ((#\\a) \"ch\") (else 0))", '"ch"'),
    # and, or
    ("(and)", "#t"), ("(and 1 2)", "2"), ("(and 1 #f 3)", "#f"),
    ("(or)", "#f"), ("(or #f 3)", "3"), ("(or #f #f)", "#f"),
    ("(define n 0) (or 1 (set! n 1)) n", "0"),
    ("(define n 0) (and #f (set! n 1)) n", "0"),
    # when, unless
    ("(when (> 1 0) 'a 'b)", "b"), ("(when #f 1)", "#<void>"),
    ("(let () (when #t 1 2) 3)", "3"),
    ("(define (f n) (when (= n 0) (display n) (display 1)) n) (f 5)", "5"),
    ("(define (f n) (if #t (begin 1 2)) n) (f 5)", "5"),
    ("(unless #f 1 2)", "2"), ("(unless (> 1 0) 1)", "#<void>"),
    # begin
    ("(begin 1 2 3)", "3"), ("(begin)", "#<void>"),
    # let, let*, letrec, named let
    ("(let ((a 1) (b 2)) (+ a b))", "3"),
    ("(let () 5)", "5"),
    ("(let ((a 1) (b 2)) (let ((a b) (b a)) (list a b)))", "(2 1)"),
    ("(let ((x (begin 1 2))) x)", "2"),
    ("(let* ((a 1) (b (+ a 1)) (c (* b 2))) (list a b c))", "(1 2 4)"),
    ("(let* () 4)", "4"),
    ("(letrec ((ev? (lambda (n) (if (= n 0) #t (od? (- n 1)))))"
     "         (od? (lambda (n) (if (= n 0) #f (ev? (- n 1))))))"
     "  (ev? 100))", "#t"),
    ("(let loop ((i 0) (acc '())) (if (= i 3) acc (loop (+ i 1) (cons i acc))))", "(2 1 0)"),
    ("(let loop ((i 0) (acc 1)) (if (> i 4) acc (loop (+ i 1) (* acc 2))))", "32"),
    # do
    ("(do ((i 0 (+ i 1)) (s 0 (+ s i))) ((= i 5) s))", "10"),
    ("(let ((acc '())) (do ((i 0 (+ i 1))) ((= i 3) (reverse acc)) (set! acc (cons i acc))))",
     "(0 1 2)"),
    ("(do ((i 0 (+ i 1))) ((= i 3)))", "#<void>"),
    # defmacro, gensym
    ("(defmacro my-unless (c . body) `(if ,c #f (begin ,@body))) (my-unless #f 1 2)", "2"),
    ("(defmacro swap! (a b) (let ((tmp (gensym))) `(let ((,tmp ,a)) (set! ,a ,b) (set! ,b ,tmp))))"
     "(define tmp 1) (define y 2) (swap! tmp y) (list tmp y)", "(2 1)"),
    ("(defmacro swap! (a b) (let ((tmp (gensym))) `(let ((,tmp ,a)) (set! ,a ,b) (set! ,b ,tmp))))"
     "(define x 1) (define y 2) (swap! x y) (list x y)", "(2 1)"),
    ("(defmacro swap! (a b) (let ((tmp (gensym))) `(let ((,tmp ,a)) (set! ,a ,b) (set! ,b ,tmp))))"
     "(define g1 1) (define g__1 2) (define y 3) (swap! g1 y) (swap! g__1 g1) (list g1 g__1 y)",
     "(2 3 1)"),
    ("(symbol->string (gensym))", '"#:g1"'),
    # primitives the compiler writes inline mean what their calls mean
    ("(let ((x 'a) (y 1)) (list (symbol? x) (symbol? y) (symbol? (car '(b))) (symbol? \"s\")))",
     "(#t #f #t #f)"),
    ("(let ((f symbol?)) (list (f 'a) (apply symbol? '(1))))", "(#t #f)"),
    ("(list (< 1 2) (< 2 1) (< 1 2 3) (< 1 3 2) (- 5 2) (- 5) (= 2 2) (>= 3 3) (<= 4 3) (> 1/2 1/3))",
     "(#t #f #t #f 3 -5 #t #t #f #t)"),
    ("(defmacro m (x) \"doc\" `(list ,x ,x)) (m 3)", "(3 3)"),
    ("(symbol? (gensym))", "#t"),
    ("(eq? (gensym) (gensym))", "#f"),
    # call/cc (escaping)
    ("(call/cc (lambda (k) (+ 1 (k 42))))", "42"),
    ("(call/cc (lambda (k) 5))", "5"),
    ("(+ 1 (call/cc (lambda (k) (+ 10 (k 1)))))", "2"),
    ("(call-with-current-continuation (lambda (k) (k 'x)))", "x"),
    ("(call/cc (lambda (k) (for-each (lambda (x) (when (> x 2) (k x))) '(1 2 3 4)) 0))", "3"),
    ("(define (find-first pred lst)"
     "  (call/cc (lambda (return) (for-each (lambda (x) (if (pred x) (return x))) lst) #f)))"
     "(list (find-first even? '(1 3 4 5)) (find-first even? '(1 3)))", "(4 #f)"),
    ("(call/cc (lambda (k) (guard (e (#t 'caught)) (k 5))))", "5"),
    # define-record
    ("(define-record point x y)", "point"),
    ("(define-record point x y) (define p (make-point 1 2)) (point-x p)", "1"),
    ("(define-record point x y) (define p (make-point 1 2)) (set-point-y! p 5) (point-y p)", "5"),
    ("(define-record point x y) (point? (make-point 1 2))", "#t"),
    ("(define-record point x y) (point? 5)", "#f"),
    ("(define-record point x y) (make-point 1 2)", "#<point x=1 y=2>"),
    ("(define-record point x y) (define p (make-point 1 2))"
        "(list (point? p) (point-x p) (begin (set-point-y! p 5) (point-y p)))", "(#t 1 5)"),
    # guard, raise, error, error objects
    ("(guard (e (#t (list (error-object? e) (error-object-message e) (error-object-irritants e))))"
     "  (error \"bad\" 1 2))", '(#t "bad" (1 2))'),
    ("(guard (e ((symbol? e) (list 'sym e))) (raise 'oops))", "(sym oops)"),
    ("(guard (e ((string? e) e)) (raise \"str\"))", '"str"'),
    ("(guard (e (else (error-object-message e))) (error \"msg\" 1 2))", '"msg"'),
    ("(guard (e ((error-object? e) 'err) (else 0)) (raise 5))", "0"),
    ("(guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'a 42))))", "42"),
    ("(guard (e ((symbol? e) (list 1 e))) (guard (e2 ((string? e2) 2)) (raise 'boom)))", "(1 boom)"),
    ("(guard (e (#t (error-object? e))) (car 5))", "#t"),
    ("(guard (e (#t (error-object-message e))) (car 5))",
     '"type error: car: expected a pair, got an integer"'),
    ("(guard (e (#t 'caught)) (call/cc (lambda (k) (raise 1))))", "caught"),
    ("(guard (e (#t 1)) 2)", "2"),
    ("(error-object? 5)", "#f"),
    ("(error-object-message (guard (e (#t e)) (error \"m\")))", '"m"'),
    ("(+ 1 (guard (e (#t 10)) (+ 1 (raise 0))))", "11"),
]

# Compound forms used as arguments: every one of these loops in the code generator.
ARGUMENT_POSITION = [
    ("(+ 1 (begin 1 2))", "3"),
    ("(list (begin 1 2))", "(2)"),
    ("(+ 1 (let ((a 1)) a))", "2"),
    ("(list (let* ((a 1)) a))", "(1)"),
    ("(list (letrec ((a 1)) a))", "(1)"),
    ("(+ 1 (let loop ((i 0)) (if (< i 3) (loop (+ i 1)) i)))", "4"),
    ("(+ 1 (case 1 ((1) 5)))", "6"),
    ("(+ 1 (cond ((+ 1 1) => (lambda (v) v))))", "3"),
    ("(+ 1 (do ((i 0 (+ i 1))) ((= i 2) i)))", "3"),
    ("(+ 1 (when #t 1 2))", "3"),
    ("(list (if #t (begin 1 2) 3))", "(2)"),
    ("(list (and 1 (begin 1 2)))", "(2)"),
    ("(define (f) (list (begin 1 2))) (f)", "(2)"),
]

# ---------------------------------------------------------------- data

DATA = [
    # truthiness: only #f is false
    ("(if '() 'yes 'no)", "yes"), ("(if 0 'yes 'no)", "yes"), ("(if \"\" 'yes 'no)", "yes"),
    ("(if [] 'yes 'no)", "yes"), ("(if #f 'yes 'no)", "no"), ("(not '())", "#f"),
    ("(not #f)", "#t"), ("(not 0)", "#f"),
    # numbers: exact, inexact, rationals, bignums
    ("(+ 1 2)", "3"), ("(- 10)", "-10"), ("(/ 1 3)", "1/3"), ("(/ 6 3)", "2"),
    ("(+ 1/3 2/3)", "1"), ("(* 1/2 4)", "2"), ("(exact->inexact 1/3)", "0.3333333333333333"),
    ("(exact->inexact 1/4)", "0.25"), ("(* 1.0 2)", "2.0"), ("(+ 1/2 0.5)", "1.0"),
    ("(exact 2.5)", "5/2"), ("(exact (/ 9 3))", "3"), ("(exact? 1/2)", "#t"),
    ("(inexact? 1.0)", "#t"), ("(exact? 1.0)", "#f"), ("(integer? 2.0)", "#t"),
    ("(rational? 1/2)", "#t"), ("(expt 2 100)", "1267650600228229401496703205376"),
    ("(* 99999999999 99999999999)", "9999999999800000000001"),
    ("(- (expt 2 64) 1)", "18446744073709551615"), ("(= 1 1.0)", "#t"), ("(eqv? 1 1.0)", "#f"),
    ("(sqrt 16)", "4"), ("(sqrt 2)", "1.4142135623730951"), ("(round 2.5)", "2.0"),
    ("(round 7/2)", "4"), ("(quotient 17 5)", "3"), ("(remainder -17 5)", "-2"),
    ("(modulo -17 5)", "3"), ("(max 1 2.0)", "2.0"), ("(/ 1.0 3)", "0.3333333333333333"),
    ("1.5e3", "1500.0"), ("-0.0", "-0.0"), ("(string->number \"1/2\")", "1/2"),
    ("(number->string 255)", '"255"'), ("(numerator 6/4)", "3"), ("(denominator 6/4)", "2"),
    # lists
    ("(cons 1 2)", "(1 . 2)"), ("(cons 1 '())", "(1)"), ("(list 1 2 3)", "(1 2 3)"),
    ("(car '(1 2))", "1"), ("(cdr '(1 2))", "(2)"), ("(length '(1 2 3))", "3"),
    ("(list-ref '(1 2 3) 2)", "3"), ("(append '(1) '(2) 3)", "(1 2 . 3)"),
    ("(append)", "()"), ("(reverse '(1 2 3))", "(3 2 1)"), ("(list-tail '(1 2 3) 1)", "(2 3)"),
    ("(assq 'b '((a 1) (b 2)))", "(b 2)"), ("(member 2 '(1 2 3))", "(2 3)"),
    ("(memq 'z '(a b))", "#f"), ("(null? '())", "#t"), ("(pair? '())", "#f"),
    ("(equal? (list 1 [2]) (list 1 [2]))", "#t"), ("(eq? 'a 'a)", "#t"),
    # strings and chars
    ("(string-append \"a\" \"b\")", '"ab"'), ("(string-length \"héllo\")", "5"),
    ("(substring \"hello\" 1 3)", '"el"'), ("(string-ref \"abc\" 1)", "#\\b"),
    ("(string-upcase \"abc\")", '"ABC"'), ("(string->list \"ab\")", "(#\\a #\\b)"),
    ("(list->string (list #\\a #\\b))", '"ab"'), ("(string #\\a #\\b)", '"ab"'),
    ("(string=? \"a\" \"a\")", "#t"), ("(string<? \"a\" \"b\")", "#t"),
    ("(string-split \"a,b\" \",\")", '("a" "b")'), ("(string-join (list \"a\" \"b\") \"-\")", '"a-b"'),
    ("\"a\\nb\"", '"a\\nb"'), ("#\\a", "#\\a"), ("#\\space", "#\\space"),
    ("(char->integer #\\A)", "65"), ("(char-upcase #\\a)", "#\\A"),
    # symbols and keywords
    ("(string->symbol \"hello\")", "hello"), ("(symbol->string 'abc)", '"abc"'),
    ("(string->symbol \"has space\")", "|has space|"), ("(symbol? 'x)", "#t"),
    ("(symbol? \"x\")", "#f"), ("(keyword? :a)", "#t"), (":a", ":a"),
    # vectors
    ("[1 2 3]", "[1 2 3]"), ("[1 2 (+ 1 2)]", "[1 2 3]"), ("[]", "[]"),
    ("(vector 1 2)", "[1 2]"), ("(vector-ref [1 2 3] 0)", "1"), ("(vector-length [1 2 3])", "3"),
    ("(vector->list [1 2])", "(1 2)"), ("(list->vector '(1 2))", "[1 2]"),
    ("(vector-map (lambda (x) (* x x)) [1 2 3])", "[1 4 9]"), ("(vector? [1])", "#t"),
    # maps
    ("{:a 1}", "{:a 1}"), ("{:a (+ 1 1)}", "{:a 2}"), ("(hash-map :a 1 :b 2)", "{:a 1 :b 2}"),
    ("(get {:a 1 :b 2} :b)", "2"), ("(get {:a 1} :z)", "#f"), ("(get {:a 1} :z 0)", "0"),
    ("(get [10 20] 1)", "20"), ("(assoc {:a 1} :b 2)", "{:a 1 :b 2}"),
    ("(assoc {:a 1} :a 5)", "{:a 5}"), ("(define m {:a 1}) (assoc m :b 2) m", "{:a 1}"),
    ("(dissoc {:a 1 :b 2} :a)", "{:b 2}"), ("(keys {:a 1 :b 2})", "(:a :b)"),
    ("(vals {:a 1 :b 2})", "(1 2)"), ("(keys {})", "()"), ("(contains? {:a 1} :a)", "#t"),
    ("(contains? {:a 1} :b)", "#f"), ("(count {:a 1 :b 2})", "2"), ("(count [1 2 3])", "3"),
    ("(count '(1 2))", "2"), ("(merge {:a 1} {:b 2})", "{:a 1 :b 2}"), ("(map? {:a 1})", "#t"),
    # read and eval
    ("(read \"(+ 1 2)\")", "(+ 1 2)"), ("(eval (read \"(+ 1 2)\"))", "3"),
    ("(eval (list '+ 1 2))", "3"), ("(eval ''a)", "a"), ("(eval \"(+ 1 2)\")", '"(+ 1 2)"'),
    ("(eval (read \"(define zz 42)\")) zz", "42"), ("(read \"(a . b)\")", "(a . b)"),
    ("(read \"[1 {:a 2}]\")", "[1 {:a 2}]"),
    # apply, sort, map, filter, reduce, folds
    ("(apply + 1 2 '(3 4))", "10"), ("(apply max '(3 9 2))", "9"), ("(apply list)", "()"),
    ("(apply (lambda (a . r) r) '(1 2 3))", "(2 3)"),
    ("(sort '(3 1 2) <)", "(1 2 3)"), ("(sort '(3 1 2) >)", "(3 2 1)"), ("(sort [3 1 2] <)", "[1 2 3]"),
    ("(sort (list \"b\" \"a\") string<?)", '("a" "b")'), ("(sort '() <)", "()"),
    ("(map + '(1 2) '(10 20))", "(11 22)"), ("(map (lambda (x) (* x x)) '(1 2 3))", "(1 4 9)"),
    ("(map car '())", "()"), ("(filter odd? '(1 2 3 4 5))", "(1 3 5)"),
    ("(filter (lambda (x) (> x 1)) '(1 2 3))", "(2 3)"),
    ("(reduce + 0 '(1 2 3 4))", "10"), ("(reduce max 0 '(3 7 2))", "7"), ("(reduce + 0 '())", "0"),
    ("(fold-left cons '() '(1 2 3))", "(((() . 1) . 2) . 3)"), ("(fold-left + 0 '(1 2 3))", "6"),
    ("(fold-left list 0 '(1 2))", "((0 1) 2)"), ("(fold-right cons '() '(1 2 3))", "(1 2 3)"),
    ("(fold-right list 0 '(1 2))", "(1 (2 0))"),
    ("(procedure? car)", "#t"), ("(procedure? (lambda () 1))", "#t"), ("(procedure? 'car)", "#f"),
]

# ---------------------------------------------------------------- errors

ERRORS = [
    # unbound variables
    ("undefined-var", UnboundVariable), ("(undefined-fn 1)", UnboundVariable),
    ("(+ 1 nope)", UnboundVariable), ("(set! nope 1)", UnboundVariable),
    # calling a non-procedure
    ("(5 3)", LispTypeError), ("(\"s\" 1)", LispTypeError), ("('sym)", LispTypeError),
    ("(define x 3) (x)", LispTypeError), ("(apply 5 '())", LispTypeError),
    # wrong arity
    ("(car)", ArityError), ("(cons 1)", ArityError), ("(car '(1) '(2))", ArityError),
    ("((lambda (x) x))", ArityError),
    ("((lambda (x) x) 1 2)", ArityError),
    ("(define (f x) x) (f)", ArityError),
    ("(define (f a . r) r) (f)", ArityError),
    # wrong types
    ("(car 5)", LispTypeError), ("(car '())", LispTypeError), ("(cdr 5)", LispTypeError),
    ("(+ 1 \"a\")", LispTypeError), ("(length 5)", LispTypeError),
    ("(string-length 5)", LispTypeError), ("(vector-ref [1 2] 5)", EvalError),
    ("(/ 1 0)", EvalError), ("(sqrt -4)", EvalError),
    # syntax errors
    ("(let x)", LispSyntaxError), ("(let ((1 2)) 3)", LispSyntaxError),
    ("(let ((a 1) (a 2)) a)", LispSyntaxError), ("(let ((a 1 2)) a)", LispSyntaxError),
    ("(let loop)", LispSyntaxError), ("(lambda (1) 2)", LispSyntaxError),
    ("(lambda (x x) 2)", LispSyntaxError), ("(lambda)", LispSyntaxError),
    ("(lambda (x))", LispSyntaxError), ("(lambda \"x\" 1)", LispSyntaxError),
    ("(if)", LispSyntaxError), ("(if 1 2 3 4)", LispSyntaxError), ("(quote)", LispSyntaxError),
    ("(quote 1 2)", LispSyntaxError), ("(define)", LispSyntaxError), ("(define 5 1)", LispSyntaxError),
    ("(define x 1 2)", LispSyntaxError), ("(set! 5 1)", LispSyntaxError),
    ("(unquote x)", LispSyntaxError), ("(cond (else 1) (#t 2))", LispSyntaxError),
    ("(cond ())", LispSyntaxError), ("(case)", LispSyntaxError), ("(do)", LispSyntaxError),
    ("(when)", LispSyntaxError), ("(guard 1)", LispSyntaxError),
    ("(define-record 5)", LispSyntaxError), ("(defmacro 5 () 1)", LispSyntaxError),
    ("(let ((x 1)) (define y 2))", LispSyntaxError), ("(+ 1 . 2)", LispSyntaxError),
    # read errors
    ("(+ 1", ReadError), (")", ReadError), ("#(1 2", ReadError),
    # errors the program raises itself
    ("(error \"boom\" 1)", UserError), ("(raise 42)", UserError), ("(raise 'sym)", UserError),
    ("(guard (e ((string? e) e)) (raise 'oops))", UserError),
    # continuations after their extent
    ("(let ((k2 #f)) (+ 1 (call/cc (lambda (k) (set! k2 k) 1))) (k2 5))", EvalError),
]


@pytest.mark.parametrize("source, expected", SPECIAL_FORMS + ARGUMENT_POSITION + DATA)
def test_value(source: str, expected: str) -> None:
    assert ev(source) == expected


@pytest.mark.parametrize("source, error", ERRORS)
def test_error(source: str, error: type) -> None:
    with pytest.raises(LispError) as info:
        ev(source)
    assert isinstance(info.value, error), f"{type(info.value).__name__}: {info.value}"
    assert str(info.value).count("\n") == 0


def test_guard_does_not_catch_syntax_errors() -> None:
    with pytest.raises(LispSyntaxError):
        ev("(guard (e (#t 'caught)) (lambda))")


def test_define_docstring() -> None:
    w = world.open()
    w.eval('(define (f x) "Doubles x." (* x 2))')
    assert w.env.docs[Symbol("f")] == "Doubles x."
    assert w.eval("(f 21)") == 42


def test_defmacro_docstring() -> None:
    w = world.open()
    w.eval('(defmacro twice (x) "Twice x." `(begin ,x ,x))')
    assert w.env.docs[Symbol("twice")] == "Twice x."


def test_error_object_fields() -> None:
    w = world.open()
    w.eval('(define e (guard (c (#t c)) (error "bad thing" 1 "two" (quote three))))')
    assert w.eval("(error-object-message e)") == "bad thing"
    assert world.write(w.eval("(error-object-irritants e)")) == '(1 "two" three)'


def test_uncaught_error_message() -> None:
    with pytest.raises(UserError) as info:
        ev('(error "boom" 1 "x")')
    assert 'boom 1 "x"' in str(info.value)


LITERAL_TESTS = [("(if 0 'yes 'no)", "yes"), ("(not 0)", "#f")]


@pytest.mark.parametrize("source, expected", LITERAL_TESTS)
def test_constant_tests_compile_without_warnings(source: str, expected: str) -> None:
    """A literal in test position must not make Python warn about `is` with a literal."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            value = ev(source)
        except InternalError as e:  # the warning, turned into an error by the filter
            pytest.fail(f"compiling a constant test warned: {e}")
    assert value == expected


# ---------------------------------------------------------------- output

OUTPUT = [
    ('(display "hi")', "hi"), ('(write "hi")', '"hi"'), ("(newline)", "\n"),
    ("(display #\\a)", "a"), ("(write #\\a)", "#\\a"), ("(display '(1 \"a\" #\\b))", "(1 a b)"),
    ("(write '(1 \"a\" #\\b))", '(1 "a" #\\b)'), ("(write-string \"x\")", "x"),
    ("(for-each display '(1 2 3))", "123"), ("(display 1/2) (display 1.5)", "1/21.5"),
    ('(display "a") (newline) (display "b")', "a\nb"), ("(+ 1 2)", ""),
]


@pytest.mark.parametrize("source, expected", OUTPUT)
def test_output(source: str, expected: str) -> None:
    buf: list[str] = []
    w = world.open(out=buf.append)
    w.eval(source)
    assert "".join(buf) == expected


def test_output_returns_void() -> None:
    assert ev('(display "")') == "#<void>"


def test_output_before_an_error_is_delivered() -> None:
    buf: list[str] = []
    w = world.open(out=buf.append)
    with pytest.raises(LispError):
        w.eval('(begin (display "before") (car 5))')
    assert "".join(buf) == "before"


# ---------------------------------------------------------------- locations and backtraces

CHAIN = """\
(define (aa x)
  (+ 1 (bb x)))
(define (bb y)
  (+ 1
     (cc y)))
(define (cc z)
  (let ((q 1))
    (+ q (vector-ref z 0))))
(aa 7)
"""


def test_error_location_and_backtrace() -> None:
    w = world.open()
    with pytest.raises(LispTypeError) as info:
        w.eval(CHAIN)
    e = info.value
    assert e.loc == (8, 10)
    assert [name for name, _ in e.backtrace] == ["cc", "bb", "aa"]
    assert e.backtrace[0] == ("cc", (8, 10))
    assert e.backtrace[1] == ("bb", (5, 6))
    assert e.backtrace[2] == ("aa", (2, 8))
    assert "8:10" in str(e) and "\n" not in str(e)
    lines = e.format_backtrace()
    assert lines[0].strip() == "in cc at 8:10"


def test_error_location_of_user_error() -> None:
    w = world.open()
    with pytest.raises(UserError) as info:
        w.eval('(define (bb y)\n  (+ 1\n     (error "bad" y)))\n(bb 7)')
    assert info.value.loc == (3, 6)
    assert info.value.backtrace[0][0] == "bb"


def test_error_location_of_unbound_call() -> None:
    w = world.open()
    with pytest.raises(UnboundVariable) as info:
        w.eval("(define (bb y)\n  (list 1\n     (undefined-thing y)))\n(bb 7)")
    assert info.value.loc == (3, 6)


def test_error_location_of_syntax_error() -> None:
    w = world.open()
    with pytest.raises(LispSyntaxError) as info:
        w.eval("(define a 1)\n\n(define (f)\n  (let ((1 2)) 3))")
    assert info.value.loc is not None
    assert info.value.loc[0] in (3, 4)


def test_error_location_of_source_name() -> None:
    w = world.open()
    with pytest.raises(LispError) as info:
        w.eval("\n(car 5)", source="prog.lisp")
    assert str(info.value).startswith("prog.lisp:2:1: ")


def test_error_location_of_inlined_primitive() -> None:
    w = world.open()
    with pytest.raises(LispTypeError) as info:
        w.eval("(define (aa x)\n  (+ 1 (bb x)))\n(define (bb y)\n  (+ 1\n     (car y)))\n(aa 7)")
    assert info.value.loc == (5, 6)


def test_error_location_of_unbound_argument() -> None:
    w = world.open()
    with pytest.raises(UnboundVariable) as info:
        w.eval("(+ 1\n  nope)")
    assert info.value.loc == (2, 3)


def test_error_location_of_top_level_symbol() -> None:
    w = world.open()
    with pytest.raises(UnboundVariable) as info:
        w.eval("(define a 1)\nnope")
    assert info.value.loc == (2, 1)


def test_tail_calls_leave_no_frames() -> None:
    """A procedure that tail-calls another is gone from the backtrace."""
    w = world.open()
    with pytest.raises(LispTypeError) as info:
        w.eval("(define (aa x) (bb x))\n(define (bb y) (+ 1 (vector-ref y 0)))\n(aa 7)")
    assert [name for name, _ in info.value.backtrace] == ["bb"]


# ---------------------------------------------------------------- steps

FIB = "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))"
FIB_15_STEPS = 1973     # recorded; a change means the step accounting changed


def test_steps_are_deterministic() -> None:
    counts = []
    for _ in range(2):
        w = world.open()
        w.eval(FIB)
        assert w.eval("(fib 15)") == 610
        counts.append(w.last.steps)
        assert w.eval("(fib 15)") == 610
        counts.append(w.last.steps)
    assert counts == [FIB_15_STEPS] * 4


STEP_COSTS = [
    ("(+ 1 2)", 0), ("'a", 0),
    ("(let loop ((i 0)) (if (= i 10) i (loop (+ i 1))))", 11),
    ("(let loop ((i 0)) (if (= i 1000) i (loop (+ i 1))))", 1001),
]


@pytest.mark.parametrize("source, steps", STEP_COSTS)
def test_step_costs(source: str, steps: int) -> None:
    w = world.open()
    w.eval(source)
    assert w.last.steps == steps


# ---------------------------------------------------------------- tail calls and depth

SUM = "(define (sum n) (if (= n 0) 0 (+ n (sum (- n 1)))))"


def test_self_tail_loop_a_million() -> None:
    assert ev("(let loop ((i 0)) (if (= i 1000000) i (loop (+ i 1))))") == "1000000"


def test_self_tail_call_in_define_a_million() -> None:
    assert ev("(define (f n acc) (if (= n 0) acc (f (- n 1) (+ acc 1)))) (f 1000000 0)") == "1000000"


def test_mutual_tail_recursion_a_million() -> None:
    w = world.open()
    w.eval("(define (ev? n) (if (= n 0) #t (od? (- n 1))))"
           "(define (od? n) (if (= n 0) #f (ev? (- n 1))))")
    assert w.eval("(ev? 1000000)") is True
    assert w.eval("(od? 1000001)") is True


def test_internal_define_tail_loop_a_million() -> None:
    assert ev("(define (count-to n) (define (go i) (if (< i n) (go (+ i 1)) i)) (go 0))"
              "(count-to 1000000)") == "1000000"


def test_non_tail_recursion_100000_deep() -> None:
    w = world.open()
    w.eval(SUM)
    assert w.eval("(sum 100000)") == 5000050000


def test_recursion_past_depth_limit() -> None:
    w = world.open()
    w.eval(SUM)
    with pytest.raises(BudgetExceeded) as info:
        w.eval("(sum 1000000)")
    assert info.value.budget == "depth"
    assert w.eval("(sum 1000)") == 500500
    assert w.eval("(let loop ((i 0)) (if (= i 100000) i (loop (+ i 1))))") == 100000


def test_depth_limit_is_configurable() -> None:
    w = world.open(limits=world.Limits(depth=1000))
    w.eval(SUM)
    assert w.eval("(sum 500)") == 125250
    with pytest.raises(BudgetExceeded) as info:
        w.eval("(sum 5000)")
    assert info.value.budget == "depth"
