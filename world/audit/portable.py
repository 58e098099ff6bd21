"""Which host-provided names are portable: R7RS-small, plus the SRFIs most
Schemes ship (1: lists, 111: boxes, 151: bitwise operations). Any other name
the host provides (maps, keywords, `world/...`, `defmacro`, string helpers)
is an extension of this world. Names a user or the world defines are never
judged here: they are the program's own.
"""
from __future__ import annotations

_R7RS = """
* + - / < <= = > >= abs and append apply assoc assq assv begin boolean? caar cadr
call-with-current-continuation call/cc car case cdar cddr cdr ceiling char->integer
char-alphabetic? char-ci=? char-downcase char-lower-case? char-numeric? char-upcase
char-upper-case? char-whitespace? char<=? char<? char=? char>=? char>? char? complex? cond
cons define denominator digit-value do else equal? eq? eqv? error error-object-irritants
error-object-message error-object? even? exact exact->inexact exact-integer? exact? exp
expt finite? floor for-each gcd guard if inexact inexact->exact inexact? infinite?
integer->char integer? lambda lcm length let let* letrec letrec* list list->string
list->vector list-copy list-ref list-tail list? log make-list make-string make-vector map
max member memq memv min modulo nan? negative? newline not null? number->string number?
numerator odd? or pair? positive? procedure? quasiquote quote quotient raise rational?
read real? remainder reverse round set! sin cos tan asin acos atan sqrt square string
string->list string->number string->symbol string-append string-ci=? string-copy
string-downcase string-for-each string-length string-map string-ref string-upcase
string<=? string<? string=? string>=? string>? string? substring symbol->string symbol?
truncate unless unquote unquote-splicing vector vector->list vector-append vector-copy
vector-for-each vector-length vector-map vector-ref vector? when write write-string
display zero? caaar caadr cadar caddr cdaar cdadr cddar cdddr eval
define-syntax let-syntax letrec-syntax syntax-rules
values call-with-values let-values let*-values define-values dynamic-wind make-parameter
parameterize delay delay-force force make-promise promise? case-lambda cond-expand features
with-exception-handler raise-continuable read-error? file-error? boolean=? symbol=?
"""
_SRFI = """
any every filter fold fold-left fold-right reduce remove delete delete-duplicates iota
last list-index box box? unbox set-box! bitwise-and bitwise-or bitwise-xor bitwise-not
"""

PORTABLE: frozenset[str] = frozenset((_R7RS + _SRFI).split())
