;;; Meta problems (ids 800-809): closures with state, combinators, Church encodings,
;;; message passing and small interpreters.
;;; Reference solutions use only what the seed my-eval handles: define, lambda, if,
;;; cond, let, begin, quote and application (primitives come from the ground).
;;; Mutable state lives in boxes (box, unbox, set-box!), not set!.

(problem
  :id 800 :name "accumulator" :category meta :difficulty 2
  :description "Define (make-accumulator total): a procedure of one number that adds it to its own running total (starting at total) and returns the new total; each accumulator keeps its own total. Make (let ((acc (make-accumulator 100))) (begin (acc 10) (acc 10))) work."
  :call (let ((acc (make-accumulator 100))) (begin (acc 10) (acc 10)))
  :expect 120
  :hidden (((let ((a (make-accumulator 0))) (a 5)) 5)
           ((let ((a (make-accumulator 1)) (b (make-accumulator 1))) (begin (a 10) (b 2) (a 3))) 14))
  :solution ((define (make-accumulator total)
               (let ((sum (box total)))
                 (lambda (x) (begin (set-box! sum (+ (unbox sum) x)) (unbox sum)))))))

(problem
  :id 801 :name "y-combinator" :category meta :difficulty 4
  :description "Define Y, the applicative-order fixed-point combinator: (Y g) is the procedure p with (p x) = ((g p) x), for any g that takes a procedure and returns a one-argument procedure, so recursion needs no named definition. Make ((Y (lambda (f) (lambda (n) (if (= n 0) 1 (* n (f (- n 1))))))) 5) work."
  :call ((Y (lambda (f) (lambda (n) (if (= n 0) 1 (* n (f (- n 1))))))) 5)
  :expect 120
  :hidden ((((Y (lambda (f) (lambda (n) (if (= n 0) 0 (+ n (f (- n 1))))))) 4) 10)
           (((Y (lambda (f) (lambda (l) (if (null? l) 0 (+ 1 (f (cdr l))))))) '(a b c)) 3))
  :solution ((define (Y g)
               ((lambda (x) (g (lambda (v) ((x x) v))))
                (lambda (x) (g (lambda (v) ((x x) v))))))))

(problem
  :id 802 :name "church-subtraction" :category meta :difficulty 5
  :description "Church numerals: the numeral for n is a procedure that takes f and returns a procedure applying f n times: ((n f) x). Define (int->church k), (church->int n), (church-pred n) (the predecessor, with 0 for 0) and (church-sub m n) (m minus n, 0 when n > m), using only procedures (no lists or numbers inside the numerals). Make (church->int (church-sub (int->church 7) (int->church 3))) work."
  :call (church->int (church-sub (int->church 7) (int->church 3)))
  :expect 4
  :hidden (((church->int (church-pred (int->church 0))) 0)
           ((church->int (church-sub (int->church 5) (int->church 5))) 0)
           ((church->int (church-sub (int->church 6) (int->church 1))) 5)
           ((church->int (church-pred (int->church 3))) 2))
  :solution ((define (church-succ n) (lambda (f) (lambda (x) (f ((n f) x)))))
             (define (int->church k)
               (if (= k 0) (lambda (f) (lambda (x) x)) (church-succ (int->church (- k 1)))))
             (define (church->int n) ((n (lambda (x) (+ x 1))) 0))
             (define (church-pred n)
               (lambda (f)
                 (lambda (x)
                   (((n (lambda (g) (lambda (h) (h (g f))))) (lambda (u) x)) (lambda (u) u)))))
             (define (church-sub m n) ((n church-pred) m))))

(problem
  :id 803 :name "make-stack" :category meta :difficulty 3
  :description "Define (make-stack): a new empty stack, a procedure of one message: ((s 'push) x) pushes x and returns it, (s 'pop) removes and returns the top element (or the symbol empty when there is none), (s 'size) is the number of elements. Each stack is independent. Make (let ((s (make-stack))) (begin ((s 'push) 1) ((s 'push) 2) (s 'pop))) work."
  :call (let ((s (make-stack))) (begin ((s 'push) 1) ((s 'push) 2) (s 'pop)))
  :expect 2
  :hidden (((let ((s (make-stack))) (s 'pop)) empty)
           ((let ((s (make-stack))) (begin ((s 'push) 'a) ((s 'push) 'b) (s 'pop) (s 'pop))) a)
           ((let ((s (make-stack))) (begin ((s 'push) 1) ((s 'push) 1) ((s 'push) 1) (s 'size))) 3)
           ((let ((s (make-stack)) (t (make-stack))) (begin ((s 'push) 1) (t 'size))) 0))
  :solution ((define (stack-pop items)
               (if (null? (unbox items))
                   'empty
                   (let ((top (car (unbox items))))
                     (begin (set-box! items (cdr (unbox items))) top))))
             (define (make-stack)
               (let ((items (box '())))
                 (lambda (msg)
                   (cond ((eq? msg 'push) (lambda (x) (begin (set-box! items (cons x (unbox items))) x)))
                         ((eq? msg 'pop) (stack-pop items))
                         (else (length (unbox items)))))))))

(problem
  :id 804 :name "mini-interpreter" :category meta :difficulty 4
  :description "Write an interpreter for a tiny language: numbers; symbols (looked up in an association list ((name . value) ...)); (+ a b); (* a b); (lambda (x) body) with exactly one parameter, making a closure; and application (f a) of a closure to one argument, which evaluates body with x bound to the argument in the closure's environment. Define (mini-eval e env). Make (mini-eval '((lambda (x) (+ x 1)) 41) '()) work."
  :call (mini-eval '((lambda (x) (+ x 1)) 41) '())
  :expect 42
  :hidden (((mini-eval 'y '((y . 7))) 7)
           ((mini-eval '(* 6 (+ 1 1)) '()) 12)
           ((mini-eval '(((lambda (x) (lambda (y) (+ x y))) 3) 4) '()) 7)
           ((mini-eval '((lambda (f) (f (f 2))) (lambda (n) (* n n))) '()) 16))
  :solution ((define (mini-apply f a)
               (mini-eval (caddr f) (cons (cons (cadr f) a) (car (cdddr f)))))
             (define (mini-eval e env)
               (cond ((number? e) e)
                     ((symbol? e) (cdr (assq e env)))
                     ((eq? (car e) '+) (+ (mini-eval (cadr e) env) (mini-eval (caddr e) env)))
                     ((eq? (car e) '*) (* (mini-eval (cadr e) env) (mini-eval (caddr e) env)))
                     ((eq? (car e) 'lambda) (list 'closure (car (cadr e)) (caddr e) env))
                     (else (mini-apply (mini-eval (car e) env) (mini-eval (cadr e) env)))))))

(problem
  :id 805 :name "make-counter" :category meta :difficulty 2
  :description "Define (make-counter): a new counter at 0, a procedure of one message: (c 'inc) adds one and returns the new count, (c 'get) returns the count, (c 'reset) sets it to 0 and returns 0. Each counter is independent. Make (let ((c (make-counter))) (begin (c 'inc) (c 'inc) (c 'get))) work."
  :call (let ((c (make-counter))) (begin (c 'inc) (c 'inc) (c 'get)))
  :expect 2
  :hidden (((let ((c (make-counter))) (c 'get)) 0)
           ((let ((c (make-counter))) (begin (c 'inc) (c 'inc) (c 'reset) (c 'inc))) 1)
           ((let ((c (make-counter)) (d (make-counter))) (begin (c 'inc) (c 'inc) (c 'inc) (d 'inc))) 1))
  :solution ((define (make-counter)
               (let ((n (box 0)))
                 (lambda (msg)
                   (cond ((eq? msg 'inc) (begin (set-box! n (+ (unbox n) 1)) (unbox n)))
                         ((eq? msg 'reset) (begin (set-box! n 0) 0))
                         (else (unbox n))))))))

(problem
  :id 806 :name "fixed-point" :category meta :difficulty 2
  :description "Define (fixed-point f x): apply f to x, then to the result, and so on, until (f y) is equal? to y; return that y. Make (fixed-point (lambda (x) (quotient (+ x (quotient 100 x)) 2)) 100) work."
  :call (fixed-point (lambda (x) (quotient (+ x (quotient 100 x)) 2)) 100)
  :expect 10
  :hidden (((fixed-point (lambda (x) (if (> x 0) (- x 1) 0)) 5) 0)
           ((fixed-point (lambda (x) (quotient (+ x (quotient 64 x)) 2)) 64) 8)
           ((fixed-point abs -3) 3))
  :solution ((define (fixed-point f x)
               (let ((y (f x)))
                 (if (equal? x y) x (fixed-point f y))))))

(problem
  :id 807 :name "generator" :category meta :difficulty 2
  :description "Define (make-gen lst): a procedure of no arguments that returns the elements of lst one per call, then the symbol done on every later call. Each generator is independent. Make (let ((g (make-gen '(a b c)))) (begin (g) (g))) work."
  :call (let ((g (make-gen '(a b c)))) (begin (g) (g)))
  :expect b
  :hidden (((let ((g (make-gen '()))) (g)) done)
           ((let ((g (make-gen '(1 2)))) (begin (g) (g) (g))) done)
           ((let ((g (make-gen '(x y))) (h (make-gen '(p q)))) (begin (g) (h) (g))) y)
           ((let ((g (make-gen '(7 8)))) (g)) 7))
  :solution ((define (gen-next rest)
               (if (null? (unbox rest))
                   'done
                   (let ((x (car (unbox rest))))
                     (begin (set-box! rest (cdr (unbox rest))) x))))
             (define (make-gen lst)
               (let ((rest (box lst)))
                 (lambda () (gen-next rest))))))

(problem
  :id 808 :name "church-booleans" :category meta :difficulty 3
  :description "Church booleans are curried selectors: church-true is a procedure of a that returns a procedure of b that returns a, church-false returns b. Define church-true and church-false, (church-and p q), (church-or p q), (church-not p) (each returning a Church boolean, built only by applying the booleans) and (church->bool p), the matching #t or #f. Make (church->bool (church-and church-true church-false)) work."
  :call (church->bool (church-and church-true church-false))
  :expect #f
  :hidden (((church->bool (church-or church-false church-true)) #t)
           ((church->bool (church-not church-true)) #f)
           ((church->bool (church-and church-true (church-not church-false))) #t)
           (((church-true 'yes) 'no) yes))
  :solution ((define church-true (lambda (a) (lambda (b) a)))
             (define church-false (lambda (a) (lambda (b) b)))
             (define (church-and p q) ((p q) church-false))
             (define (church-or p q) ((p church-true) q))
             (define (church-not p) ((p church-false) church-true))
             (define (church->bool p) ((p #t) #f))))

(problem
  :id 809 :name "stack-machine" :category meta :difficulty 3
  :description "Define (run-stack program): run a stack machine on the list of instructions program, starting from an empty stack, and return the top of the stack at the end. Instructions: (push n); (add), (sub), (mul) pop b then a and push a+b, a-b, a*b; (dup) pushes a copy of the top; (swap) exchanges the top two. Make (run-stack '((push 2) (push 3) (add) (push 4) (mul))) work."
  :call (run-stack '((push 2) (push 3) (add) (push 4) (mul)))
  :expect 20
  :hidden (((run-stack '((push 7))) 7)
           ((run-stack '((push 10) (push 4) (sub))) 6)
           ((run-stack '((push 3) (dup) (mul))) 9)
           ((run-stack '((push 1) (push 2) (swap) (sub))) 1))
  :solution ((define (stack-step ins stack)
               (cond ((eq? (car ins) 'push) (cons (cadr ins) stack))
                     ((eq? (car ins) 'add) (cons (+ (cadr stack) (car stack)) (cddr stack)))
                     ((eq? (car ins) 'sub) (cons (- (cadr stack) (car stack)) (cddr stack)))
                     ((eq? (car ins) 'mul) (cons (* (cadr stack) (car stack)) (cddr stack)))
                     ((eq? (car ins) 'dup) (cons (car stack) stack))
                     (else (cons (cadr stack) (cons (car stack) (cddr stack))))))
             (define (stack-run program stack)
               (if (null? program) (car stack) (stack-run (cdr program) (stack-step (car program) stack))))
             (define (run-stack program) (stack-run program '()))))
