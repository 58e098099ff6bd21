;;; Hard problems (ids 101-120): trees, graphs, continuations, Church numerals, matrices.
;;; Reference solutions use only what the seed my-eval handles: define, lambda, if,
;;; cond, let, begin, quote and application (primitives come from the ground).

(problem
  :id 101 :name "tree-map" :category hard :difficulty 2
  :description "Define (tree-map f tree): the nested list tree with every non-list leaf x replaced by (f x), keeping its shape (empty lists stay empty). Make (tree-map square '(1 (2 3) ((4)))) work."
  :call (tree-map square '(1 (2 3) ((4))))
  :expect (1 (4 9) ((16)))
  :hidden (((tree-map - '()) ())
           ((tree-map (lambda (x) (+ x 1)) '(1 (2) ())) (2 (3) ()))
           ((tree-map abs '((-1 -2) -3)) ((1 2) 3)))
  :solution ((define (tree-map f tree)
               (cond ((null? tree) '())
                     ((pair? tree) (cons (tree-map f (car tree)) (tree-map f (cdr tree))))
                     (else (f tree))))))

(problem
  :id 102 :name "topological-sort" :category hard :difficulty 4
  :description "Define (topo-sort graph). graph lists entries (node dep ...): node depends on each dep. Return every node once, each after all of its dependencies, found depth-first: take the nodes in the order of the entries; before emitting a node, emit its not-yet-emitted dependencies in the order listed. A dependency without an entry has none. Make (topo-sort '((a b c) (b c) (c) (d a))) work."
  :call (topo-sort '((a b c) (b c) (c) (d a)))
  :expect (c b a d)
  :hidden (((topo-sort '()) ())
           ((topo-sort '((z y x) (y x) (x))) (x y z))
           ((topo-sort '((shirt) (tie shirt) (jacket tie belt) (belt pants) (pants)))
            (shirt tie pants belt jacket)))
  :solution ((define (topo-deps graph node)
               (let ((entry (assq node graph)))
                 (if entry (cdr entry) '())))
             (define (topo-visit graph node done)
               (if (memq node done)
                   done
                   (cons node (topo-visit-all graph (topo-deps graph node) done))))
             (define (topo-visit-all graph nodes done)
               (if (null? nodes)
                   done
                   (topo-visit-all graph (cdr nodes) (topo-visit graph (car nodes) done))))
             (define (topo-nodes graph)
               (if (null? graph) '() (cons (car (car graph)) (topo-nodes (cdr graph)))))
             (define (topo-sort graph)
               (reverse (topo-visit-all graph (topo-nodes graph) '())))))

(problem
  :id 103 :name "factorial-cps" :category hard :difficulty 3
  :description "Define (fact-cps n k) in continuation-passing style: it computes n! and passes it to the continuation k, which receives the final answer; every recursive call is a tail call that carries a new continuation. Make (fact-cps 5 (lambda (v) v)) work."
  :call (fact-cps 5 (lambda (v) v))
  :expect 120
  :hidden (((fact-cps 0 (lambda (v) v)) 1)
           ((fact-cps 4 (lambda (v) (list 'result v))) (result 24))
           ((fact-cps 3 (lambda (v) (+ v 100))) 106))
  :solution ((define (fact-cps n k)
               (if (= n 0)
                   (k 1)
                   (fact-cps (- n 1) (lambda (v) (k (* n v))))))))

(problem
  :id 104 :name "church-arithmetic" :category hard :difficulty 4
  :description "Church numerals: the numeral for n is a procedure that takes f and returns a procedure applying f n times: ((n f) x). Define (int->church k), (church->int n), (church-add m n) and (church-mul m n). Make (church->int (church-mul (int->church 3) (church-add (int->church 1) (int->church 1)))) work."
  :call (church->int (church-mul (int->church 3) (church-add (int->church 1) (int->church 1))))
  :expect 6
  :hidden (((church->int (int->church 0)) 0)
           ((church->int (church-add (int->church 2) (int->church 5))) 7)
           ((church->int (church-mul (int->church 0) (int->church 4))) 0)
           ((((int->church 3) (lambda (l) (cons 'x l))) '()) (x x x)))
  :solution ((define (church-succ n) (lambda (f) (lambda (x) (f ((n f) x)))))
             (define (int->church k)
               (if (= k 0) (lambda (f) (lambda (x) x)) (church-succ (int->church (- k 1)))))
             (define (church->int n) ((n (lambda (x) (+ x 1))) 0))
             (define (church-add m n) (lambda (f) (lambda (x) ((m f) ((n f) x)))))
             (define (church-mul m n) (lambda (f) (m (n f))))))

(problem
  :id 105 :name "matrix-multiply" :category hard :difficulty 3
  :description "Matrices are lists of rows. Define (mat-mul a b), the matrix product of a (m x n) and b (n x p). Make (mat-mul '((1 2) (3 4)) '((5 6) (7 8))) work."
  :call (mat-mul '((1 2) (3 4)) '((5 6) (7 8)))
  :expect ((19 22) (43 50))
  :hidden (((mat-mul '((1 0) (0 1)) '((4 5) (6 7))) ((4 5) (6 7)))
           ((mat-mul '((1 2 3)) '((1) (2) (3))) ((14)))
           ((mat-mul '((2) (1)) '((3 4))) ((6 8) (3 4))))
  :solution ((define (mm-heads m) (if (null? m) '() (cons (car (car m)) (mm-heads (cdr m)))))
             (define (mm-tails m) (if (null? m) '() (cons (cdr (car m)) (mm-tails (cdr m)))))
             (define (mm-columns m)
               (if (null? (car m)) '() (cons (mm-heads m) (mm-columns (mm-tails m)))))
             (define (mm-dot a b)
               (if (null? a) 0 (+ (* (car a) (car b)) (mm-dot (cdr a) (cdr b)))))
             (define (mm-row row cols)
               (if (null? cols) '() (cons (mm-dot row (car cols)) (mm-row row (cdr cols)))))
             (define (mm-rows rows cols)
               (if (null? rows) '() (cons (mm-row (car rows) cols) (mm-rows (cdr rows) cols))))
             (define (mat-mul a b) (mm-rows a (mm-columns b)))))

(problem
  :id 106 :name "permutations" :category hard :difficulty 3
  :description "Define (permutations lst): every ordering of the distinct elements of lst, those starting with the first element first, then those starting with the second, and so on (recursively the same order). Make (permutations '(1 2 3)) work."
  :call (permutations '(1 2 3))
  :expect ((1 2 3) (1 3 2) (2 1 3) (2 3 1) (3 1 2) (3 2 1))
  :hidden (((permutations '()) (()))
           ((permutations '(x)) ((x)))
           ((permutations '(a b)) ((a b) (b a))))
  :solution ((define (cons-each x lsts)
               (if (null? lsts) '() (cons (cons x (car lsts)) (cons-each x (cdr lsts)))))
             (define (remove-first x lst)
               (cond ((null? lst) '())
                     ((equal? x (car lst)) (cdr lst))
                     (else (cons (car lst) (remove-first x (cdr lst))))))
             (define (perms-starting items all)
               (if (null? items)
                   '()
                   (append (cons-each (car items) (permutations (remove-first (car items) all)))
                           (perms-starting (cdr items) all))))
             (define (permutations lst)
               (if (null? lst) '(()) (perms-starting lst lst)))))

(problem
  :id 107 :name "powerset" :category hard :difficulty 3
  :description "Define (powerset s): all subsets of the list s. The subsets of (x . rest) are the subsets of rest followed by each of those with x added at the front. Make (powerset '(a b c)) work."
  :call (powerset '(a b c))
  :expect (() (c) (b) (b c) (a) (a c) (a b) (a b c))
  :hidden (((powerset '()) (()))
           ((powerset '(1)) (() (1)))
           ((length (powerset '(1 2 3 4))) 16))
  :solution ((define (cons-each x lsts)
               (if (null? lsts) '() (cons (cons x (car lsts)) (cons-each x (cdr lsts)))))
             (define (powerset s)
               (if (null? s)
                   '(())
                   (let ((rest (powerset (cdr s))))
                     (append rest (cons-each (car s) rest)))))))

(problem
  :id 108 :name "balanced-brackets" :category hard :difficulty 3
  :description "Define (balanced? s): #t when the brackets (), [] and {} in the string s are balanced and properly nested, ignoring every other character, else #f. Make (balanced? \"{[()()]}\") work."
  :call (balanced? "{[()()]}")
  :expect #t
  :hidden (((balanced? "([)]") #f)
           ((balanced? "((") #f)
           ((balanced? "") #t)
           ((balanced? "a(b]c") #f)
           ((balanced? "x[y]{z}") #t))
  :solution ((define (bracket-closer c)
               (cond ((string=? c "(") ")") ((string=? c "[") "]") ((string=? c "{") "}") (else #f)))
             (define (bracket-scan s i stack)
               (if (= i (string-length s))
                   (null? stack)
                   (let ((c (substring s i (+ i 1))))
                     (cond ((bracket-closer c) (bracket-scan s (+ i 1) (cons (bracket-closer c) stack)))
                           ((member c '(")" "]" "}"))
                            (if (null? stack)
                                #f
                                (if (string=? c (car stack)) (bracket-scan s (+ i 1) (cdr stack)) #f)))
                           (else (bracket-scan s (+ i 1) stack))))))
             (define (balanced? s) (bracket-scan s 0 '()))))

(problem
  :id 109 :name "deep-reverse" :category hard :difficulty 2
  :description "Define (deep-reverse x): x with every list in it reversed, at every depth. Make (deep-reverse '(1 (2 3) (4 (5 6)))) work."
  :call (deep-reverse '(1 (2 3) (4 (5 6))))
  :expect (((6 5) 4) (3 2) 1)
  :hidden (((deep-reverse '()) ())
           ((deep-reverse '((a b) c)) (c (b a)))
           ((deep-reverse '(1 2 3)) (3 2 1)))
  :solution ((define (deep-reverse-onto lst acc)
               (if (null? lst) acc (deep-reverse-onto (cdr lst) (cons (deep-reverse (car lst)) acc))))
             (define (deep-reverse x)
               (if (pair? x) (deep-reverse-onto x '()) x))))

(problem
  :id 110 :name "shortest-path" :category hard :difficulty 4
  :description "A directed graph is a list of entries (node neighbour ...). Define (bfs-dist graph from to): the number of edges on a shortest path from from to to (0 when they are the same node), or -1 when to cannot be reached. Make (bfs-dist '((a b c) (b d) (c d) (d e) (e)) 'a 'e) work."
  :call (bfs-dist '((a b c) (b d) (c d) (d e) (e)) 'a 'e)
  :expect 3
  :hidden (((bfs-dist '((a b) (b)) 'a 'a) 0)
           ((bfs-dist '((a b) (b) (c a)) 'a 'c) -1)
           ((bfs-dist '((a b) (b c) (c a)) 'b 'a) 2))
  :solution ((define (bfs-neighbours graph node)
               (let ((entry (assq node graph)))
                 (if entry (cdr entry) '())))
             (define (bfs-add nodes acc seen)
               (cond ((null? nodes) acc)
                     ((memq (car nodes) seen) (bfs-add (cdr nodes) acc seen))
                     ((memq (car nodes) acc) (bfs-add (cdr nodes) acc seen))
                     (else (bfs-add (cdr nodes) (cons (car nodes) acc) seen))))
             (define (bfs-next graph frontier acc seen)
               (if (null? frontier)
                   acc
                   (bfs-next graph (cdr frontier) (bfs-add (bfs-neighbours graph (car frontier)) acc seen) seen)))
             (define (bfs-from graph frontier seen to d)
               (cond ((null? frontier) -1)
                     ((memq to frontier) d)
                     (else (let ((next (bfs-next graph frontier '() seen)))
                             (bfs-from graph next (append next seen) to (+ d 1))))))
             (define (bfs-dist graph from to)
               (bfs-from graph (list from) (list from) to 0))))

(problem
  :id 111 :name "calculator" :category hard :difficulty 3
  :description "Define (calc e): e is a number or (op arg ...) with op one of + * - and each arg itself such an expression. + and * take any number of arguments ((+) is 0, (*) is 1); - with one argument negates, with more subtracts the rest from the first. Make (calc '(+ 1 (* 2 3))) work."
  :call (calc '(+ 1 (* 2 3)))
  :expect 7
  :hidden (((calc 5) 5)
           ((calc '(- 10 1 2 3)) 4)
           ((calc '(- 4)) -4)
           ((calc '(* (+) (*) 2)) 0)
           ((calc '(* (+ 1 2 3) (- 10 4) 2)) 72))
  :solution ((define (calc-all es)
               (if (null? es) '() (cons (calc (car es)) (calc-all (cdr es)))))
             (define (calc-sum xs) (if (null? xs) 0 (+ (car xs) (calc-sum (cdr xs)))))
             (define (calc-product xs) (if (null? xs) 1 (* (car xs) (calc-product (cdr xs)))))
             (define (calc-apply op xs)
               (cond ((eq? op '+) (calc-sum xs))
                     ((eq? op '*) (calc-product xs))
                     ((null? (cdr xs)) (- (car xs)))
                     (else (- (car xs) (calc-sum (cdr xs))))))
             (define (calc e)
               (if (number? e) e (calc-apply (car e) (calc-all (cdr e)))))))

(problem
  :id 112 :name "subset-sum" :category hard :difficulty 3
  :description "Define (subset-sum? lst target): #t when some sub-collection of the positive integers in lst adds up to exactly target (the empty collection adds up to 0), else #f. Make (subset-sum? '(3 34 4 12 5 2) 9) work."
  :call (subset-sum? '(3 34 4 12 5 2) 9)
  :expect #t
  :hidden (((subset-sum? '(3 34 4 12 5 2) 30) #f)
           ((subset-sum? '() 0) #t)
           ((subset-sum? '(7) 3) #f)
           ((subset-sum? '(1 5 11 5) 22) #t))
  :solution ((define (subset-sum? lst target)
               (cond ((= target 0) #t)
                     ((< target 0) #f)
                     ((null? lst) #f)
                     ((subset-sum? (cdr lst) (- target (car lst))) #t)
                     (else (subset-sum? (cdr lst) target))))))

(problem
  :id 113 :name "get-in" :category hard :difficulty 2
  :description "Nested association lists map keys to values, which may be association lists themselves. Define (get-in data path): follow the keys of path through data with assq, returning the value reached, or #f as soon as a key is missing or the value is not an association list. Make (get-in '((a (b . 1) (c . 2)) (d . 3)) '(a c)) work."
  :call (get-in '((a (b . 1) (c . 2)) (d . 3)) '(a c))
  :expect 2
  :hidden (((get-in '((x . 5)) '(x)) 5)
           ((get-in '((x . 5)) '(y)) #f)
           ((get-in '((x . 5)) '(x y)) #f)
           ((get-in '((a (b . 1))) '()) ((a (b . 1)))))
  :solution ((define (get-in data path)
               (cond ((null? path) data)
                     ((not (pair? data)) #f)
                     (else (let ((entry (assq (car path) data)))
                             (if entry (get-in (cdr entry) (cdr path)) #f)))))))

(problem
  :id 114 :name "transpose" :category hard :difficulty 2
  :description "Matrices are lists of rows of equal length. Define (transpose m), its rows turned into columns; the empty matrix () transposes to (). Make (transpose '((1 2 3) (4 5 6))) work."
  :call (transpose '((1 2 3) (4 5 6)))
  :expect ((1 4) (2 5) (3 6))
  :hidden (((transpose '()) ())
           ((transpose '((1))) ((1)))
           ((transpose '((a b))) ((a) (b)))
           ((transpose '((1 2) (3 4) (5 6))) ((1 3 5) (2 4 6))))
  :solution ((define (mm-heads m) (if (null? m) '() (cons (car (car m)) (mm-heads (cdr m)))))
             (define (mm-tails m) (if (null? m) '() (cons (cdr (car m)) (mm-tails (cdr m)))))
             (define (transpose m)
               (cond ((null? m) '())
                     ((null? (car m)) '())
                     (else (cons (mm-heads m) (transpose (mm-tails m))))))))

(problem
  :id 115 :name "cartesian-product" :category hard :difficulty 2
  :description "Define (cartesian xs ys): every two-element list (x y) with x from xs and y from ys, ordered by x first, then y. Make (cartesian '(1 2) '(a b)) work."
  :call (cartesian '(1 2) '(a b))
  :expect ((1 a) (1 b) (2 a) (2 b))
  :hidden (((cartesian '() '(1)) ())
           ((cartesian '(x) '(1 2 3)) ((x 1) (x 2) (x 3)))
           ((cartesian '(1 2) '()) ()))
  :solution ((define (pair-with x ys)
               (if (null? ys) '() (cons (list x (car ys)) (pair-with x (cdr ys)))))
             (define (cartesian xs ys)
               (if (null? xs) '() (append (pair-with (car xs) ys) (cartesian (cdr xs) ys))))))

(problem
  :id 116 :name "pascal-row" :category hard :difficulty 2
  :description "Define (pascal n), row n of Pascal's triangle (row 0 is (1)). Make (pascal 4) work."
  :call (pascal 4)
  :expect (1 4 6 4 1)
  :hidden (((pascal 0) (1))
           ((pascal 1) (1 1))
           ((pascal 6) (1 6 15 20 15 6 1)))
  :solution ((define (pascal-sums row)
               (if (null? (cdr row)) '(1) (cons (+ (car row) (car (cdr row))) (pascal-sums (cdr row)))))
             (define (pascal n)
               (if (= n 0) '(1) (cons 1 (pascal-sums (pascal (- n 1))))))))

(problem
  :id 117 :name "count-change" :category hard :difficulty 3
  :description "Define (count-change amount coins): the number of ways to make amount from coins of the denominations in the list coins, each usable any number of times (order does not matter; there is 1 way to make 0). Make (count-change 8 '(5 2 1)) work."
  :call (count-change 8 '(5 2 1))
  :expect 7
  :hidden (((count-change 0 '(1 2)) 1)
           ((count-change 3 '(2)) 0)
           ((count-change 4 '(1 2)) 3))
  :solution ((define (count-change amount coins)
               (cond ((= amount 0) 1)
                     ((< amount 0) 0)
                     ((null? coins) 0)
                     (else (+ (count-change (- amount (car coins)) coins)
                              (count-change amount (cdr coins))))))))

(problem
  :id 118 :name "sublist" :category hard :difficulty 2
  :description "Define (sublist? part lst): #t when the elements of part occur in lst consecutively and in order (the empty list is a sublist of every list), else #f. Make (sublist? '(2 3) '(1 2 3 4)) work."
  :call (sublist? '(2 3) '(1 2 3 4))
  :expect #t
  :hidden (((sublist? '(2 4) '(1 2 3 4)) #f)
           ((sublist? '() '(1)) #t)
           ((sublist? '(1) '()) #f)
           ((sublist? '(3 4) '(1 2 3 4)) #t))
  :solution ((define (list-prefix? part lst)
               (cond ((null? part) #t)
                     ((null? lst) #f)
                     ((equal? (car part) (car lst)) (list-prefix? (cdr part) (cdr lst)))
                     (else #f)))
             (define (sublist? part lst)
               (cond ((list-prefix? part lst) #t)
                     ((null? lst) #f)
                     (else (sublist? part (cdr lst)))))))

(problem
  :id 119 :name "roman-numerals" :category hard :difficulty 3
  :description "Define (to-roman n), the Roman numeral for 1 <= n <= 3999 as an upper-case string, with subtractive pairs (IV, IX, XL, XC, CD, CM). Make (to-roman 1994) work."
  :call (to-roman 1994)
  :expect "MCMXCIV"
  :hidden (((to-roman 4) "IV")
           ((to-roman 9) "IX")
           ((to-roman 3888) "MMMDCCCLXXXVIII")
           ((to-roman 40) "XL"))
  :solution ((define roman-table
               '((1000 "M") (900 "CM") (500 "D") (400 "CD") (100 "C") (90 "XC")
                 (50 "L") (40 "XL") (10 "X") (9 "IX") (5 "V") (4 "IV") (1 "I")))
             (define (roman-from n table)
               (cond ((= n 0) "")
                     ((>= n (car (car table)))
                      (string-append (car (cdr (car table))) (roman-from (- n (car (car table))) table)))
                     (else (roman-from n (cdr table)))))
             (define (to-roman n) (roman-from n roman-table))))

(problem
  :id 120 :name "determinant" :category hard :difficulty 4
  :description "Define (det m), the determinant of a square matrix given as a list of rows (expand along the first row). Make (det '((1 2) (3 4))) work."
  :call (det '((1 2) (3 4)))
  :expect -2
  :hidden (((det '((5))) 5)
           ((det '((2 0 1) (1 3 2) (1 1 1))) 0)
           ((det '((1 2 3) (0 1 4) (5 6 0))) 1))
  :solution ((define (drop-column row j)
               (if (= j 0) (cdr row) (cons (car row) (drop-column (cdr row) (- j 1)))))
             (define (minor-rows rows j)
               (if (null? rows) '() (cons (drop-column (car rows) j) (minor-rows (cdr rows) j))))
             (define (det-row row rest j sign)
               (if (null? row)
                   0
                   (+ (* sign (* (car row) (det (minor-rows rest j))))
                      (det-row (cdr row) rest (+ j 1) (- sign)))))
             (define (det m)
               (if (null? (cdr m)) (car (car m)) (det-row (car m) (cdr m) 0 1)))))
