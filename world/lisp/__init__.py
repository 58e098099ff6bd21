"""The world's Lisp: reader, printer, values, compiler, primitives, budgets."""
import sys

from .budget import DEFAULT_LIMITS, Limits
from .env import Environment
from .errors import (BudgetExceeded, EvalError, IncompleteInput, InternalError, LispError,
                     ReadError, SandboxError)
from .printer import display, write
from .reader import read, read_all
from .runtime import Result, run

# Integers up to the budget's size limit must print; CPython caps int->str at 4300 digits.
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)

__all__ = ["BudgetExceeded", "DEFAULT_LIMITS", "Environment", "EvalError", "IncompleteInput",
           "InternalError", "Limits", "LispError", "ReadError", "Result", "SandboxError",
           "display", "read", "read_all", "run", "write"]
