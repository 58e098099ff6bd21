"""Autopoietic evolution: the self-modifying evaluator, the problem pool, the agent and tournaments."""
