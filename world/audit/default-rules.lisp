;;; The default audit rules, loaded into every new world and committed as
;;; "world: default audit rules". Each rule is a predicate over the metrics
;;; map of one definition (see world/audit/metrics.py). Thresholds:
;;;
;;;   long-body           more than 150 forms and atoms in the body
;;;   complex             cyclomatic complexity above 10
;;;   magic-number        a numeric literal other than 0 and 1 in a procedure
;;;   unused-parameter    a parameter the body never mentions (_name is exempt)
;;;   missing-docstring   a procedure, macro or rule without documentation
;;;   redefines-core      the name is a primitive, special form or system macro
;;;   unsafe-capability   the body uses a primitive marked unsafe
;;;   allocation-in-loop  the body allocates inside a loop (or a recursion)
;;;   non-portable        the body uses host names outside R7RS and common SRFIs

(defrule long-body
  :category :maintainability :severity :warning
  :when (lambda (m) (> (get m :body-length) 150))
  :message "the body is longer than 150 forms and atoms: split it")

(defrule complex
  :category :maintainability :severity :warning
  :when (lambda (m) (> (get m :cyclomatic-complexity) 10))
  :message "cyclomatic complexity above 10: too many branches to follow")

(defrule magic-number
  :category :readability :severity :info
  :when (lambda (m) (pair? (get m :magic-numbers)))
  :message "numeric literals other than 0 and 1: name them with a constant definition")

(defrule unused-parameter
  :category :correctness :severity :warning
  :when (lambda (m) (pair? (get m :unused-parameters)))
  :message "a parameter is never used")

(defrule missing-docstring
  :category :documentation :severity :info
  :when (lambda (m) (get m :missing-docstring))
  :message "the procedure has no docstring")

(defrule redefines-core
  :category :correctness :severity :error
  :when (lambda (m) (get m :redefines-core))
  :message "redefines a name the world provides")

(defrule unsafe-capability
  :category :security :severity :warning
  :when (lambda (m) (pair? (get m :unsafe-names)))
  :message "uses a capability marked unsafe")

(defrule allocation-in-loop
  :category :performance :severity :info
  :when (lambda (m) (> (get m :allocations-in-loops) 0))
  :message "allocates inside a loop")

(defrule non-portable
  :category :portability :severity :info
  :when (lambda (m) (pair? (get m :non-portable-names)))
  :message "uses names outside R7RS and the common SRFIs")
