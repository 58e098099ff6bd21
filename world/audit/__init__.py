"""Audit: metrics over definitions, rules written in the world's Lisp, and
recorded checks."""
from . import prims  # noqa: F401  (registers the audit primitives and macros)
from .metrics import measure
from .rules import Violation, run_rules

__all__ = ["Violation", "measure", "run_rules"]
