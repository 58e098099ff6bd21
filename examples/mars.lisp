;; A Mars colony, one sol per frame, run by `simulate` in a narrowed sandbox.
;;
;;   world run --memory examples/mars.lisp
;;
;; `mars-frame` is an ordinary procedure of (state input) -> new state. `simulate`
;; carries it (and the helpers it names) into a child sandbox granted only core,
;; output and simulate, runs it once per input, and returns the final state and
;; the state after every frame.

(define (clamp x lo hi)
  "X kept between LO and HI."
  (max lo (min hi x)))

(define (event-effects input)
  "How one sol's event changes the colony: a map of deltas."
  (cond ((eq? input :dust-storm)  {:temperature -12 :oxygen -6 :food 0 :power -45})
        ((eq? input :supply-drop) {:temperature 0 :oxygen 40 :food 90 :power 20})
        ((eq? input :solar-flare) {:temperature 4 :oxygen -4 :food -10 :power -25})
        ((eq? input :harvest)     {:temperature 0 :oxygen 8 :food 30 :power -5})
        ((eq? input :meteor)      {:temperature -3 :oxygen -15 :food -5 :power -10})
        (else                     {:temperature 0 :oxygen 0 :food 0 :power 15})))

(define (mars-frame state input)
  "The colony one sol later, after INPUT (:quiet :dust-storm :supply-drop :solar-flare :harvest :meteor)."
  (let* ((d (event-effects input))
         (crew (get state :crew))
         (power (clamp (+ (get state :power) (get d :power)) 0 100))
         ;; the habitat drifts a quarter of the way to the outside -60 C a sol; heaters need power
         (heat (if (> power 20) 8 0))
         (temperature (+ (get state :temperature) (get d :temperature) heat
                         (quotient (- -60 (get state :temperature)) 4)))
         ;; each colonist breathes 2 units and eats 3 a sol; the scrubbers make 12 with power
         (oxygen (max 0 (+ (get state :oxygen) (get d :oxygen) (if (> power 0) 12 0) (* -2 crew))))
         (food (max 0 (+ (get state :food) (get d :food) (* -3 crew))))
         (alive (if (or (= oxygen 0) (= food 0) (< temperature -40)) (max 0 (- crew 1)) crew)))
    {:sol (+ (get state :sol) 1)
     :temperature temperature
     :power power
     :oxygen oxygen
     :food food
     :crew alive
     :events (cons input (get state :events))}))

(define colony
  (simulate :name "mars"
            :initial-state {:sol 0 :temperature 18 :power 80 :oxygen 100 :food 120 :crew 6 :events ()}
            :frame mars-frame
            :inputs [:quiet :dust-storm :dust-storm :solar-flare :supply-drop :harvest :meteor :quiet]
            :return-after-frames 7))

(for-each (lambda (s)
            (display "sol ") (display (get s :sol)) (display ": ") (write (car (get s :events)))
            (display " temperature ") (display (get s :temperature))
            (display " power ") (display (get s :power))
            (display " oxygen ") (display (get s :oxygen))
            (display " food ") (display (get s :food))
            (display " crew ") (display (get s :crew)) (newline))
          (get colony :frames))
(get colony :state)
