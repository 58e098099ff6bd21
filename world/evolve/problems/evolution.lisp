;;; Evolution problems (ids 201-208): programs that read, transform and evaluate programs:
;;; symbolic derivatives, simplification, free variables, pattern matching and rewriting.
;;; Reference solutions use only what the seed my-eval handles: define, lambda, if,
;;; cond, let, begin, quote and application (primitives come from the ground).

(problem
  :id 201 :name "symbolic-derivative" :category evolution :difficulty 4
  :description "Expressions are numbers, symbols, (+ a b) and (* a b). Define (deriv e v), the derivative of e with respect to the symbol v: d(u+w) = du + dw and d(u*w) = (u * dw) + (du * w), built with these simplifications: a sum with a 0 operand is the other operand, a product with a 0 operand is 0, a product with a 1 operand is the other operand, and two numbers are added or multiplied; otherwise build (+ a b) or (* a b). Make (deriv '(* x x) 'x) work."
  :call (deriv '(* x x) 'x)
  :expect (+ x x)
  :hidden (((deriv '(+ (* 3 x) 5) 'x) 3)
           ((deriv 'y 'x) 0)
           ((deriv '(* x y) 'x) y)
           ((deriv '(* (* x y) (+ x 3)) 'x) (+ (* x y) (* y (+ x 3)))))
  :solution ((define (number-is? e n) (if (number? e) (= e n) #f))
             (define (deriv-sum a b)
               (cond ((number-is? a 0) b)
                     ((number-is? b 0) a)
                     ((number? a) (if (number? b) (+ a b) (list '+ a b)))
                     (else (list '+ a b))))
             (define (deriv-product a b)
               (cond ((number-is? a 0) 0)
                     ((number-is? b 0) 0)
                     ((number-is? a 1) b)
                     ((number-is? b 1) a)
                     ((number? a) (if (number? b) (* a b) (list '* a b)))
                     (else (list '* a b))))
             (define (deriv e v)
               (cond ((number? e) 0)
                     ((symbol? e) (if (eq? e v) 1 0))
                     ((eq? (car e) '+) (deriv-sum (deriv (cadr e) v) (deriv (caddr e) v)))
                     (else (deriv-sum (deriv-product (cadr e) (deriv (caddr e) v))
                                      (deriv-product (deriv (cadr e) v) (caddr e))))))))

(problem
  :id 202 :name "simplify" :category evolution :difficulty 3
  :description "Expressions are numbers, symbols, (+ a b) and (* a b). Define (simplify e): simplify the operands first, then: two numbers are added or multiplied; a sum with a 0 operand is the other operand; a product with a 0 operand is 0; a product with a 1 operand is the other operand. Make (simplify '(+ (* 1 x) (* 0 y))) work."
  :call (simplify '(+ (* 1 x) (* 0 y)))
  :expect x
  :hidden (((simplify '(* (+ 2 3) z)) (* 5 z))
           ((simplify 'q) q)
           ((simplify '(+ (+ 0 0) (* x 1))) x)
           ((simplify '(* (+ a 0) (+ 1 1))) (* a 2)))
  :solution ((define (number-is? e n) (if (number? e) (= e n) #f))
             (define (simplify-sum a b)
               (cond ((number-is? a 0) b)
                     ((number-is? b 0) a)
                     ((number? a) (if (number? b) (+ a b) (list '+ a b)))
                     (else (list '+ a b))))
             (define (simplify-product a b)
               (cond ((number-is? a 0) 0)
                     ((number-is? b 0) 0)
                     ((number-is? a 1) b)
                     ((number-is? b 1) a)
                     ((number? a) (if (number? b) (* a b) (list '* a b)))
                     (else (list '* a b))))
             (define (simplify e)
               (cond ((not (pair? e)) e)
                     ((eq? (car e) '+) (simplify-sum (simplify (cadr e)) (simplify (caddr e))))
                     (else (simplify-product (simplify (cadr e)) (simplify (caddr e))))))))

(problem
  :id 203 :name "free-variables" :category evolution :difficulty 3
  :description "Expressions are symbols, numbers, (lambda (param ...) body) and applications (f arg ...). Define (free-vars e): the symbols that occur free in e (not bound by an enclosing lambda), each once, in order of first occurrence. Make (free-vars '(lambda (x) (f x y))) work."
  :call (free-vars '(lambda (x) (f x y)))
  :expect (f y)
  :hidden (((free-vars 'x) (x))
           ((free-vars '(lambda (x y) (x y))) ())
           ((free-vars '((lambda (x) x) x)) (x))
           ((free-vars '(g (lambda (a) (h a b)) b 3)) (g h b)))
  :solution ((define (fv-add s acc) (if (memq s acc) acc (append acc (list s))))
             (define (fv e bound acc)
               (cond ((symbol? e) (if (memq e bound) acc (fv-add e acc)))
                     ((not (pair? e)) acc)
                     ((eq? (car e) 'lambda) (fv (caddr e) (append (cadr e) bound) acc))
                     (else (fv-list e bound acc))))
             (define (fv-list es bound acc)
               (if (null? es) acc (fv-list (cdr es) bound (fv (car es) bound acc))))
             (define (free-vars e) (fv e '() '()))))

(problem
  :id 204 :name "pattern-match" :category evolution :difficulty 4
  :description "A pattern is data in which (? name) is a pattern variable. Define (match pattern e): #f when e does not match, else the bindings as an association list ((name . value) ...) in order of first binding. A variable matches any value, but every occurrence of one variable must match equal? values; other parts must be equal?. Make (match '(+ (? a) (? b)) '(+ 1 (* 2 3))) work."
  :call (match '(+ (? a) (? b)) '(+ 1 (* 2 3)))
  :expect ((a . 1) (b * 2 3))
  :hidden (((match '(f (? x) (? x)) '(f 1 1)) ((x . 1)))
           ((match '(f (? x) (? x)) '(f 1 2)) #f)
           ((match '(g 1) '(g 1)) ())
           ((match '(h (? y)) '(h)) #f))
  :solution ((define (pattern-var? p) (if (pair? p) (eq? (car p) '?) #f))
             (define (match-bind name e b)
               (let ((old (assq name b)))
                 (if old
                     (if (equal? (cdr old) e) b #f)
                     (append b (list (cons name e))))))
             (define (match-in p e b)
               (cond ((not b) #f)
                     ((pattern-var? p) (match-bind (cadr p) e b))
                     ((pair? p) (if (pair? e) (match-in (cdr p) (cdr e) (match-in (car p) (car e) b)) #f))
                     ((equal? p e) b)
                     (else #f)))
             (define (match pattern e) (match-in pattern e '()))))

(problem
  :id 205 :name "rewrite-rules" :category evolution :difficulty 5
  :description "A rule is (pattern template); in both, (? name) is a variable (every occurrence of one variable in a pattern must match equal? values). Define (rewrite rules e): if some rule's pattern matches e as a whole, replace e by the first such rule's template with the variables substituted, and rewrite the result again; when no rule matches, return e. Make (rewrite '(((+ (? a) 0) (? a)) ((* (? a) 1) (? a))) '(+ (* (f x) 1) 0)) work."
  :call (rewrite '(((+ (? a) 0) (? a)) ((* (? a) 1) (? a))) '(+ (* (f x) 1) 0))
  :expect (f x)
  :hidden (((rewrite '(((double (? n)) (+ (? n) (? n)))) '(double 7)) (+ 7 7))
           ((rewrite '() '(a b)) (a b))
           ((rewrite '(((swap (? x) (? y)) (pair (? y) (? x)))) '(swap 1 (2))) (pair (2) 1))
           ((rewrite '(((same (? x) (? x)) yes) ((same (? x) (? y)) no)) '(same 1 2)) no))
  :solution ((define (rw-var? p) (if (pair? p) (eq? (car p) '?) #f))
             (define (rw-bind name e b)
               (let ((old (assq name b)))
                 (if old
                     (if (equal? (cdr old) e) b #f)
                     (cons (cons name e) b))))
             (define (rw-match p e b)
               (cond ((not b) #f)
                     ((rw-var? p) (rw-bind (cadr p) e b))
                     ((pair? p) (if (pair? e) (rw-match (cdr p) (cdr e) (rw-match (car p) (car e) b)) #f))
                     ((equal? p e) b)
                     (else #f)))
             (define (rw-subst t b)
               (cond ((rw-var? t) (cdr (assq (cadr t) b)))
                     ((pair? t) (cons (rw-subst (car t) b) (rw-subst (cdr t) b)))
                     (else t)))
             (define (rw-try all rules e)
               (if (null? rules)
                   e
                   (let ((b (rw-match (car (car rules)) e '())))
                     (if b
                         (rewrite all (rw-subst (cadr (car rules)) b))
                         (rw-try all (cdr rules) e)))))
             (define (rewrite rules e) (rw-try rules rules e))))

(problem
  :id 206 :name "expression-evaluator" :category evolution :difficulty 3
  :description "Expressions are numbers, symbols, (+ a b), (- a b), (* a b) and (let ((name expr)) body) with exactly one binding. Define (eval-expr e env), the value of e where env is an association list ((name . value) ...); a let binding shadows outer ones. Make (eval-expr '(+ x (* 2 y)) '((x . 3) (y . 4))) work."
  :call (eval-expr '(+ x (* 2 y)) '((x . 3) (y . 4)))
  :expect 11
  :hidden (((eval-expr 5 '()) 5)
           ((eval-expr '(- a b) '((a . 10) (b . 4))) 6)
           ((eval-expr '(let ((z (+ x 1))) (* z z)) '((x . 2))) 9)
           ((eval-expr '(let ((x 10)) (+ x x)) '((x . 1))) 20))
  :solution ((define (eval-op op a b)
               (cond ((eq? op '+) (+ a b)) ((eq? op '-) (- a b)) (else (* a b))))
             (define (eval-let binding body env)
               (eval-expr body (cons (cons (car binding) (eval-expr (cadr binding) env)) env)))
             (define (eval-expr e env)
               (cond ((number? e) e)
                     ((symbol? e) (cdr (assq e env)))
                     ((eq? (car e) 'let) (eval-let (car (cadr e)) (caddr e) env))
                     (else (eval-op (car e) (eval-expr (cadr e) env) (eval-expr (caddr e) env)))))))

(problem
  :id 207 :name "infix-to-prefix" :category evolution :difficulty 4
  :description "An infix expression is a list operand op operand op ... with op one of + - * /; an operand is a number, a symbol or a parenthesised infix list. * and / bind tighter than + and -, and operators of equal precedence associate to the left. Define (infix->prefix lst), the same expression in prefix form with binary operators. Make (infix->prefix '(1 + 2 * 3)) work."
  :call (infix->prefix '(1 + 2 * 3))
  :expect (+ 1 (* 2 3))
  :hidden (((infix->prefix '(x)) x)
           ((infix->prefix '(a - b - c)) (- (- a b) c))
           ((infix->prefix '((1 + 2) * 3)) (* (+ 1 2) 3))
           ((infix->prefix '(a * b + c / d)) (+ (* a b) (/ c d))))
  :solution ((define (infix-operand x) (if (pair? x) (infix->prefix x) x))
             (define (infix-product-rest acc toks)
               (cond ((null? toks) (cons acc '()))
                     ((memq (car toks) '(* /))
                      (infix-product-rest (list (car toks) acc (infix-operand (cadr toks))) (cddr toks)))
                     (else (cons acc toks))))
             (define (infix-product toks)
               (infix-product-rest (infix-operand (car toks)) (cdr toks)))
             (define (infix-sum-rest acc toks)
               (if (null? toks)
                   acc
                   (let ((p (infix-product (cdr toks))))
                     (infix-sum-rest (list (car toks) acc (car p)) (cdr p)))))
             (define (infix->prefix toks)
               (let ((p (infix-product toks)))
                 (infix-sum-rest (car p) (cdr p))))))

(problem
  :id 208 :name "polynomial-multiply" :category evolution :difficulty 3
  :description "A polynomial is its list of coefficients, lowest degree first: (3 0 1) is 3 + x^2. Define (poly-mul a b), the product of two non-empty polynomials, with exactly len(a) + len(b) - 1 coefficients. Make (poly-mul '(1 2) '(3 0 1)) work."
  :call (poly-mul '(1 2) '(3 0 1))
  :expect (3 6 1 2)
  :hidden (((poly-mul '(1 1) '(1 1)) (1 2 1))
           ((poly-mul '(5) '(1 2 3)) (5 10 15))
           ((poly-mul '(1 -1) '(1 1)) (1 0 -1))
           ((poly-mul '(0 1) '(0 1)) (0 0 1)))
  :solution ((define (poly-add a b)
               (cond ((null? a) b)
                     ((null? b) a)
                     (else (cons (+ (car a) (car b)) (poly-add (cdr a) (cdr b))))))
             (define (poly-scale c p)
               (if (null? p) '() (cons (* c (car p)) (poly-scale c (cdr p)))))
             (define (poly-mul a b)
               (if (null? (cdr a))
                   (poly-scale (car a) b)
                   (poly-add (poly-scale (car a) b) (cons 0 (poly-mul (cdr a) b)))))))
