"""R7RS-small table, report sections 2 (lexical conventions), 4 (expressions) and 5
(program structure): rows `(section, title, source, expected)`, see r7rs_table.py."""
from r7rs_table import Absent, Pending, Raises, unsaid  # noqa: F401

ROWS = [
    # ---------------------------------------------------------------- 2 lexical conventions
    ("2", "line comment", "; a comment\n42", "42"),
    ("2", "block comment", "#| a block\n comment |# 42", "42"),
    ("2", "nested block comments", "#| outer #| inner |# still outer |# 7", "7"),
    ("2", "datum comment in a call", "(+ 1 #;(* 2 3) 4)", "5"),
    ("2", "datum comment in a list", "'(a #;b c)", "(a c)"),
    ("2", "datum comment before the close", "(list 1 #; 2)", "(1)"),
    ("2", "peculiar identifiers",
     "(let ((->x 1) (<=? 2) (a.b 3) (+soup+ 4) (!$%&*/:<=>?^_~ 5)) (list ->x <=? a.b +soup+ !$%&*/:<=>?^_~))",
     "(1 2 3 4 5)"),
    ("2", "identifiers are case-sensitive", "(eq? 'abc 'ABC)", "#f"),
    ("2", "#!fold-case folds later identifiers", "#!fold-case\n(eq? 'ABC 'abc)", "#t"),
    ("2", "#!no-fold-case turns it off", "#!fold-case\n#!no-fold-case\n(eq? 'ABC 'abc)",
     "#f"),
    ("2", "|...| identifier with a space", "(symbol->string '|two words|)", '"two words"'),
    ("2", "|...| identifier with a hex escape", "(symbol->string '|a\\x41;b|)", '"aAb"'),
    ("2", "... is an identifier", "(symbol? '...)", "#t"),
    ("2", "+ and - are identifiers", "(list (symbol? '+) (symbol? '-) (symbol? '->))", "(#t #t #t)"),
    ("2", "#true and #false", "(list #true #false)", "(#t #f)"),
    ("2", "character names", "(list #\\space #\\newline #\\tab #\\a)", "(#\\space #\\newline #\\tab #\\a)"),
    ("2", "hex character", "(char->integer #\\x41)", "65"),
    ("2", "a non-ASCII hex character", "(char->integer (string-ref (string #\\x3bb) 0))", "955"),
    ("2", "string escapes", '(string-length "a\\tb\\\\c\\"")', "6"),
    ("2", "string hex escape", '"\\x41;bc"', '"Abc"'),
    ("2", "string line continuation", '"ab\\\n    cd"', '"abcd"'),
    ("2", "dotted pair syntax", "'(1 . 2)", "(1 . 2)"),
    ("2", "vector syntax", "'#(1 #t \"s\")", '#(1 #t "s")'),
    ("2", "bytevector syntax", "#u8(1 2 255)", "#u8(1 2 255)"),
    ("2", "quote abbreviations", "(list ''a '`b)", "((quote a) (quasiquote b))"),
    ("2", "datum label shares structure",
     "(let ((x '(#0=(1 2) #0#))) (eq? (car x) (cadr x)))", "#t"),

    # ---------------------------------------------------------------- 4.1 primitive expressions
    ("4.1", "variable reference", "(let ((x 28)) x)", "28"),
    ("4.1", "quote a symbol", "(quote a)", "a"),
    ("4.1", "quote a vector", "(quote #(a b c))", "#(a b c)"),
    ("4.1", "quote a list", "'(+ 1 2)", "(+ 1 2)"),
    ("4.1", "quote a quote", "''a", "(quote a)"),
    ("4.1", "self-evaluating constants", '(list "abc" 145932 #t #\\a)', '("abc" 145932 #t #\\a)'),
    ("4.1", "quoted constants", "(list '\"abc\" '145932 '#t)", '("abc" 145932 #t)'),
    ("4.1", "vector constants evaluate to themselves", "#(a 1)",
     Pending("design: an unquoted #(...) evaluates its elements as [...] does; write '#(a 1)", "#(a 1)")),
    ("4.1", "procedure call", "(+ 3 4)", "7"),
    ("4.1", "operator is an expression", "((if #f + *) 3 4)", "12"),
    ("4.1", "lambda applied", "((lambda (x) (+ x x)) 4)", "8"),
    ("4.1", "lambda bound by let", "(let ((reverse-subtract (lambda (x y) (- y x)))) (reverse-subtract 7 10))", "3"),
    ("4.1", "closure", "(let ((add4 (let ((x 4)) (lambda (y) (+ x y))))) (add4 6))", "10"),
    ("4.1", "variadic lambda", "((lambda x x) 3 4 5 6)", "(3 4 5 6)"),
    ("4.1", "rest parameter", "((lambda (x y . z) z) 3 4 5 6)", "(5 6)"),
    ("4.1", "lambda body with internal define", "((lambda (x) (define y 2) (* x y)) 5)", "10"),
    ("4.1", "too few arguments", "((lambda (x y) x) 1)", Raises("error")),
    ("4.1", "lambda with no parameters", "((lambda () 42))", "42"),
    ("4.1", "misused lambda", "(lambda)", Raises("syntax error")),
    ("4.1", "a parameter named twice", "(lambda (x x) x)", Raises("syntax error")),
    ("4.1", "misused if", "(if)", Raises("syntax error")),
    ("4.1", "quote with two data", "(quote 1 2)", Raises("syntax error")),
    ("4.1", "set! of a non-name", "(set! 5 1)", Raises("syntax error")),
    ("4.1", "if true", "(if (> 3 2) 'yes 'no)", "yes"),
    ("4.1", "if false", "(if (> 2 3) 'yes 'no)", "no"),
    ("4.1", "if value", "(if (> 3 2) (- 3 2) (+ 3 2))", "1"),
    ("4.1", "empty list is true", "(if '() 'true 'false)", "true"),
    ("4.1", "zero is true", "(if 0 'true 'false)", "true"),
    ("4.1", "set! on a local", "(let ((x 2)) (+ x 1) (set! x 4) (+ x 1))", "5"),
    ("4.1", "set! on an unbound name", "(set! no-such-variable-here 1)", Raises("unbound")),
    ("4.1", "unbound variable", "no-such-variable-here", Raises("unbound")),
    ("4.1", "include reads a file", '(include "lib.scm")', Absent("file")),
    ("4.1", "include-ci reads a file", '(include-ci "lib.scm")', Absent("file")),

    # ---------------------------------------------------------------- 4.2 derived expressions
    ("4.2", "cond first clause", "(cond ((> 3 2) 'greater) ((< 3 2) 'less))", "greater"),
    ("4.2", "cond else", "(cond ((> 3 3) 'greater) ((< 3 3) 'less) (else 'equal))", "equal"),
    ("4.2", "cond =>", "(cond ((assv 'b '((a 1) (b 2))) => cadr) (else #f))", "2"),
    ("4.2", "cond test-only clause", "(cond (#f 1) ((+ 1 1)))", "2"),
    ("4.2", "cond with an empty else clause", "(cond (else))",
     Raises("syntax error")),
    ("4.2", "case composite", "(case (* 2 3) ((2 3 5 7) 'prime) ((1 4 6 8 9) 'composite))", "composite"),
    ("4.2", "case else =>",
     "(case (car '(c d)) ((a e i o u) 'vowel) ((w y) 'semivowel) (else => (lambda (x) x)))", "c"),
    ("4.2", "case clause =>", "(case 5 ((5) => (lambda (x) (* x 2))) (else 0))", "10"),
    ("4.2", "case on characters", "(case #\\a ((#\\b) 2) ((#\\a) 1) (else 0))", "1"),
    ("4.2", "case on symbols and numbers", "(case 'x ((1 x) 'found) (else 'no))", "found"),
    ("4.2", "cond-expand on r7rs", "(cond-expand (r7rs 'yes) (else 'no))", "yes"),
    ("4.2", "cond-expand with and/not", "(cond-expand ((and r7rs (not r7-no-such-feature)) 1) (else 2))", "1"),
    ("4.2", "cond-expand on a library", "(cond-expand ((library (scheme base)) 'lib) (else 'none))",
     "lib"),
    ("4.2", "cond-expand else", "(cond-expand (r7-no-such-feature 1) (else 2))", "2"),
    ("4.2", "and true", "(and (= 2 2) (> 2 1))", "#t"),
    ("4.2", "and false", "(and (= 2 2) (< 2 1))", "#f"),
    ("4.2", "and last value", "(and 1 2 'c '(f g))", "(f g)"),
    ("4.2", "and empty", "(and)", "#t"),
    ("4.2", "or true", "(or (= 2 2) (< 2 1))", "#t"),
    ("4.2", "or all false", "(or #f #f #f)", "#f"),
    ("4.2", "or short-circuits", "(or (memq 'b '(a b c)) (/ 3 0))", "(b c)"),
    ("4.2", "or empty", "(or)", "#f"),
    ("4.2", "when", "(let ((x '())) (when (= 1 1) (set! x (cons 'a x)) (set! x (cons 'b x))) x)", "(b a)"),
    ("4.2", "unless", "(unless (= 1 2) 'ok)", "ok"),
    ("4.2", "let", "(let ((x 2) (y 3)) (* x y))", "6"),
    ("4.2", "let inits see the outer scope", "(let ((x 2) (y 3)) (let ((x 7) (z (+ x y))) (* z x)))", "35"),
    ("4.2", "a let binding that is not (name expr)", "(let ((1 2)) 1)", Raises("syntax error")),
    ("4.2", "let*", "(let ((x 2) (y 3)) (let* ((x 7) (z (+ x y))) (* z x)))", "70"),
    ("4.2", "let* empty", "(let* () 5)", "5"),
    ("4.2", "letrec mutual recursion",
     "(letrec ((even? (lambda (n) (if (zero? n) #t (odd? (- n 1)))))"
     " (odd? (lambda (n) (if (zero? n) #f (even? (- n 1)))))) (even? 88))", "#t"),
    ("4.2", "letrec*",
     "(letrec* ((p (lambda (x) (+ 1 (q (- x 1))))) (q (lambda (y) (if (zero? y) 0 (+ 1 (p (- y 1))))))"
     " (x (p 5)) (y x)) y)", "5"),
    ("4.2", "named let",
     "(let loop ((numbers '(3 -2 1 6 -5)) (nonneg '()) (neg '()))"
     " (cond ((null? numbers) (list nonneg neg))"
     " ((>= (car numbers) 0) (loop (cdr numbers) (cons (car numbers) nonneg) neg))"
     " ((< (car numbers) 0) (loop (cdr numbers) nonneg (cons (car numbers) neg)))))",
     "((6 1 3) (-5 -2))"),
    ("4.2", "named let in a non-tail position",
     "(+ 1 (let f ((n 5)) (if (= n 0) 0 (+ n (f (- n 1))))))", "16"),
    ("4.2", "let-values",
     "(let-values (((root rem) (exact-integer-sqrt 32))) (* root rem))", "35"),
    ("4.2", "let*-values",
     "(let ((a 'a) (b 'b) (x 'x) (y 'y))"
     " (let*-values (((a b) (values x y)) ((x y) (values a b))) (list a b x y)))", "(x y x y)"),
    ("4.2", "let-values with a rest formal", "(let-values (((a . rest) (values 1 2 3))) (list a rest))",
     "(1 (2 3))"),
    ("4.2", "let-values given too few values", "(let-values (((a b) (values 1))) a)", Raises("error")),
    ("4.2", "let-values with one formal for all", "(let-values ((all (values 1 2))) all)", "(1 2)"),
    ("4.2", "do building a list", "(do ((i 0 (+ i 1)) (acc '() (cons i acc))) ((= i 5) (reverse acc)))",
     "(0 1 2 3 4)"),
    ("4.2", "do with vector-set! (report example; vectors are immutable)",
     "(do ((vec (make-vector 5)) (i 0 (+ i 1))) ((= i 5) vec) (vector-set! vec i i))", Absent("vector-set")),
    ("4.2", "do summing a list",
     "(let ((x '(1 3 5 7 9))) (do ((x x (cdr x)) (sum 0 (+ sum (car x)))) ((null? x) sum)))", "25"),
    ("4.2", "do without a step", "(do ((i 0 (+ i 1)) (acc '())) ((= i 3) acc) (set! acc (cons i acc)))",
     "(2 1 0)"),
    ("4.2", "delay and force", "(force (delay (+ 1 2)))", "3"),
    ("4.2", "a promise is forced once",
     "(let* ((n 0) (p (delay (begin (set! n (+ n 1)) n))) (a (force p)) (b (force p))) (list a b n))", "(1 1 1)"),
    ("4.2", "streams with delay",
     "(define r7-integers (letrec ((next (lambda (n) (delay (cons n (next (+ n 1))))))) (next 0)))"
     "(define (r7-head s) (car (force s))) (define (r7-tail s) (cdr (force s)))"
     "(r7-head (r7-tail (r7-tail r7-integers)))", "2"),
    ("4.2", "delay-force in a stream filter",
     "(define r7-ints (letrec ((next (lambda (n) (delay (cons n (next (+ n 1))))))) (next 0)))"
     "(define (r7-filter p? s) (delay-force (if (null? (force s)) (delay '())"
     " (let ((h (car (force s))) (t (cdr (force s))))"
     " (if (p? h) (delay (cons h (r7-filter p? t))) (r7-filter p? t))))))"
     "(car (force (cdr (force (cdr (force (r7-filter odd? r7-ints)))))))", "5"),
    ("4.2", "a promise forcing itself (report example)",
     "(define r7-count 0) (define r7-x 5)"
     "(define r7-p (delay (begin (set! r7-count (+ r7-count 1)) (if (> r7-count r7-x) r7-count (force r7-p)))))"
     "(let* ((a (force r7-p)) (b (begin (set! r7-x 10) (force r7-p)))) (list a b))", "(6 6)"),
    ("4.2", "promise?", "(list (promise? (delay 1)) (promise? 1))", "(#t #f)"),
    ("4.2", "make-promise", "(force (make-promise 7))", "7"),
    ("4.2", "make-promise of a promise", "(let ((p (delay 3))) (eq? p (make-promise p)))", "#t"),
    ("4.2", "make-parameter", "(let ((p (make-parameter 1))) (p))", "1"),
    ("4.2", "parameterize (report example)",
     "(define r7-radix (make-parameter 10 (lambda (x) (if (and (exact-integer? x) (<= 2 x 16)) x"
     " (error \"invalid radix\")))))"
     "(define (r7-f n) (number->string n (r7-radix)))"
     "(list (r7-f 12) (parameterize ((r7-radix 2)) (r7-f 12)) (r7-f 12))", '("12" "1100" "12")'),
    ("4.2", "parameter converter",
     "(let ((p (make-parameter 10 (lambda (x) (* x 2))))) (list (p) (parameterize ((p 3)) (p))))", "(20 6)"),
    ("4.2", "parameterize converter error",
     "(let ((p (make-parameter 10 (lambda (x) (if (number? x) x (error \"not a number\" x))))))"
     " (parameterize ((p 'a)) (p)))", Raises("error", "not a number")),
    ("4.2", "parameterize restored on escape",
     "(let ((p (make-parameter 1))) (call/cc (lambda (k) (parameterize ((p 2)) (k 0)))) (p))", "1"),
    ("4.2", "guard with => (report example)",
     "(guard (condition ((assq 'a condition) => cdr) ((assq 'b condition))) (raise (list (cons 'a 42))))",
     "42"),
    ("4.2", "guard test-only clause (report example)",
     "(guard (condition ((assq 'a condition) => cdr) ((assq 'b condition))) (raise (list (cons 'b 23))))",
     "(b . 23)"),
    ("4.2", "guard catches error", '(guard (e (#t (error-object-message e))) (error "boom" 1))', '"boom"'),
    ("4.2", "guard else", "(guard (e (else 'caught)) (car '()))", "caught"),
    ("4.2", "guard re-raises when no clause matches", "(guard (e ((string? e) 'str)) (raise 'sym))",
     Raises("error")),
    ("4.2", "guard value of the body", "(guard (e (#t 'no)) (+ 1 2))", "3"),
    ("4.2", "quasiquote", "`(list ,(+ 1 2) 4)", "(list 3 4)"),
    ("4.2", "quasiquote quote of unquote", "(let ((name 'a)) `(list ,name ',name))", "(list a (quote a))"),
    ("4.2", "unquote-splicing", "`(a ,(+ 1 2) ,@(map abs '(4 -5 6)) b)", "(a 3 4 5 6 b)"),
    ("4.2", "unquote in dotted tail", "`((foo ,(- 10 3)) ,@(cdr '(c)) . ,(car '(cons)))", "((foo 7) . cons)"),
    ("4.2", "vector quasiquote", "`#(10 5 ,(+ 1 1) ,@(map abs '(-4 -3)) 8)", "#(10 5 2 4 3 8)"),
    ("4.2", "splicing an empty list", "`(1 ,@'() 2)", "(1 2)"),
    ("4.2", "unquote with whitespace", "(let ((foo '(foo bar)) (@baz 'baz)) `(list ,@foo , @baz))",
     "(list foo bar baz)"),
    ("4.2", "nested quasiquote",
     "`(a `(b ,(+ 1 2) ,(foo ,(+ 1 3) d) e) f)", "(a `(b ,(+ 1 2) ,(foo 4 d) e) f)"),
    ("4.2", "nested quasiquote with ,,",
     "(let ((name1 'x) (name2 'y)) `(a `(b ,,name1 ,',name2 d) e))", "(a `(b ,x ,'y d) e)"),
    ("4.2", "quasiquote long form", "(quasiquote (list (unquote (+ 1 2)) 4))", "(list 3 4)"),
    ("4.2", "case-lambda (report example)",
     "(define r7-range (case-lambda ((e) (r7-range 0 e))"
     " ((b e) (do ((r '() (cons e r)) (e (- e 1) (- e 1))) ((< e b) r)))))"
     "(list (r7-range 3) (r7-range 3 5))", "((0 1 2) (3 4))"),
    ("4.2", "case-lambda with rest",
     "(define r7-plus (case-lambda (() 0) ((x) x) ((x y) (+ x y)) ((x y . z) (apply r7-plus (+ x y) z))))"
     "(list (r7-plus) (r7-plus 1) (r7-plus 1 2) (r7-plus 1 2 3 4))", "(0 1 3 10)"),
    ("4.2", "case-lambda clause without formals", "(case-lambda (x))", Raises("syntax error")),
    ("4.2", "case-lambda no matching clause", "((case-lambda ((x) 'one) ((x y) 'two)) 1 2 3)",
     Raises("error")),

    # ---------------------------------------------------------------- 4.3 macros
    ("4.3", "define-syntax swap!",
     "(define-syntax r7-swap! (syntax-rules () ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp)))))"
     "(let ((x 1) (y 2)) (r7-swap! x y) (list x y))", "(2 1)"),
    ("4.3", "hygiene: the macro's tmp is not the user's",
     "(define-syntax r7-swap! (syntax-rules () ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp)))))"
     "(let ((tmp 1) (other 2)) (r7-swap! tmp other) (list tmp other))", "(2 1)"),
    ("4.3", "recursive my-or, shadowed if and let",
     "(define-syntax r7-or (syntax-rules () ((_) #f) ((_ e) e) ((_ e r ...) (let ((t e)) (if t t (r7-or r ...))))))"
     "(let ((x #f) (y 7) (temp 8) (let odd?) (if even?)) (r7-or x (let temp) (if y) y))", "7"),
    ("4.3", "let-syntax refers to the outer x",
     "(let ((x 'outer)) (let-syntax ((m (syntax-rules () ((m) x)))) (let ((x 'inner)) (m))))", "outer"),
    ("4.3", "let-syntax given-that (report example)",
     "(let-syntax ((given-that (syntax-rules () ((_ test stmt1 stmt2 ...) (if test (begin stmt1 stmt2 ...))))))"
     " (let ((if #t)) (given-that if (set! if 'now)) if))", "now"),
    ("4.3", "letrec-syntax my-or (report example)",
     "(letrec-syntax ((my-or (syntax-rules () ((my-or) #f) ((my-or e) e)"
     " ((my-or e1 e2 ...) (let ((temp e1)) (if temp temp (my-or e2 ...)))))))"
     " (let ((x #f) (y 7) (temp 8) (let odd?) (if even?)) (my-or x (let temp) (if y) y)))", "7"),
    ("4.3", "a local => is not cond's", "(let ((=> #f)) (cond (#t => 'ok)))", "ok"),
    ("4.3", "literals", "(define-syntax r7-if (syntax-rules (then else) ((_ c then t else e) (if c t e))))"
     "(r7-if #f then 1 else 2)", "2"),
    ("4.3", "(... ...) escapes an ellipsis",
     "(define-syntax be-like-begin (syntax-rules () ((be-like-begin name)"
     " (define-syntax name (syntax-rules () ((name expr (... ...)) (begin expr (... ...))))))))"
     "(be-like-begin r7-sequence) (r7-sequence 1 2 3 4)", "4"),
    ("4.3", "custom ellipsis", "(define-syntax r7-list (syntax-rules ::: () ((_ x :::) (list x :::))))"
     "(r7-list 1 2 3)", "(1 2 3)"),
    ("4.3", "recursive let*",
     "(define-syntax r7-let* (syntax-rules () ((_ () body ...) (let () body ...))"
     " ((_ ((x v) rest ...) body ...) (let ((x v)) (r7-let* (rest ...) body ...)))))"
     "(r7-let* ((a 1) (b (+ a 1))) (* a b))", "2"),
    ("4.3", "nested ellipses", "(define-syntax r7-pairs (syntax-rules () ((_ (a b ...) ...) '((a b ...) ...))))"
     "(r7-pairs (1 2 3) (4 5))", "((1 2 3) (4 5))"),
    ("4.3", "vector pattern", "(define-syntax r7-vsum (syntax-rules () ((_ #(a ...)) (+ a ...))))"
     "(r7-vsum #(1 2 3))", "6"),
    ("4.3", "underscore matches anything", "(define-syntax r7-second (syntax-rules () ((_ _ b _ ...) b)))"
     "(r7-second 1 2 3)", "2"),
    ("4.3", "pattern after an ellipsis", "(define-syntax r7-last (syntax-rules () ((_ a ... b) 'b)))"
     "(r7-last 1 2 3)", "3"),
    ("4.3", "dotted pattern", "(define-syntax r7-rest (syntax-rules () ((_ a . b) 'b)))"
     "(r7-rest 1 2 3)", "(2 3)"),
    ("4.3", "macro defining a global", "(define-syntax r7-const (syntax-rules () ((_ n v) (define n v))))"
     "(r7-const r7-k 42) r7-k", "42"),
    ("4.3", "a macro's if is the global if",
     "(define-syntax r7-unless (syntax-rules () ((_ c b ...) (if c #f (begin b ...)))))"
     "(let ((if list)) (r7-unless #f 'x))", "x"),
    ("4.3", "while loop",
     "(define-syntax r7-while (syntax-rules () ((_ c body ...) (let lp () (when c body ... (lp))))))"
     "(let ((i 0) (s 0)) (r7-while (< i 5) (set! s (+ s i)) (set! i (+ i 1))) s)", "10"),
    ("4.3", "a pattern variable binds", "(define-syntax r7-let1 (syntax-rules () ((_ v e body) (let ((v e)) body))))"
     "(r7-let1 x 5 (* x x))", "25"),
    ("4.3", "hygiene: a binding the macro makes does not capture the user's x",
     "(define-syntax r7-with-x (syntax-rules () ((_ body) (let ((x 1)) body)))) (let ((x 2)) (r7-with-x x))", "2"),
    ("4.3", "a local variable shadows a macro",
     "(define-syntax r7-foo (syntax-rules () ((_) 'macro))) (let ((r7-foo (lambda () 'proc))) (r7-foo))", "proc"),
    ("4.3", "else as a literal",
     "(define-syntax r7-cond1 (syntax-rules (else) ((_ (else e)) e) ((_ (c e)) (if c e #f))))"
     "(list (r7-cond1 (else 5)) (r7-cond1 (#f 6)))", "(5 #f)"),
    ("4.3", "a macro expanding into another macro",
     "(define-syntax r7-inc (syntax-rules () ((_ x) (+ x 1))))"
     "(define-syntax r7-inc2 (syntax-rules () ((_ x) (r7-inc (r7-inc x))))) (r7-inc2 5)", "7"),
    ("4.3", "no-argument macro", "(define-syntax r7-ten (syntax-rules () ((_) 10))) (+ (r7-ten) 1)", "11"),
    ("4.3", "no pattern matches", "(define-syntax r7-two (syntax-rules () ((_ a b) (+ a b)))) (r7-two 1)",
     Raises("syntax error")),
    ("4.3", "pattern variables matched different lengths",
     "(define-syntax r7-zip (syntax-rules () ((_ (x ...) (y ...)) '((x y) ...)))) (r7-zip (1 2) (3))",
     Raises("syntax error")),
    ("4.3", "a template with too many ellipses",
     "(define-syntax r7-bad (syntax-rules () ((_ a ...) (a ... ...)))) (r7-bad 1)", Raises("syntax error")),
    ("4.3", "a macro bound to a non-transformer", "(define-syntax r7-five 5)", Raises("syntax error")),
    ("4.3", "syntax-rules outside a macro definition", "(syntax-rules () ((_) 1))", Raises("syntax error")),
    ("4.3", "syntax-error",
     "(define-syntax r7-pair (syntax-rules () ((_ (a . b)) 'ok) ((_ x) (syntax-error \"not a pair\" x))))"
     "(r7-pair 5)", Raises("error", "not a pair")),
    ("4.3", "macro used before its helper procedure is defined",
     "(define-syntax r7-twice (syntax-rules () ((_ e) (r7-dbl e)))) (define (r7-dbl x) (* 2 x)) (r7-twice 4)", "8"),

    # ---------------------------------------------------------------- 5 program structure
    ("5", "define a variable", "(define r7-add3 (lambda (x) (+ x 3))) (r7-add3 3)", "6"),
    ("5", "define an alias", "(define r7-first car) (r7-first '(1 2))", "1"),
    ("5", "define with a rest parameter", "(define (r7-args . a) a) (r7-args 1 2)", "(1 2)"),
    ("5", "redefinition", "(define r7-v 1) (define r7-v 2) r7-v", "2"),
    ("5", "internal definitions (report example)",
     "(let ((x 5)) (define foo (lambda (y) (bar x y))) (define bar (lambda (a b) (+ (* a b) a))) (foo (+ x 3)))",
     "45"),
    ("5", "internal define with begin", "(let () (begin (define a 1) (define b 2)) (+ a b))", "3"),
    ("5", "top-level begin splices definitions", "(begin (define r7-a 1) (define r7-b 2)) (+ r7-a r7-b)", "3"),
    ("5", "define-values", "(define-values (r7-x r7-y) (exact-integer-sqrt 17)) (list r7-x r7-y)", "(4 1)"),
    ("5", "internal define-values", "(let () (define-values (x y) (values 1 2)) (+ x y))", "3"),
    ("5", "define-values with a rest formal", "(define-values (r7-h . r7-t) (values 1 2 3)) (list r7-h r7-t)",
     "(1 (2 3))"),
    ("5", "define-values binding a name twice", "(define-values (r7-d r7-d) (values 1 2))",
     Raises("syntax error")),
    ("5", "define-values one formal", "(define-values r7-all (values 1 2)) r7-all", "(1 2)"),
    ("5", "define-record-type (report example)",
     "(define-record-type <pare> (kons x y) pare? (x kar set-kar!) (y kdr))"
     "(list (pare? (kons 1 2)) (pare? (cons 1 2)) (kar (kons 1 2)) (kdr (kons 1 2))"
     " (let ((k (kons 1 2))) (set-kar! k 3) (kar k)))", "(#t #f 1 2 3)"),
    ("5", "record constructor with fewer fields",
     "(define-record-type r7-point (make-r7-pt x) r7-pt? (x r7-pt-x) (y r7-pt-y set-r7-pt-y!))"
     "(let ((p (make-r7-pt 1))) (set-r7-pt-y! p 5) (list (r7-pt-x p) (r7-pt-y p)))",
     "(1 5)"),
    ("5", "record predicate on other values",
     "(define-record-type <r7-node> (make-r7-node v) r7-node? (v r7-node-v))"
     "(list (r7-node? 5) (r7-node? (make-r7-node 1)) (r7-node-v (make-r7-node 'a)))",
     "(#f #t a)"),
    ("5", "record accessor on the wrong type",
     "(define-record-type <r7-cell> (make-r7-cell v) r7-cell? (v r7-cell-v))"
     " (guard (e ((error-object? e) 'raised)) (r7-cell-v 5))",
     "raised"),
    ("5", "import (scheme base)", "(import (scheme base) (scheme write)) (+ 1 2)", "3"),
    ("5", "import (scheme file) is absent", "(import (scheme file))", Absent("file")),
]
