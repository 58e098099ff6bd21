"""R7RS-small table, report sections 6.10 to 6.14 (control, exceptions, eval, input and
output, system interface): rows `(section, title, source, expected)`, see r7rs_table.py."""
from r7rs_table import Absent, Pending, Raises, unsaid  # noqa: F401

ROWS = [
    # ---------------------------------------------------------------- 6.10 control features
    ("6.10", "procedure?", "(list (procedure? car) (procedure? 'car) (procedure? (lambda (x) (* x x)))"
     " (procedure? '(lambda (x) (* x x))))", "(#t #f #t #f)"),
    ("6.10", "call/cc passes a procedure", "(call-with-current-continuation procedure?)", "#t"),
    ("6.10", "apply", "(list (apply + (list 3 4)) (apply + 1 2 '(3 4)) (apply list '()))", "(7 10 ())"),
    ("6.10", "apply a composed procedure",
     "(define r7-compose (lambda (f g) (lambda args (f (apply g args))))) ((r7-compose - *) 3 4)", "-12"),
    ("6.10", "map", "(map cadr '((a b) (d e) (g h)))", "(b e h)"),
    ("6.10", "map with a lambda", "(map (lambda (n) (expt n n)) '(1 2 3 4 5))", "(1 4 27 256 3125)"),
    ("6.10", "map over several lists", "(map + '(1 2 3) '(10 20 30))", "(11 22 33)"),
    ("6.10", "map stops at the shortest list", "(map + '(1 2 3) '(10 20))", "(11 22)"),
    ("6.10", "string-map", '(string-map char-foldcase "AbdEgH")', '"abdegh"'),
    ("6.10", "string-map with a lambda",
     '(string-map (lambda (c) (integer->char (+ 1 (char->integer c)))) "HAL")', '"IBM"'),
    ("6.10", "string-map over two strings",
     '(string-map (lambda (c k) ((if (eqv? k #\\u) char-upcase char-downcase) c)) "studlycaps xxx" "ululululul")',
     '"StUdLyCaPs"'),
    ("6.10", "vector-map", "(vector-map cadr '#((a b) (d e) (g h)))", "#(b e h)"),
    ("6.10", "vector-map over two vectors", "(vector-map + '#(1 2) '#(10 20 30))", "#(11 22)"),
    ("6.10", "for-each", "(let ((acc '())) (for-each (lambda (i) (set! acc (cons (* i i) acc))) '(0 1 2 3 4)) acc)",
     "(16 9 4 1 0)"),
    ("6.10", "for-each over two lists",
     "(let ((acc '())) (for-each (lambda (x y) (set! acc (cons (+ x y) acc))) '(1 2) '(10 20)) acc)", "(22 11)"),
    ("6.10", "string-for-each",
     '(let ((v \'())) (string-for-each (lambda (c) (set! v (cons (char->integer c) v))) "abcde") v)',
     "(101 100 99 98 97)"),
    ("6.10", "vector-for-each",
     "(let ((acc '())) (vector-for-each (lambda (x) (set! acc (cons x acc))) #(1 2 3)) acc)", "(3 2 1)"),
    ("6.10", "call/cc escape from for-each",
     "(call-with-current-continuation (lambda (exit) (for-each (lambda (x) (if (negative? x) (exit x)))"
     " '(54 0 37 -3 245 19)) #t))", "-3"),
    ("6.10", "call/cc list-length (report example)",
     "(define r7-list-length (lambda (obj) (call-with-current-continuation (lambda (return)"
     " (letrec ((r (lambda (obj) (cond ((null? obj) 0) ((pair? obj) (+ (r (cdr obj)) 1)) (else (return #f))))))"
     " (r obj))))))"
     "(list (r7-list-length '(1 2 3 4)) (r7-list-length '(a b . c)))", "(4 #f)"),
    ("6.10", "call/cc abandons the rest", "(call/cc (lambda (k) (+ 1 (k 42))))", "42"),
    ("6.10", "call-with-values", "(call-with-values (lambda () (values 4 5)) (lambda (a b) b))", "5"),
    ("6.10", "call-with-values with primitives", "(call-with-values * -)", "-1"),
    ("6.10", "map over the empty list", "(map (lambda (x) (* x x)) '())", "()"),
    ("6.10", "call-with-values into cons", "(call-with-values (lambda () (values 1 2)) cons)", "(1 . 2)"),
    ("6.10", "zero values", "(call-with-values (lambda () (values)) list)", "()"),
    ("6.10", "one value is the value", "(+ 1 (values 2))", "3"),
    ("6.10", "dynamic-wind value", "(dynamic-wind (lambda () #f) (lambda () 'during) (lambda () #f))", "during"),
    ("6.10", "dynamic-wind on an escape",
     "(let ((path '())) (call/cc (lambda (k) (dynamic-wind (lambda () (set! path (cons 'in path)))"
     " (lambda () (k 'x)) (lambda () (set! path (cons 'out path)))))) (reverse path))", "(in out)"),
    ("6.10", "dynamic-wind on an error",
     "(let ((log '())) (guard (e (#t (reverse (cons 'handled log))))"
     " (dynamic-wind (lambda () (set! log (cons 'before log))) (lambda () (raise 'oops))"
     " (lambda () (set! log (cons 'after log))))))", "(before after handled)"),
    ("6.10", "dynamic-wind re-entered (report example)",
     "(let ((path '()) (c #f)) (let ((add (lambda (s) (set! path (cons s path)))))"
     " (dynamic-wind (lambda () (add 'connect))"
     " (lambda () (add (call-with-current-continuation (lambda (c0) (set! c c0) 'talk1))))"
     " (lambda () (add 'disconnect)))"
     " (if (< (length path) 4) (c 'talk2) (reverse path))))",
     Pending("re-entrant continuations", "(connect talk1 disconnect connect talk2 disconnect)")),
    ("6.10", "apply with a non-list", "(apply + 1 2)", Raises("error")),

    # ---------------------------------------------------------------- 6.11 exceptions
    ("6.11", "raise-continuable (report example)",
     "(with-exception-handler (lambda (con) (cond ((string? con) 42) (else 0)))"
     " (lambda () (+ (raise-continuable \"should be a number\") 23)))", "65"),
    ("6.11", "a handler escaping with call/cc",
     "(call-with-current-continuation (lambda (k) (with-exception-handler (lambda (e) (k (list 'caught e)))"
     " (lambda () (+ 1 (raise 'boom))))))", "(caught boom)"),
    ("6.11", "a handler returning from raise is an error",
     "(with-exception-handler (lambda (e) 0) (lambda () (+ 1 (raise 'oops))))", Raises("error")),
    ("6.11", "nested handlers: the outer handles the inner's raise",
     "(with-exception-handler (lambda (e) 10) (lambda () (with-exception-handler"
     " (lambda (e) (+ (raise-continuable (* e 2)) 1)) (lambda () (raise-continuable 5)))))", "11"),
    ("6.11", "error-object?", '(list (guard (e (#t (error-object? e))) (error "x"))'
     " (guard (e (#t (error-object? e))) (raise 'x)))", "(#t #f)"),
    ("6.11", "error-object-message and irritants",
     "(guard (e (#t (list (error-object-message e) (error-object-irritants e))))"
     ' (error "bad thing" 1 \'two "three"))', '("bad thing" (1 two "three"))'),
    ("6.11", "error with no irritants", '(guard (e (#t (error-object-irritants e))) (error "plain"))', "()"),
    ("6.11", "raise any object", "(guard (e ((symbol? e) (list 'sym e))) (raise 'boom))", "(sym boom)"),
    ("6.11", "guard a raise-continuable", "(guard (e ((number? e) (* e 2))) (raise-continuable 21))", "42"),
    ("6.11", "an uncaught error", '(error "uncaught here" 7)', Raises("error", "uncaught here")),
    ("6.11", "file-error? of an ordinary error", '(guard (e (#t (file-error? e))) (error "x"))', "#f"),
    ("6.11", "read-error? of an incomplete datum",
     '(guard (e (#t (read-error? e))) (read (open-input-string "(1 2")))', "#t"),
    ("6.11", "a handler sees a primitive's error",
     "(call/cc (lambda (k) (with-exception-handler (lambda (e) (k 'handled)) (lambda () (car 5)))))", "handled"),

    # ---------------------------------------------------------------- 6.12 environments and evaluation
    ("6.12", "eval in (environment '(scheme base))", "(eval '(* 7 3) (environment '(scheme base)))",
     "21"),
    ("6.12", "eval a lambda (report example)",
     "(let ((f (eval '(lambda (f x) (f x x)) (environment '(scheme base))))) (f + 10))",
     "20"),
    ("6.12", "eval in the interaction environment", "(eval '(+ 1 2) (interaction-environment))",
     "3"),
    ("6.12", "eval a quoted datum", "(eval ''a (environment '(scheme base)))",
     "a"),
    ("6.12", "scheme-report-environment", "(eval '(+ 1 2) (scheme-report-environment 5))",
     "3"),
    ("6.12", "(environment '(scheme file)) is absent", "(environment '(scheme file))",
     Absent("file")),

    # ---------------------------------------------------------------- 6.13 input and output
    ("6.13", "port predicates",
     "(list (input-port? (open-input-string \"x\")) (output-port? (open-output-string))"
     " (textual-port? (open-input-string \"\")) (port? (open-input-string \"\")) (port? 1))", "(#t #t #t #t #f)"),
    ("6.13", "binary-port? (binary ports are absent by design)", "(binary-port? (open-input-bytevector #u8(1)))",
     Absent("bytevector")),
    ("6.13", "read from a string port", '(read (open-input-string "(a b . c)"))', "(a b . c)"),
    ("6.13", "read to the end",
     '(let* ((p (open-input-string "1 2")) (a (read p)) (b (read p))) (list a b (eof-object? (read p))))',
     "(1 2 #t)"),
    ("6.13", "read a vector", '(read (open-input-string "#(1 2)"))', "#(1 2)"),
    ("6.13", "read-char and peek-char",
     '(let* ((p (open-input-string "ab")) (a (peek-char p)) (b (read-char p)) (c (read-char p)))'
     ' (list a b c (eof-object? (read-char p))))',
     "(#\\a #\\a #\\b #t)"),
    ("6.13", "read-line", '(let* ((p (open-input-string "one\\ntwo\\n")) (a (read-line p)) (b (read-line p)))'
     " (list a b (eof-object? (read-line p))))", '("one" "two" #t)'),
    ("6.13", "read-string", '(read-string 3 (open-input-string "abcdef"))', '"abc"'),
    ("6.13", "char-ready?", '(char-ready? (open-input-string "a"))', "#t"),
    ("6.13", "eof-object", "(eof-object? (eof-object))", "#t"),
    ("6.13", "write and display to a string port",
     "(let ((p (open-output-string))) (write 'abc p) (write-char #\\space p) (display \"x y\" p)"
     " (write \"x y\" p) (get-output-string p))", '"abc x y\\"x y\\""'),
    ("6.13", "write-string and newline", '(let ((p (open-output-string))) (write-string "hello" p) (newline p)'
     " (get-output-string p))", '"hello\\n"'),
    ("6.13", "write a list with a string and a character",
     "(let ((p (open-output-string))) (write '(1 \"a\" #\\b) p) (get-output-string p))", '"(1 \\"a\\" #\\\\b)"'),
    ("6.13", "write-simple", "(let ((p (open-output-string))) (write-simple '(1 2) p) (get-output-string p))",
     '"(1 2)"'),
    ("6.13", "write a symbol that needs bars",
     "(let ((p (open-output-string))) (write (string->symbol \"a b\") p) (get-output-string p))", '"|a b|"'),
    ("6.13", "display a character", "(let ((p (open-output-string))) (display #\\a p) (get-output-string p))", '"a"'),
    ("6.13", "call-with-port", '(call-with-port (open-input-string "42") read)',
     "42"),
    ("6.13", "current-output-port is a parameter",
     '(let ((p (open-output-string))) (parameterize ((current-output-port p)) (display "hi")) (get-output-string p))',
     '"hi"'),
    ("6.13", "output-port? of the current port", "(output-port? (current-output-port))",
     "#t"),
    ("6.13", "display to the evaluation's output", '(begin (display "x") (newline) 1)', "1"),
    ("6.13", "input-port-open? after closing",
     '(let ((p (open-input-string "x"))) (close-input-port p) (input-port-open? p))', "#f"),
    ("6.13", "reading a closed port", '(let ((p (open-input-string "abc"))) (close-port p) (read-char p))',
     Raises("error")),
    ("6.13", "flush-output-port", "(begin (flush-output-port) 'ok)",
     "ok"),
    ("6.13", "binary output port",
     "(let ((p (open-output-bytevector))) (write-u8 1 p) (write-bytevector #u8(2 3) p) (get-output-bytevector p))",
     Absent("bytevector")),
    ("6.13", "binary input port",
     "(let* ((p (open-input-bytevector #u8(7 8 9))) (a (peek-u8 p)) (b (read-u8 p))) (list a b (read-bytevector 2 p)))",
     Absent("bytevector")),
    ("6.13", "read of an empty port", '(eof-object? (read (open-input-string "")))', "#t"),
    ("6.13", "open-input-file", '(open-input-file "data.txt")', Absent("open-input-string")),
    ("6.13", "open-output-file", '(open-output-file "out.txt")', Absent("open-output-string")),
    ("6.13", "call-with-output-file", '(call-with-output-file "out.txt" (lambda (p) (write 1 p)))',
     Absent("open-output-string")),
    ("6.13", "with-input-from-file", '(with-input-from-file "data.txt" read)', Absent("open-input-string")),
    ("6.13", "open-binary-input-file", '(open-binary-input-file "data.bin")', Absent("bytevector")),

    # ---------------------------------------------------------------- 6.14 system interface
    ("6.14", "features lists r7rs", "(if (memq 'r7rs (features)) #t #f)", "#t"),
    ("6.14", "load", '(load "lib.scm")', Absent("file")),
    ("6.14", "file-exists?", '(file-exists? "x")', Absent("file")),
    ("6.14", "delete-file", '(delete-file "x")', Absent("file")),
    ("6.14", "command-line", "(command-line)", Absent("process")),
    ("6.14", "exit", "(exit)", Absent("repl")),
    ("6.14", "emergency-exit", "(emergency-exit)", Absent("repl")),
    ("6.14", "get-environment-variable", '(get-environment-variable "HOME")', Absent("environment")),
    ("6.14", "get-environment-variables", "(get-environment-variables)", Absent("environment")),
    ("6.14", "current-second", "(current-second)", Absent("clock")),
    ("6.14", "current-jiffy", "(current-jiffy)", Absent("clock")),
    ("6.14", "jiffies-per-second", "(jiffies-per-second)", Absent("clock")),
]
