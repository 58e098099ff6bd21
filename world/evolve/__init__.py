"""The autopoietic side of the world: my-eval (a metacircular evaluator in
the world's own Lisp) and the safe ways to change it, the metacognitive
scratchpad, the problem pool, the agent loop and tournaments of lineages."""
