"""World: a persistent, image-based live Lisp environment.

    >>> import world
    >>> w = world.open()
    >>> w.eval("(define (sq x) (* x x)) (sq 12)")
    144
"""
from .lisp import (BudgetExceeded, EvalError, IncompleteInput, InternalError, Limits,
                   LispError, ReadError, SandboxError)
from .lisp.printer import display, write
from .lisp.reader import read
from .session import World, open
from . import build  # noqa: F401,E402  (registers world/rebuild, world/build-prod, world/save-dev)

__all__ = ["BudgetExceeded", "EvalError", "IncompleteInput", "InternalError", "Limits",
           "LispError", "ReadError", "SandboxError", "World", "display", "open", "read", "write"]
