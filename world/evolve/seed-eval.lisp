;;; The seed evaluator: my-eval, the world's evaluator written in the world's Lisp.
;;;
;;; (my-eval expr env) handles numbers, strings, booleans, symbols, quote, if,
;;; define, lambda, let (and named let), begin, cond and application; every
;;; primitive is the ground's. An environment is () for the world's globals
;;; or a list of frames (see world/evolve/ground.py); env-lookup, env-extend,
;;; env-bind and env-define-form! are ground helpers for it. A procedure made
;;; by my-eval is an ordinary procedure of the world, so primitives such as
;;; map and sort can call it. extend-eval! adds clauses to the cond of
;;; my-eval just before its final else (application) clause.
;;;
;;; For speed, application evaluates operands that are symbols or constants
;;; in place (by the same rules as the first two clauses) and calls with up
;;; to two arguments without building an argument list; my-apply takes the
;;; general case.

(define (my-eval expr env)
  "Evaluate expr in env, the world's own evaluator in its own Lisp."
  (cond ((not (pair? expr)) (if (symbol? expr) (env-lookup env expr) expr))
        ((form? expr 'if)
         (if (my-eval (cadr expr) env)
             (my-eval (caddr expr) env)
             (if (pair? (cdddr expr)) (my-eval (car (cdddr expr)) env) (void))))
        ((form? expr 'quote) (cadr expr))
        ((form? expr 'lambda) (my-eval/procedure (cadr expr) (cddr expr) env))
        ((form? expr 'let) (my-eval/let expr env))
        ((form? expr 'cond) (my-eval/cond (cdr expr) env))
        ((form? expr 'begin) (my-eval/body (cdr expr) env))
        ((form? expr 'define) (my-eval/define expr env))
        (else
         (let* ((head (car expr))
                (f (if (pair? head) (my-eval head env) (if (symbol? head) (env-lookup env head) head)))
                (operands (cdr expr)))
           (cond ((null? operands) (f))
                 ((null? (cdr operands))
                  (let ((a (car operands)))
                    (f (if (pair? a) (my-eval a env) (if (symbol? a) (env-lookup env a) a)))))
                 ((null? (cddr operands))
                  (let ((a (car operands)) (b (cadr operands)))
                    (f (if (pair? a) (my-eval a env) (if (symbol? a) (env-lookup env a) a))
                       (if (pair? b) (my-eval b env) (if (symbol? b) (env-lookup env b) b)))))
                 (else (my-apply f (my-eval/args operands env))))))))

(define (my-apply proc args)
  "Apply proc to a list of evaluated args."
  (apply proc args))

(define (my-eval/args operands env)
  "The values of operands, left to right."
  (if (null? operands) '()
      (cons (my-eval (car operands) env) (my-eval/args (cdr operands) env))))

(define (my-eval/body body env)
  "Evaluate each form of body; the value of the last."
  (cond ((null? body) (void))
        ((null? (cdr body)) (my-eval (car body) env))
        (else (my-eval (car body) env) (my-eval/body (cdr body) env))))

(define (my-eval/procedure params body env)
  "A procedure that evaluates body in env extended by params."
  (cond ((and (pair? params) (null? (cdr params)) (null? (cdr body)))
         (let ((p (car params)) (e (car body)))
           (lambda (a) (my-eval e (env-bind env p a)))))
        (else (lambda args (my-eval/body body (env-extend env params args))))))

(define (my-eval/define expr env)
  "(define name value) or (define (name . params) body...)."
  (let ((target (cadr expr)))
    (if (pair? target)
        (env-define-form! env (car target) (my-eval/procedure (cdr target) (cddr expr) env) expr)
        (env-define-form! env target (if (pair? (cddr expr)) (my-eval (caddr expr) env) (void)) expr))))

(define (my-eval/let expr env)
  "(let ((name value)...) body...) and the named (let loop ((name value)...) body...)."
  (let ((bindings (cadr expr)))
    (if (symbol? bindings)
        (let ((inner (env-bind env bindings #f)))
          (env-set! inner bindings (my-eval/procedure (map car (caddr expr)) (cdddr expr) inner))
          (my-apply (env-lookup inner bindings) (my-eval/args (map cadr (caddr expr)) env)))
        (my-eval/body (cddr expr) (env-extend env (map car bindings) (my-eval/args (map cadr bindings) env))))))

(define (my-eval/cond clauses env)
  "The first clause whose test is true: its body, or (test => f) calls f."
  (if (null? clauses) (void)
      (let ((c (car clauses)))
        (if (eq? (car c) 'else) (my-eval/body (cdr c) env)
            (let ((v (my-eval (car c) env)))
              (cond ((not v) (my-eval/cond (cdr clauses) env))
                    ((null? (cdr c)) v)
                    ((eq? (cadr c) '=>) ((my-eval (caddr c) env) v))
                    (else (my-eval/body (cdr c) env))))))))
