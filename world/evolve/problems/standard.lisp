;;; Standard problems (ids 1-15): the list and number basics every round-1 lineage meets.
;;; Reference solutions use only what the seed my-eval handles: define, lambda, if,
;;; cond, let, begin, quote and application (primitives come from the ground).

(problem
  :id 1 :name "factorial" :category standard :difficulty 1
  :description "Define (factorial n), the product 1 x 2 x ... x n, with (factorial 0) = 1. Make (factorial 5) work."
  :call (factorial 5)
  :expect 120
  :hidden (((factorial 0) 1)
           ((factorial 1) 1)
           ((factorial 7) 5040))
  :solution ((define (factorial n)
               (if (= n 0) 1 (* n (factorial (- n 1)))))))

(problem
  :id 2 :name "reverse" :category standard :difficulty 1
  :description "Define (rev lst), the elements of lst in reverse order. Make (rev '(1 2 3 4)) work."
  :call (rev '(1 2 3 4))
  :expect (4 3 2 1)
  :hidden (((rev '()) ())
           ((rev '(a)) (a))
           ((rev '(a (b c) d)) (d (b c) a)))
  :solution ((define (rev-onto lst acc)
               (if (null? lst) acc (rev-onto (cdr lst) (cons (car lst) acc))))
             (define (rev lst) (rev-onto lst '()))))

(problem
  :id 3 :name "flatten" :category standard :difficulty 2
  :description "Define (flatten x): the non-list leaves of the nested list x, left to right; empty lists vanish. Make (flatten '(1 (2 (3 4)) 5)) work."
  :call (flatten '(1 (2 (3 4)) 5))
  :expect (1 2 3 4 5)
  :hidden (((flatten '()) ())
           ((flatten '((a) (() b) ((c d)))) (a b c d))
           ((flatten '(1 2)) (1 2)))
  :solution ((define (flatten-onto x acc)
               (cond ((null? x) acc)
                     ((pair? x) (flatten-onto (car x) (flatten-onto (cdr x) acc)))
                     (else (cons x acc))))
             (define (flatten x) (flatten-onto x '()))))

(problem
  :id 4 :name "group-by" :category standard :difficulty 3
  :description "Define (group-by f lst): a list of groups (key item ...), one per distinct (equal?) value of (f item), keys in order of first appearance, items in their original order. Make (group-by even? '(1 2 3 4 5)) work."
  :call (group-by even? '(1 2 3 4 5))
  :expect ((#f 1 3 5) (#t 2 4))
  :hidden (((group-by car '((a 1) (b 2) (a 3))) ((a (a 1) (a 3)) (b (b 2))))
           ((group-by length '((1) (2 3) () (4))) ((1 (1) (4)) (2 (2 3)) (0 ())))
           ((group-by even? '()) ()))
  :solution ((define (group-add groups k x)
               (cond ((null? groups) (list (list k x)))
                     ((equal? (car (car groups)) k)
                      (cons (append (car groups) (list x)) (cdr groups)))
                     (else (cons (car groups) (group-add (cdr groups) k x)))))
             (define (group-into f lst groups)
               (if (null? lst)
                   groups
                   (group-into f (cdr lst) (group-add groups (f (car lst)) (car lst)))))
             (define (group-by f lst) (group-into f lst '()))))

(problem
  :id 5 :name "sum-list" :category standard :difficulty 1
  :description "Define (sum-list lst), the sum of a list of numbers (0 for the empty list). Make (sum-list '(1 2 3 4)) work."
  :call (sum-list '(1 2 3 4))
  :expect 10
  :hidden (((sum-list '()) 0)
           ((sum-list '(5)) 5)
           ((sum-list '(-3 10 20)) 27))
  :solution ((define (sum-list lst)
               (if (null? lst) 0 (+ (car lst) (sum-list (cdr lst)))))))

(problem
  :id 6 :name "count-of" :category standard :difficulty 1
  :description "Define (count-of x lst), how many elements of lst are equal? to x. Make (count-of 'a '(a b a c a)) work."
  :call (count-of 'a '(a b a c a))
  :expect 3
  :hidden (((count-of 'z '(a b)) 0)
           ((count-of 1 '(1 1 2 1 1)) 4)
           ((count-of '(1) '((1) 1 (1))) 2))
  :solution ((define (count-of x lst)
               (cond ((null? lst) 0)
                     ((equal? x (car lst)) (+ 1 (count-of x (cdr lst))))
                     (else (count-of x (cdr lst)))))))

(problem
  :id 7 :name "last-of" :category standard :difficulty 1
  :description "Define (last-of lst), the last element of a non-empty list. Make (last-of '(a b c d)) work."
  :call (last-of '(a b c d))
  :expect d
  :hidden (((last-of '(7)) 7)
           ((last-of '(1 (2 3))) (2 3))
           ((last-of '(x y)) y))
  :solution ((define (last-of lst)
               (if (null? (cdr lst)) (car lst) (last-of (cdr lst))))))

(problem
  :id 8 :name "range" :category standard :difficulty 1
  :description "Define (range a b), the integers from a up to but not including b (empty when a >= b). Make (range 2 7) work."
  :call (range 2 7)
  :expect (2 3 4 5 6)
  :hidden (((range 0 3) (0 1 2))
           ((range 5 5) ())
           ((range -2 1) (-2 -1 0)))
  :solution ((define (range a b)
               (if (>= a b) '() (cons a (range (+ a 1) b))))))

(problem
  :id 9 :name "fibonacci" :category standard :difficulty 2
  :description "Define (fib n), the n-th Fibonacci number, with (fib 0) = 0 and (fib 1) = 1. Make (fib 10) work."
  :call (fib 10)
  :expect 55
  :hidden (((fib 0) 0)
           ((fib 1) 1)
           ((fib 20) 6765))
  :solution ((define (fib-iter a b n)
               (if (= n 0) a (fib-iter b (+ a b) (- n 1))))
             (define (fib n) (fib-iter 0 1 n))))

(problem
  :id 10 :name "dedupe" :category standard :difficulty 2
  :description "Define (dedupe lst): lst without repeated (equal?) elements, keeping the first occurrence of each. Make (dedupe '(1 2 1 3 2 4)) work."
  :call (dedupe '(1 2 1 3 2 4))
  :expect (1 2 3 4)
  :hidden (((dedupe '()) ())
           ((dedupe '(a a a)) (a))
           ((dedupe '(b a b c a)) (b a c)))
  :solution ((define (dedupe-from lst seen)
               (cond ((null? lst) '())
                     ((member (car lst) seen) (dedupe-from (cdr lst) seen))
                     (else (cons (car lst) (dedupe-from (cdr lst) (cons (car lst) seen))))))
             (define (dedupe lst) (dedupe-from lst '()))))

(problem
  :id 11 :name "list-max" :category standard :difficulty 1
  :description "Define (list-max lst), the largest number of a non-empty list. Make (list-max '(3 9 2 7)) work."
  :call (list-max '(3 9 2 7))
  :expect 9
  :hidden (((list-max '(-5 -2 -9)) -2)
           ((list-max '(4)) 4)
           ((list-max '(1 2 3 10)) 10))
  :solution ((define (max-from best lst)
               (cond ((null? lst) best)
                     ((> (car lst) best) (max-from (car lst) (cdr lst)))
                     (else (max-from best (cdr lst)))))
             (define (list-max lst) (max-from (car lst) (cdr lst)))))

(problem
  :id 12 :name "zip" :category standard :difficulty 1
  :description "Define (zip a b), the list of two-element lists pairing up the elements of a and b; it stops at the shorter list. Make (zip '(1 2 3) '(a b c)) work."
  :call (zip '(1 2 3) '(a b c))
  :expect ((1 a) (2 b) (3 c))
  :hidden (((zip '() '(1)) ())
           ((zip '(x y z) '(1 2)) ((x 1) (y 2)))
           ((zip '(1) '(2)) ((1 2))))
  :solution ((define (zip a b)
               (if (null? a)
                   '()
                   (if (null? b)
                       '()
                       (cons (list (car a) (car b)) (zip (cdr a) (cdr b))))))))

(problem
  :id 13 :name "take-n" :category standard :difficulty 1
  :description "Define (take-n n lst), the first n elements of lst (all of them when lst is shorter). Make (take-n 2 '(a b c d)) work."
  :call (take-n 2 '(a b c d))
  :expect (a b)
  :hidden (((take-n 0 '(a b)) ())
           ((take-n 5 '(1 2 3)) (1 2 3))
           ((take-n 3 '(5 6 7 8 9)) (5 6 7)))
  :solution ((define (take-n n lst)
               (if (= n 0)
                   '()
                   (if (null? lst) '() (cons (car lst) (take-n (- n 1) (cdr lst))))))))

(problem
  :id 14 :name "index-of" :category standard :difficulty 1
  :description "Define (index-of x lst), the zero-based position of the first element equal? to x, or -1 if there is none. Make (index-of 'c '(a b c d)) work."
  :call (index-of 'c '(a b c d))
  :expect 2
  :hidden (((index-of 'z '(a b)) -1)
           ((index-of 1 '(1 2 1)) 0)
           ((index-of '(2) '(1 (2) 3)) 1))
  :solution ((define (index-from x lst i)
               (cond ((null? lst) -1)
                     ((equal? x (car lst)) i)
                     (else (index-from x (cdr lst) (+ i 1)))))
             (define (index-of x lst) (index-from x lst 0))))

(problem
  :id 15 :name "run-length" :category standard :difficulty 2
  :description "Define (rle lst), the run-length encoding of lst: a list of (element count) for each run of equal? neighbours. Make (rle '(a a b c c c)) work."
  :call (rle '(a a b c c c))
  :expect ((a 2) (b 1) (c 3))
  :hidden (((rle '()) ())
           ((rle '(x)) ((x 1)))
           ((rle '(1 1 2 1 1 1)) ((1 2) (2 1) (1 3))))
  :solution ((define (rle-run x n lst)
               (cond ((null? lst) (list (list x n)))
                     ((equal? (car lst) x) (rle-run x (+ n 1) (cdr lst)))
                     (else (cons (list x n) (rle-run (car lst) 1 (cdr lst))))))
             (define (rle lst)
               (if (null? lst) '() (rle-run (car lst) 1 (cdr lst))))))
