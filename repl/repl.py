"""The interactive REPL: prompt_toolkit over a live world.

Enter submits only a complete form (the reader's incomplete-input error
means "keep reading"); results are highlighted with the world's lexer.
"""
from __future__ import annotations

import argparse
import os
import sys

from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import PygmentsTokens
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.shortcuts import print_formatted_text
from pygments import lex

import world
from world.lisp.errors import InternalError, LispError
from world.lisp.reader import is_complete
from world.lisp.types import VOID

from .lexer import WorldLispLexer


def _bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter")
    def _(event) -> None:  # noqa: ANN001
        buf = event.current_buffer
        if buf.text.strip() and not is_complete(buf.text):
            buf.insert_text("\n  ")
        else:
            buf.validate_and_handle()

    return kb


def show(value: object) -> None:
    """Print a value with highlighting."""
    text = world.write(value)
    print_formatted_text(PygmentsTokens(list(lex(text, WorldLispLexer()))))


def main(args: argparse.Namespace | None = None, w: world.World | None = None) -> int:
    """Run the REPL on world `w` (default: a new one in memory) until Ctrl-D."""
    if w is None:
        w = world.open(out=lambda s: (sys.stdout.write(s), sys.stdout.flush()))
    history = InMemoryHistory()
    if os.path.isdir("images"):
        history = FileHistory(os.path.join("images", ".world_history"))
    session: PromptSession = PromptSession(
        "world> ", lexer=PygmentsLexer(WorldLispLexer), history=history,
        key_bindings=_bindings(), multiline=True, prompt_continuation="  ... ")
    while True:
        try:
            text = session.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        if not text.strip():
            continue
        if text.strip() in (",quit", ",q"):
            return 0
        try:
            value = w.eval(text, source="<repl>")
        except LispError as e:
            print(f"error: {e}")
            for line in e.format_backtrace(8):
                print(line)
            continue
        except InternalError as e:
            print(f"internal error: {e}")
            continue
        except KeyboardInterrupt:
            print("interrupted")
            continue
        if value is not VOID:
            show(value)
