;;; Number theory problems (ids 500-509): divisibility, primes and modular arithmetic.
;;; Reference solutions use only what the seed my-eval handles: define, lambda, if,
;;; cond, let, begin, quote and application (primitives come from the ground).

(problem
  :id 500 :name "gcd" :category number-theory :difficulty 1
  :description "Define (my-gcd a b), the greatest common divisor of two non-negative integers (Euclid's algorithm; (my-gcd a 0) is a). Make (my-gcd 48 18) work."
  :call (my-gcd 48 18)
  :expect 6
  :hidden (((my-gcd 17 5) 1)
           ((my-gcd 0 9) 9)
           ((my-gcd 100 75) 25))
  :solution ((define (my-gcd a b) (if (= b 0) a (my-gcd b (remainder a b))))))

(problem
  :id 501 :name "prime" :category number-theory :difficulty 2
  :description "Define (prime? n): #t when the integer n is prime, else #f (0 and 1 are not prime); test divisors only up to the square root. Make (prime? 97) work."
  :call (prime? 97)
  :expect #t
  :hidden (((prime? 1) #f)
           ((prime? 2) #t)
           ((prime? 91) #f)
           ((prime? 0) #f)
           ((prime? 7919) #t))
  :solution ((define (prime-from n d)
               (cond ((> (* d d) n) #t)
                     ((= 0 (remainder n d)) #f)
                     (else (prime-from n (+ d 1)))))
             (define (prime? n) (if (< n 2) #f (prime-from n 2)))))

(problem
  :id 502 :name "collatz" :category number-theory :difficulty 2
  :description "Define (collatz-steps n): how many steps the Collatz map (n/2 for even n, 3n+1 for odd n) takes to reach 1 from the positive integer n. Make (collatz-steps 6) work."
  :call (collatz-steps 6)
  :expect 8
  :hidden (((collatz-steps 1) 0)
           ((collatz-steps 7) 16)
           ((collatz-steps 3) 7))
  :solution ((define (collatz-next n) (if (even? n) (quotient n 2) (+ (* 3 n) 1)))
             (define (collatz-steps n)
               (if (= n 1) 0 (+ 1 (collatz-steps (collatz-next n)))))))

(problem
  :id 503 :name "modpow" :category number-theory :difficulty 3
  :description "Define (modpow b e m), b to the power e modulo m, for integers b >= 0, e >= 0 and m >= 1, by repeated squaring (e can be a million). Make (modpow 2 10 1000) work."
  :call (modpow 2 10 1000)
  :expect 24
  :hidden (((modpow 3 200 13) 9)
           ((modpow 7 0 5) 1)
           ((modpow 5 3 1) 0)
           ((modpow 123456789 1000000 1000007) 412463))
  :solution ((define (modpow b e m)
               (cond ((= e 0) (remainder 1 m))
                     ((even? e) (let ((h (modpow b (quotient e 2) m))) (remainder (* h h) m)))
                     (else (remainder (* b (modpow b (- e 1) m)) m))))))

(problem
  :id 504 :name "totient" :category number-theory :difficulty 3
  :description "Define (totient n), Euler's phi: how many integers from 1 to n are coprime to the positive integer n. Work from n's prime factors rather than counting. Make (totient 36) work."
  :call (totient 36)
  :expect 12
  :hidden (((totient 1) 1)
           ((totient 97) 96)
           ((totient 100) 40)
           ((totient 9699690) 1658880))
  :solution ((define (strip-factor n p) (if (= 0 (remainder n p)) (strip-factor (quotient n p) p) n))
             (define (totient-from n p result)
               (cond ((> (* p p) n) (if (> n 1) (- result (quotient result n)) result))
                     ((= 0 (remainder n p))
                      (totient-from (strip-factor n p) (+ p 1) (- result (quotient result p))))
                     (else (totient-from n (+ p 1) result))))
             (define (totient n) (totient-from n 2 n))))

(problem
  :id 505 :name "prime-factors" :category number-theory :difficulty 2
  :description "Define (prime-factors n): the prime factors of the positive integer n in increasing order, with repetition ((prime-factors 1) is ()). Make (prime-factors 360) work."
  :call (prime-factors 360)
  :expect (2 2 2 3 3 5)
  :hidden (((prime-factors 1) ())
           ((prime-factors 97) (97))
           ((prime-factors 1001) (7 11 13)))
  :solution ((define (factors-from n d)
               (cond ((= n 1) '())
                     ((> (* d d) n) (list n))
                     ((= 0 (remainder n d)) (cons d (factors-from (quotient n d) d)))
                     (else (factors-from n (+ d 1)))))
             (define (prime-factors n) (factors-from n 2))))

(problem
  :id 506 :name "digits" :category number-theory :difficulty 1
  :description "Define (digits n): the decimal digits of the non-negative integer n, most significant first. Make (digits 1234) work."
  :call (digits 1234)
  :expect (1 2 3 4)
  :hidden (((digits 0) (0))
           ((digits 7) (7))
           ((digits 90210) (9 0 2 1 0)))
  :solution ((define (digits-onto n acc)
               (if (< n 10) (cons n acc) (digits-onto (quotient n 10) (cons (remainder n 10) acc))))
             (define (digits n) (digits-onto n '()))))

(problem
  :id 507 :name "perfect-number" :category number-theory :difficulty 2
  :description "Define (perfect? n): #t when the positive integer n equals the sum of its divisors smaller than itself, else #f (1 is not perfect). Find divisors in pairs up to the square root. Make (perfect? 28) work."
  :call (perfect? 28)
  :expect #t
  :hidden (((perfect? 6) #t)
           ((perfect? 12) #f)
           ((perfect? 1) #f)
           ((perfect? 496) #t)
           ((perfect? 36) #f))
  :solution ((define (divisor-sum-from n d acc)
               (cond ((> (* d d) n) acc)
                     ((= (* d d) n) (+ acc d))
                     ((= 0 (remainder n d)) (divisor-sum-from n (+ d 1) (+ acc d (quotient n d))))
                     (else (divisor-sum-from n (+ d 1) acc))))
             (define (perfect? n) (if (< n 2) #f (= n (divisor-sum-from n 2 1))))))

(problem
  :id 508 :name "primes-upto" :category number-theory :difficulty 2
  :description "Define (primes-upto n): the primes from 2 to n inclusive, in increasing order (a sieve works well). Make (primes-upto 20) work."
  :call (primes-upto 20)
  :expect (2 3 5 7 11 13 17 19)
  :hidden (((primes-upto 1) ())
           ((primes-upto 2) (2))
           ((primes-upto 24) (2 3 5 7 11 13 17 19 23)))
  :solution ((define (count-up a b) (if (> a b) '() (cons a (count-up (+ a 1) b))))
             (define (remove-multiples p lst)
               (cond ((null? lst) '())
                     ((= 0 (remainder (car lst) p)) (remove-multiples p (cdr lst)))
                     (else (cons (car lst) (remove-multiples p (cdr lst))))))
             (define (sieve lst)
               (if (null? lst) '() (cons (car lst) (sieve (remove-multiples (car lst) (cdr lst))))))
             (define (primes-upto n) (sieve (count-up 2 n)))))

(problem
  :id 509 :name "to-base" :category number-theory :difficulty 2
  :description "Define (to-base n b): the digits of the non-negative integer n in base b >= 2, most significant first, each digit a number. Make (to-base 10 2) work."
  :call (to-base 10 2)
  :expect (1 0 1 0)
  :hidden (((to-base 0 2) (0))
           ((to-base 255 16) (15 15))
           ((to-base 100 7) (2 0 2)))
  :solution ((define (to-base-onto n b acc)
               (if (< n b) (cons n acc) (to-base-onto (quotient n b) b (cons (remainder n b) acc))))
             (define (to-base n b) (to-base-onto n b '()))))
