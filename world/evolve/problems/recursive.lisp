;;; Recursive problems (ids 600-609): searching, sorting, trees and backtracking.
;;; Reference solutions use only what the seed my-eval handles: define, lambda, if,
;;; cond, let, begin, quote and application (primitives come from the ground).
;;; Binary search trees are () or (value left right).

(problem
  :id 600 :name "binary-search" :category recursive :difficulty 2
  :description "Define (bsearch lst x): the zero-based index of x in the sorted list of distinct numbers lst, found by binary search (halving the index range each step), or -1 when x is absent. Make (bsearch '(1 3 5 7 9 11) 7) work."
  :call (bsearch '(1 3 5 7 9 11) 7)
  :expect 3
  :hidden (((bsearch '(1 3 5 7 9 11) 1) 0)
           ((bsearch '(1 3 5) 4) -1)
           ((bsearch '() 1) -1)
           ((bsearch '(2 4 6 8 10 12 14 16) 16) 7))
  :solution ((define (bsearch-in lst x lo hi)
               (if (> lo hi)
                   -1
                   (let ((mid (quotient (+ lo hi) 2)))
                     (let ((y (list-ref lst mid)))
                       (cond ((= y x) mid)
                             ((< y x) (bsearch-in lst x (+ mid 1) hi))
                             (else (bsearch-in lst x lo (- mid 1))))))))
             (define (bsearch lst x) (bsearch-in lst x 0 (- (length lst) 1)))))

(problem
  :id 601 :name "merge-sort" :category recursive :difficulty 3
  :description "Define (merge-sort lst): the numbers of lst in non-decreasing order, by splitting the list in two halves, sorting each and merging them. Make (merge-sort '(5 2 9 1 5 6)) work."
  :call (merge-sort '(5 2 9 1 5 6))
  :expect (1 2 5 5 6 9)
  :hidden (((merge-sort '()) ())
           ((merge-sort '(3 1 2)) (1 2 3))
           ((merge-sort '(4 -1 4 0)) (-1 0 4 4)))
  :solution ((define (merge-lists a b)
               (cond ((null? a) b)
                     ((null? b) a)
                     ((<= (car a) (car b)) (cons (car a) (merge-lists (cdr a) b)))
                     (else (cons (car b) (merge-lists a (cdr b))))))
             (define (odd-positions lst)
               (if (null? lst) '() (cons (car lst) (even-positions (cdr lst)))))
             (define (even-positions lst)
               (if (null? lst) '() (odd-positions (cdr lst))))
             (define (merge-sort lst)
               (cond ((null? lst) lst)
                     ((null? (cdr lst)) lst)
                     (else (merge-lists (merge-sort (odd-positions lst))
                                        (merge-sort (even-positions lst))))))))

(problem
  :id 602 :name "bst-insert" :category recursive :difficulty 3
  :description "A binary search tree is () or (value left right). Define (bst-insert tree x) (smaller values go left, others right), (bst-from-list lst) (insert the elements of lst from left to right into ()) and (bst-inorder tree) (the values in order). Make (bst-inorder (bst-from-list '(5 3 8 1 4))) work."
  :call (bst-inorder (bst-from-list '(5 3 8 1 4)))
  :expect (1 3 4 5 8)
  :hidden (((bst-from-list '(2 1 3)) (2 (1 () ()) (3 () ())))
           ((bst-inorder (bst-from-list '())) ())
           ((bst-inorder (bst-insert '(5 () ()) 2)) (2 5)))
  :solution ((define (bst-insert tree x)
               (cond ((null? tree) (list x '() '()))
                     ((< x (car tree)) (list (car tree) (bst-insert (cadr tree) x) (caddr tree)))
                     (else (list (car tree) (cadr tree) (bst-insert (caddr tree) x)))))
             (define (bst-insert-all tree lst)
               (if (null? lst) tree (bst-insert-all (bst-insert tree (car lst)) (cdr lst))))
             (define (bst-from-list lst) (bst-insert-all '() lst))
             (define (bst-inorder tree)
               (if (null? tree)
                   '()
                   (append (bst-inorder (cadr tree)) (cons (car tree) (bst-inorder (caddr tree))))))))

(problem
  :id 603 :name "bst-contains" :category recursive :difficulty 2
  :description "A binary search tree is () or (value left right), smaller values on the left. Define (bst-contains? tree x): #t when x is in the tree, else #f, visiting only one path from the root. Make (bst-contains? '(5 (3 () ()) (8 () ())) 8) work."
  :call (bst-contains? '(5 (3 () ()) (8 () ())) 8)
  :expect #t
  :hidden (((bst-contains? '() 1) #f)
           ((bst-contains? '(5 (3 (1 () ()) ()) (8 () ())) 1) #t)
           ((bst-contains? '(5 (3 () ()) (8 () ())) 4) #f))
  :solution ((define (bst-contains? tree x)
               (cond ((null? tree) #f)
                     ((= x (car tree)) #t)
                     ((< x (car tree)) (bst-contains? (cadr tree) x))
                     (else (bst-contains? (caddr tree) x))))))

(problem
  :id 604 :name "n-queens" :category recursive :difficulty 4
  :description "Define (queens n): the number of ways to place n queens on an n x n chessboard so that no two share a row, a column or a diagonal (backtrack row by row; the columns and diagonals already attacked can be kept as bit masks). Make (queens 4) work."
  :call (queens 4)
  :expect 2
  :hidden (((queens 1) 1)
           ((queens 2) 0)
           ((queens 3) 0))
  :solution ((define (queens-count all cols ld rd)
               (if (= cols all)
                   1
                   (queens-spots all cols ld rd (bitwise-and all (bitwise-not (bitwise-or cols ld rd))))))
             (define (queens-spots all cols ld rd free)
               (if (= free 0)
                   0
                   (let ((bit (bitwise-and free (- free))))
                     (+ (queens-count all (bitwise-or cols bit) (* 2 (bitwise-or ld bit)) (quotient (bitwise-or rd bit) 2))
                        (queens-spots all cols ld rd (- free bit))))))
             (define (queens n) (queens-count (- (expt 2 n) 1) 0 0 0))))

(problem
  :id 605 :name "towers-of-hanoi" :category recursive :difficulty 3
  :description "Define (hanoi n from to via): the list of moves (peg-a peg-b) that carry a tower of n discs from peg from to peg to, using via, never putting a larger disc on a smaller one (move n-1 discs out of the way, move the largest, move the n-1 back on top). Make (hanoi 3 'a 'c 'b) work."
  :call (hanoi 3 'a 'c 'b)
  :expect ((a c) (a b) (c b) (a c) (b a) (b c) (a c))
  :hidden (((hanoi 0 'a 'c 'b) ())
           ((hanoi 1 'x 'y 'z) ((x y)))
           ((hanoi 2 'p 'q 'r) ((p r) (p q) (r q)))
           ((length (hanoi 4 'a 'c 'b)) 15))
  :solution ((define (hanoi n from to via)
               (if (= n 0)
                   '()
                   (append (hanoi (- n 1) from via to)
                           (cons (list from to) (hanoi (- n 1) via to from)))))))

(problem
  :id 606 :name "nesting-depth" :category recursive :difficulty 2
  :description "Define (depth x): 0 when x is not a pair; for a list, 1 more than the greatest depth of its elements. Make (depth '(a (b (c)) d)) work."
  :call (depth '(a (b (c)) d))
  :expect 3
  :hidden (((depth 'a) 0)
           ((depth '(1 2)) 1)
           ((depth '((((x))))) 4)
           ((depth '(() ())) 1))
  :solution ((define (depth-max lst best)
               (if (null? lst) best (depth-max (cdr lst) (max best (depth (car lst))))))
             (define (depth x) (if (pair? x) (+ 1 (depth-max x 0)) 0))))

(problem
  :id 607 :name "ackermann" :category recursive :difficulty 2
  :description "Define (ackermann m n): n+1 when m = 0; (ackermann (- m 1) 1) when n = 0; else (ackermann (- m 1) (ackermann m (- n 1))). Make (ackermann 2 1) work."
  :call (ackermann 2 1)
  :expect 5
  :hidden (((ackermann 0 5) 6)
           ((ackermann 1 2) 4)
           ((ackermann 2 0) 3))
  :solution ((define (ackermann m n)
               (cond ((= m 0) (+ n 1))
                     ((= n 0) (ackermann (- m 1) 1))
                     (else (ackermann (- m 1) (ackermann m (- n 1))))))))

(problem
  :id 608 :name "grid-paths" :category recursive :difficulty 2
  :description "Define (grid-paths r c): the number of paths from one corner of a grid to the opposite corner moving r steps down and c steps right in any order. Make (grid-paths 2 2) work."
  :call (grid-paths 2 2)
  :expect 6
  :hidden (((grid-paths 0 0) 1)
           ((grid-paths 1 3) 4)
           ((grid-paths 3 3) 20))
  :solution ((define (grid-paths r c)
               (cond ((= r 0) 1)
                     ((= c 0) 1)
                     (else (+ (grid-paths (- r 1) c) (grid-paths r (- c 1))))))))

(problem
  :id 609 :name "combinations" :category recursive :difficulty 3
  :description "Define (combinations lst k): every k-element sub-list of lst, keeping the elements' order; those that contain the first element come first. Make (combinations '(a b c d) 2) work."
  :call (combinations '(a b c d) 2)
  :expect ((a b) (a c) (a d) (b c) (b d) (c d))
  :hidden (((combinations '(1 2 3) 0) (()))
           ((combinations '(1 2) 3) ())
           ((combinations '(x y z) 3) ((x y z)))
           ((combinations '(1 2 3) 2) ((1 2) (1 3) (2 3))))
  :solution ((define (cons-each x lsts)
               (if (null? lsts) '() (cons (cons x (car lsts)) (cons-each x (cdr lsts)))))
             (define (combinations lst k)
               (cond ((= k 0) '(()))
                     ((null? lst) '())
                     (else (append (cons-each (car lst) (combinations (cdr lst) (- k 1)))
                                   (combinations (cdr lst) k)))))))
