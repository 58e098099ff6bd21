;;; Higher-order problems (ids 400-409): procedures that take and return procedures.
;;; Reference solutions use only what the seed my-eval handles: define, lambda, if,
;;; cond, let, begin, quote and application (primitives come from the ground).

(problem
  :id 400 :name "curry" :category higher-order :difficulty 2
  :description "Define (curry f) for a two-argument procedure f: ((curry f) a) returns a procedure of b that gives (f a b). Make (((curry +) 3) 4) work."
  :call (((curry +) 3) 4)
  :expect 7
  :hidden (((((curry list) 1) 2) (1 2))
           ((((curry *) 3) 5) 15)
           ((((curry cons) 'a) '(b)) (a b)))
  :solution ((define (curry f) (lambda (a) (lambda (b) (f a b))))))

(problem
  :id 401 :name "pipe" :category higher-order :difficulty 2
  :description "Define (pipe fs): a procedure of one argument that feeds it through the one-argument procedures of the list fs from left to right (the empty list gives the identity). Make ((pipe (list square -)) 3) work."
  :call ((pipe (list square -)) 3)
  :expect -9
  :hidden ((((pipe '()) 5) 5)
           (((pipe (list (lambda (x) (+ x 1)) (lambda (x) (* x 2)))) 5) 12)
           (((pipe (list car cdr)) '((1 2) 3)) (2)))
  :solution ((define (pipe-through fs x)
               (if (null? fs) x (pipe-through (cdr fs) ((car fs) x))))
             (define (pipe fs) (lambda (x) (pipe-through fs x)))))

(problem
  :id 402 :name "complement" :category higher-order :difficulty 1
  :description "Define (complement p): a predicate that is #t exactly where the one-argument predicate p is #f, and #f elsewhere. Make ((complement even?) 3) work."
  :call ((complement even?) 3)
  :expect #t
  :hidden ((((complement even?) 4) #f)
           (((complement null?) '()) #f)
           (((complement (lambda (x) (> x 5))) 2) #t))
  :solution ((define (complement p) (lambda (x) (not (p x))))))

(problem
  :id 403 :name "zip-with" :category higher-order :difficulty 2
  :description "Define (zip-with f a b): the list of (f x y) for the elements x of a and y of b at the same positions, as long as the shorter list. Make (zip-with + '(1 2 3) '(10 20 30)) work."
  :call (zip-with + '(1 2 3) '(10 20 30))
  :expect (11 22 33)
  :hidden (((zip-with list '(a b) '(1 2 3)) ((a 1) (b 2)))
           ((zip-with * '() '(1)) ())
           ((zip-with (lambda (x y) (- x y)) '(5 5) '(1 2)) (4 3)))
  :solution ((define (zip-with f a b)
               (cond ((null? a) '())
                     ((null? b) '())
                     (else (cons (f (car a) (car b)) (zip-with f (cdr a) (cdr b))))))))

(problem
  :id 404 :name "fold-left" :category higher-order :difficulty 2
  :description "Define (fold-l f init lst), folding from the left: (fold-l f init '(1 2 3)) is (f (f (f init 1) 2) 3). Make (fold-l - 0 '(1 2 3)) work."
  :call (fold-l - 0 '(1 2 3))
  :expect -6
  :hidden (((fold-l cons '() '(1 2)) ((() . 1) . 2))
           ((fold-l + 10 '()) 10)
           ((fold-l (lambda (acc x) (+ (* acc 10) x)) 0 '(4 2 7)) 427))
  :solution ((define (fold-l f acc lst)
               (if (null? lst) acc (fold-l f (f acc (car lst)) (cdr lst))))))

(problem
  :id 405 :name "fold-right" :category higher-order :difficulty 2
  :description "Define (fold-r f init lst), folding from the right: (fold-r f init '(1 2 3)) is (f 1 (f 2 (f 3 init))). Make (fold-r - 0 '(1 2 3)) work."
  :call (fold-r - 0 '(1 2 3))
  :expect 2
  :hidden (((fold-r cons '() '(a b c)) (a b c))
           ((fold-r list 'z '(a b)) (a (b z)))
           ((fold-r + 0 '()) 0))
  :solution ((define (fold-r f init lst)
               (if (null? lst) init (f (car lst) (fold-r f init (cdr lst)))))))

(problem
  :id 406 :name "flip" :category higher-order :difficulty 1
  :description "Define (flip f) for a two-argument procedure f: a procedure of two arguments that calls f with them swapped. Make ((flip -) 1 10) work."
  :call ((flip -) 1 10)
  :expect 9
  :hidden ((((flip cons) '(b) 'a) (a b))
           (((flip list) 1 2) (2 1))
           (((flip -) 10 1) -9))
  :solution ((define (flip f) (lambda (a b) (f b a)))))

(problem
  :id 407 :name "repeated" :category higher-order :difficulty 2
  :description "Define (repeated f n): the one-argument procedure that applies f n times (n = 0 gives the identity). Make ((repeated square 2) 3) work."
  :call ((repeated square 2) 3)
  :expect 81
  :hidden ((((repeated square 0) 3) 3)
           (((repeated (lambda (x) (* x 2)) 5) 1) 32)
           (((repeated cdr 2) '(a b c d)) (c d)))
  :solution ((define (repeated f n)
               (if (= n 0)
                   (lambda (x) x)
                   (lambda (x) (f ((repeated f (- n 1)) x)))))))

(problem
  :id 408 :name "take-while" :category higher-order :difficulty 2
  :description "Define (take-while p lst): the longest prefix of lst whose elements all satisfy the predicate p. Make (take-while even? '(2 4 5 6)) work."
  :call (take-while even? '(2 4 5 6))
  :expect (2 4)
  :hidden (((take-while even? '(1 2)) ())
           ((take-while symbol? '(a b 1 c)) (a b))
           ((take-while (lambda (x) (< x 10)) '(1 2 3)) (1 2 3)))
  :solution ((define (take-while p lst)
               (cond ((null? lst) '())
                     ((p (car lst)) (cons (car lst) (take-while p (cdr lst))))
                     (else '())))))

(problem
  :id 409 :name "partition" :category higher-order :difficulty 2
  :description "Define (partition p lst): a two-element list, the elements of lst that satisfy the predicate p and those that do not, each in their original order. Make (partition odd? '(1 2 3 4 5)) work."
  :call (partition odd? '(1 2 3 4 5))
  :expect ((1 3 5) (2 4))
  :hidden (((partition odd? '()) (() ()))
           ((partition symbol? '(a 1 b 2)) ((a b) (1 2)))
           ((partition (lambda (x) (> x 2)) '(1 5 2 7)) ((5 7) (1 2))))
  :solution ((define (partition-with p x rest)
               (if (p x)
                   (list (cons x (car rest)) (cadr rest))
                   (list (car rest) (cons x (cadr rest)))))
             (define (partition p lst)
               (if (null? lst)
                   (list '() '())
                   (partition-with p (car lst) (partition p (cdr lst)))))))
