;;; String problems (ids 300-309): characters, substrings and text building.
;;; Reference solutions use only what the seed my-eval handles: define, lambda, if,
;;; cond, let, begin, quote and application (primitives come from the ground).
;;; They avoid character literals, which the seed evaluator need not know.

(problem
  :id 300 :name "palindrome" :category string :difficulty 1
  :description "Define (palindrome? s): #t when the string s reads the same backwards (character for character, case-sensitive), else #f. Make (palindrome? \"racecar\") work."
  :call (palindrome? "racecar")
  :expect #t
  :hidden (((palindrome? "abca") #f)
           ((palindrome? "") #t)
           ((palindrome? "abba") #t)
           ((palindrome? "ab") #f))
  :solution ((define (palindrome-from s i j)
               (cond ((>= i j) #t)
                     ((char=? (string-ref s i) (string-ref s j)) (palindrome-from s (+ i 1) (- j 1)))
                     (else #f)))
             (define (palindrome? s) (palindrome-from s 0 (- (string-length s) 1)))))

(problem
  :id 301 :name "caesar-cipher" :category string :difficulty 2
  :description "Define (caesar s k): s with every lower-case letter a-z shifted k places along the alphabet, wrapping around (k may be negative or larger than 26); every other character is unchanged. Make (caesar \"hello world\" 3) work."
  :call (caesar "hello world" 3)
  :expect "khoor zruog"
  :hidden (((caesar "xyz" 3) "abc")
           ((caesar "abc" -1) "zab")
           ((caesar "a-b c!" 27) "b-c d!")
           ((caesar "" 5) ""))
  :solution ((define (caesar-char c k)
               (if (char-lower-case? c)
                   (integer->char (+ 97 (modulo (+ (- (char->integer c) 97) k) 26)))
                   c))
             (define (caesar-chars cs k)
               (if (null? cs) '() (cons (caesar-char (car cs) k) (caesar-chars (cdr cs) k))))
             (define (caesar s k) (list->string (caesar-chars (string->list s) k)))))

(problem
  :id 302 :name "chunk" :category string :difficulty 2
  :description "Define (chunk s n): the list of consecutive pieces of the string s, each n characters long except perhaps the last, which is shorter; the empty string gives (). Make (chunk \"abcdefg\" 3) work."
  :call (chunk "abcdefg" 3)
  :expect ("abc" "def" "g")
  :hidden (((chunk "" 2) ())
           ((chunk "abcd" 2) ("ab" "cd"))
           ((chunk "xy" 5) ("xy")))
  :solution ((define (chunk s n)
               (cond ((= (string-length s) 0) '())
                     ((<= (string-length s) n) (list s))
                     (else (cons (substring s 0 n) (chunk (substring s n (string-length s)) n)))))))

(problem
  :id 303 :name "intersperse" :category string :difficulty 2
  :description "Define (intersperse sep s): the string s with the string sep inserted between every two neighbouring characters. Make (intersperse \"-\" \"abc\") work."
  :call (intersperse "-" "abc")
  :expect "a-b-c"
  :hidden (((intersperse ", " "xyz") "x, y, z")
           ((intersperse "-" "") "")
           ((intersperse "+" "q") "q"))
  :solution ((define (intersperse-from sep s i)
               (if (= i (string-length s))
                   ""
                   (string-append sep (substring s i (+ i 1)) (intersperse-from sep s (+ i 1)))))
             (define (intersperse sep s)
               (if (= (string-length s) 0)
                   ""
                   (string-append (substring s 0 1) (intersperse-from sep s 1))))))

(problem
  :id 304 :name "count-vowels" :category string :difficulty 1
  :description "Define (count-vowels s): how many characters of s are vowels a, e, i, o or u, in either case. Make (count-vowels \"hello world\") work."
  :call (count-vowels "hello world")
  :expect 3
  :hidden (((count-vowels "") 0)
           ((count-vowels "AEIOU xyz") 5)
           ((count-vowels "rhythm") 0))
  :solution ((define (vowel? c) (if (memv (char-downcase c) (string->list "aeiou")) #t #f))
             (define (vowels-in cs)
               (cond ((null? cs) 0)
                     ((vowel? (car cs)) (+ 1 (vowels-in (cdr cs))))
                     (else (vowels-in (cdr cs)))))
             (define (count-vowels s) (vowels-in (string->list s)))))

(problem
  :id 305 :name "words" :category string :difficulty 2
  :description "Define (words s): the list of the words of s, where words are separated by runs of whitespace (leading and trailing whitespace ignored). Make (words \"the quick  brown fox\") work."
  :call (words "the quick  brown fox")
  :expect ("the" "quick" "brown" "fox")
  :hidden (((words "") ())
           ((words "  one  ") ("one"))
           ((words "a b") ("a" "b")))
  :solution ((define (skip-spaces s i)
               (cond ((= i (string-length s)) i)
                     ((char-whitespace? (string-ref s i)) (skip-spaces s (+ i 1)))
                     (else i)))
             (define (word-end s i)
               (cond ((= i (string-length s)) i)
                     ((char-whitespace? (string-ref s i)) i)
                     (else (word-end s (+ i 1)))))
             (define (words-at s i)
               (let ((j (skip-spaces s i)))
                 (if (= j (string-length s))
                     '()
                     (let ((k (word-end s j)))
                       (cons (substring s j k) (words-at s k))))))
             (define (words s) (words-at s 0))))

(problem
  :id 306 :name "capitalize" :category string :difficulty 2
  :description "Define (capitalize s): s with the first character and every character that follows whitespace turned to upper case; the rest is unchanged. Make (capitalize \"hello big world\") work."
  :call (capitalize "hello big world")
  :expect "Hello Big World"
  :hidden (((capitalize "") "")
           ((capitalize "a") "A")
           ((capitalize "x  yZ") "X  YZ"))
  :solution ((define (capitalize-char c up) (if up (char-upcase c) c))
             (define (capitalize-from cs up)
               (if (null? cs)
                   '()
                   (cons (capitalize-char (car cs) up)
                         (capitalize-from (cdr cs) (char-whitespace? (car cs))))))
             (define (capitalize s) (list->string (capitalize-from (string->list s) #t)))))

(problem
  :id 307 :name "compress" :category string :difficulty 3
  :description "Define (compress s): each run of one repeated character in s written as the character followed by the run's length in decimal. Make (compress \"aaabccdddd\") work."
  :call (compress "aaabccdddd")
  :expect "a3b1c2d4"
  :hidden (((compress "") "")
           ((compress "z") "z1")
           ((compress "aabbba") "a2b3a1")
           ((compress "xxxxxxxxxxxx") "x12"))
  :solution ((define (run-end s i j)
               (cond ((= j (string-length s)) j)
                     ((char=? (string-ref s i) (string-ref s j)) (run-end s i (+ j 1)))
                     (else j)))
             (define (compress-from s i)
               (if (= i (string-length s))
                   ""
                   (let ((j (run-end s i (+ i 1))))
                     (string-append (substring s i (+ i 1)) (number->string (- j i)) (compress-from s j)))))
             (define (compress s) (compress-from s 0))))

(problem
  :id 308 :name "anagram" :category string :difficulty 2
  :description "Define (anagram? a b): #t when the strings a and b consist of the same characters the same number of times (case-sensitive; spaces count), else #f. Make (anagram? \"listen\" \"silent\") work."
  :call (anagram? "listen" "silent")
  :expect #t
  :hidden (((anagram? "abc" "abd") #f)
           ((anagram? "" "") #t)
           ((anagram? "aab" "abb") #f)
           ((anagram? "dusty" "study") #t))
  :solution ((define (anagram? a b)
               (equal? (sort (string->list a) char<?) (sort (string->list b) char<?)))))

(problem
  :id 309 :name "common-prefix" :category string :difficulty 2
  :description "Define (common-prefix a b): the longest string that both a and b start with. Make (common-prefix \"interstellar\" \"internet\") work."
  :call (common-prefix "interstellar" "internet")
  :expect "inter"
  :hidden (((common-prefix "abc" "xyz") "")
           ((common-prefix "same" "same") "same")
           ((common-prefix "ab" "abc") "ab"))
  :solution ((define (prefix-length a b i)
               (cond ((= i (string-length a)) i)
                     ((= i (string-length b)) i)
                     ((char=? (string-ref a i) (string-ref b i)) (prefix-length a b (+ i 1)))
                     (else i)))
             (define (common-prefix a b) (substring a 0 (prefix-length a b 0)))))
