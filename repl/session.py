"""The REPL loop: read a complete form, evaluate it in the world, show it.

A thin front end over the Python API: `Repl` receives its world and its
input and output (a real terminal, or a pipe and a dummy output in tests)
and only reads, evaluates through `World.eval_form` (one transaction per
form) and prints. Ctrl-C at the prompt clears the input; Ctrl-C during an
evaluation interrupts it (the runtime stops it at its next budget check and
the form's transaction is aborted); Ctrl-D leaves.
"""
from __future__ import annotations

from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.completion.base import get_common_complete_suffix
from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import has_focus
from prompt_toolkit.formatted_text import FormattedText, to_formatted_text
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.key_binding.key_processor import KeyPressEvent
from prompt_toolkit.layout.processors import HighlightMatchingBracketProcessor
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output
from prompt_toolkit.shortcuts import print_formatted_text

from world.inspect import definition_commit
from world.lisp.errors import LispError
from world.lisp.printer import write
from world.lisp.reader import is_complete
from world.lisp.types import VOID, LispMap, Pair, Symbol

from . import commands, companion, debugger, inspect_view, render, toolbar
from .completion import WorldCompleter
from .lexer import WorldLispLexer
from .trace import Tracer
from .values import LastValues
from .output import Pager, layout

PROMPT = "world> "
DEFINING = frozenset(Symbol(s) for s in ("define", "defmacro", "define-record", "defrule"))
INSPECT = Symbol("inspect")
# What people type at other REPLs to leave or for help: the REPL does it (unless the world
# defines the name itself). Outside the REPL, the unbound name's error says what to type.
ASKS = {Symbol("exit"): "quit", Symbol("quit"): "quit", Symbol("help"): "help"}
OPENERS, CLOSERS = "([{", ")]}"


def indent_for(text: str) -> int:
    """Columns to indent a new line after `text`: two inside a list, one inside `[`/`{`."""
    stack: list[tuple[int, str]] = []
    col, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':                     # a string, escapes and newlines included
            i += 1
            col += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                    col += 1
                col = 0 if i < n and text[i] == "\n" else col + 1
                i += 1
        elif c == ";":                   # a comment, to the end of the line
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif c == "\\" and i > 0 and text[i - 1] == "#":
            i += 1                       # a character literal such as #\( is not a bracket
            col += 1
        elif c in OPENERS:
            stack.append((col, c))
        elif c in CLOSERS and stack:
            stack.pop()
        elif c == "\n":
            col, i = 0, i + 1
            continue
        i += 1
        col += 1
    if not stack:
        return 0
    col, opener = stack[-1]
    return col + (2 if opener == "(" else 1)


def defined_name(form: Any) -> str | None:
    """The name a defining top-level form defines, if it is one."""
    if type(form) is not Pair or form.car not in DEFINING or type(form.cdr) is not Pair:
        return None
    target = form.cdr.car
    if type(target) is Pair:
        target = target.car
    return target.name if type(target) is Symbol else None


def repl_request(world: Any, form: Any) -> str | None:
    """"quit" for `exit`, `quit`, `(exit)`, `(quit)`; "help" for `help`, `(help)`; else None."""
    head = form.car if type(form) is Pair else form
    if type(head) is not Symbol or head not in ASKS:
        return None
    if head.name in world.names.defs or head.name in world.names.macros:
        return None                     # the world's own exit: run it
    ask = ASKS[head]
    if ask == "help" and type(form) is Pair and form.cdr is not None:
        return None                     # (help x): no such procedure, the error says so
    return ask


class Leave(Exception):
    """`exit` or `quit` was typed: end the session."""


class Repl:
    """An interactive session over one world."""

    def __init__(self, world: Any, *, input: Input | None = None, output: Output | None = None,
                 show_output: Output | None = None, history: History | None = None,
                 debug: bool = False, steps: int | None = None,
                 theme: str | None = None) -> None:
        self.world = world
        render.use_theme(render.theme_name(theme))
        self.pager = Pager()             # the rest of a long output, for ,more
        self.failure: debugger.Failure | None = None     # the last error, for ,frames/,retry
        self.input, self.output = input, output
        self.show_output = show_output or output
        self.debug = debug
        self.base_limits = world.limits     # what `,steps N` scales from
        if steps:
            self.steps = steps
        self.last_steps: int | None = None
        self.spent = 0                       # steps of the forms of the last `evaluate`
        self.values = LastValues(world)      # *1 *2 *3 *e
        self.tracer = Tracer(world)          # ,trace
        self._fresh = True               # the program's output ended with a newline
        self.completer = WorldCompleter(world)
        world.out = self._program_output
        companion.attach(self)           # the AI companion's answers stream in here
        self.session: PromptSession = PromptSession(
            PROMPT, multiline=True, key_bindings=self._bindings(),
            lexer=PygmentsLexer(WorldLispLexer), completer=self.completer,
            complete_while_typing=False, auto_suggest=AutoSuggestFromHistory(),
            history=history or InMemoryHistory(), enable_history_search=False,
            input_processors=[HighlightMatchingBracketProcessor(chars="[](){}")],
            prompt_continuation=lambda width, line, wrap: " " * width,
            bottom_toolbar=self.toolbar, style=render.STYLE,
            include_default_pygments_style=False, input=input, output=output)

    @property
    def steps(self) -> int:
        """The step budget of each evaluation."""
        return self.world.limits.steps

    @steps.setter
    def steps(self, n: int) -> None:
        # The world's own limits: whatever runs for this session (checks included) gets them.
        self.world.limits = commands.budget_for(self.base_limits, n)

    # ------------------------------------------------------------ keys
    def _bindings(self) -> KeyBindings:
        kb = KeyBindings()
        editing = has_focus(DEFAULT_BUFFER)     # not while searching with Ctrl-R

        @kb.add("enter", filter=editing)
        def _(event: KeyPressEvent) -> None:
            buf = event.current_buffer
            text = buf.text
            if not text.strip() or commands.is_command(text) or is_complete(text):
                buf.validate_and_handle()
            else:
                before = buf.document.text_before_cursor
                buf.insert_text("\n" + " " * indent_for(before))

        @kb.add("tab", filter=editing)
        def _(event: KeyPressEvent) -> None:
            self._tab(event.current_buffer)

        @kb.add("escape", "enter", filter=editing)
        def _(event: KeyPressEvent) -> None:
            buf = event.current_buffer
            buf.insert_text("\n" + " " * indent_for(buf.document.text_before_cursor))

        return kb

    def _tab(self, buf: Any) -> None:
        """Complete now: the one candidate, or the common part, else open the menu."""
        if buf.complete_state:
            buf.complete_next()
            return
        doc = buf.document
        found = list(self.completer.get_completions(doc, CompleteEvent(completion_requested=True)))
        if not found:
            line = doc.current_line_before_cursor
            if not line.strip():             # at the start of a line: indent it
                buf.insert_text(" " * max(0, indent_for(doc.text_before_cursor) - len(line)))
            return
        if len(found) == 1:
            buf.apply_completion(found[0])
            return
        common = get_common_complete_suffix(doc, found)
        if common:
            buf.insert_text(common)
        buf.start_completion(select_first=False)

    # ------------------------------------------------------------ output
    def show(self, ft: Any) -> None:
        """Print formatted text on its own line."""
        self.fresh_line()
        print_formatted_text(to_formatted_text(ft), output=self.show_output, style=render.STYLE,
                             include_default_pygments_style=False)

    def fresh_line(self) -> None:
        """End the program's last line of output if it did not."""
        if not self._fresh:
            self._fresh = True
            print_formatted_text("", output=self.show_output)

    def _program_output(self, text: str) -> None:
        if text:
            self._fresh = text.endswith("\n")
        print_formatted_text(FormattedText([("", text)]), end="", output=self.show_output,
                             style=render.STYLE, include_default_pygments_style=False)

    def toolbar(self) -> FormattedText:
        """The bottom toolbar's text now."""
        return toolbar.toolbar(self.world, self.last_steps, self.steps)

    def show_inspect(self, m: Any) -> None:
        """Print an inspect map as a tree."""
        self.show(inspect_view.tree(m))

    # ------------------------------------------------------------ evaluation
    def evaluate(self, text: str, source: str = "<repl>", echo: bool = True,
                 pp: bool = False) -> int:
        """Evaluate each form of `text` in its own transaction; return how many ran
        (`pp`: pretty-print the values whatever their width)."""
        count = self.spent = 0
        for form, typed in self.world.forms(text, source):
            if echo and self._asked(form):
                continue
            self.evaluate_form(form, typed, source, echo, pp)
            self.spent += self.last_steps or 0
            count += 1
        return count

    def _asked(self, form: Any) -> bool:
        """Act on `exit`, `quit` or `help` typed as Lisp; whether it was one."""
        ask = repl_request(self.world, form)
        if ask == "quit":
            raise Leave()
        if ask == "help":
            commands.run(self, ",help")
        return ask is not None

    def evaluate_form(self, form: Any, typed: str | None, source: str, echo: bool = True,
                      pp: bool = False) -> None:
        """Evaluate one top-level form in its own transaction and show its value."""
        self.last_steps = None
        shown = echo and not (type(form) is Pair and form.car is INSPECT)
        # The value is written within the form's own budget: a value too costly to
        # print is that form's error, not a hang of the REPL.
        self.values.watch(form)          # *1 *2 *3 *e: refused in what history records
        self.tracer.apply()              # ,trace: the procedures traced names have now
        try:
            result = self.world.eval_form(form, self.steps, source, typed,
                                          write if shown else None)
        except LispError as e:          # kept for ,frames, ,frame N and ,retry
            self.failure = debugger.Failure(e, form, typed, source)
            raise
        finally:
            self.values.watch(None)
            self.values.bind()
        self.last_steps = result.steps
        if echo:
            self._print_result(form, result.value, result.text, pp)

    def size(self) -> tuple[int, int]:
        """The terminal's (columns, rows)."""
        try:
            size = self.session.output.get_size()
            return max(size.columns, 20), max(size.rows, 4)
        except Exception:               # no terminal to ask
            return 80, 24

    def show_long(self, text: str, code: bool = True, note: str | None = None) -> None:
        """Show `text` (highlighted as Lisp with `code`), a page of it when it is long;
        `,more` shows the rest."""
        width, rows = self.size()
        page, more = self.pager.take(text, width, rows)
        self.show(render.code(page) if code else FormattedText([("", page)]))
        for line in (note, more):
            if line:
                self.show(render.note(line))

    def _print_result(self, form: Any, value: Any, text: str | None = None,
                      pp: bool = False) -> None:
        name = defined_name(form)
        if name is not None:
            commit, violations = definition_commit(self.world, name)
            if commit or violations:
                self.show(render.committed(name, commit, violations))
                return
        if value is VOID:
            return
        self.values.push(value)
        if companion.shown(self.world, value):     # the companion showed it as it came
            return
        if type(form) is Pair and form.car is INSPECT and type(value) is LispMap:
            self.show_inspect(value)
            return
        text = write(value) if text is None else text
        width = self.size()[0] - 1
        shown, note = layout(value, text, width, pp)
        self.show_long(shown, code=note is None, note=note)

    def inspect(self, text: str) -> LispMap:
        """Evaluate an `(inspect ...)` form and return its map."""
        value = self.world.eval(text, steps=self.steps, source="<command>")
        if type(value) is not LispMap:
            raise commands.CommandError("inspect did not return a map")
        return value

    def browse(self, m: LispMap) -> None:
        """Walk an inspect map in the full-screen browser."""
        from .browser import Browser
        Browser(m, input=self.input, output=self.output).run()

    def handle(self, text: str) -> bool:
        """Act on one submitted input; False means the session should end."""
        if not text.strip():
            return True
        try:
            if commands.is_command(text):
                return commands.run(self, text)
            self.evaluate(text)
        except Leave:
            return False
        except KeyboardInterrupt:        # between budget checks, e.g. while committing
            self.show(render.note("interrupted; the form was rolled back"))
        except LispError as e:
            if not isinstance(e, commands.CommandError):
                self.values.failed(e)       # *e
            if not isinstance(e, commands.CommandError) and (
                    self.failure is None or self.failure.error is not e):
                self.failure = debugger.Failure(e)      # e.g. a read error: no form to retry
            self.show(render.error(e, self.debug))
        except Exception as e:           # a bug in world: say so, keep the session
            self.show(render.error(e, self.debug))
        return True

    def run(self) -> int:
        """Read, evaluate and print until Ctrl-D or `,quit`; return an exit status."""
        try:
            while True:
                self.fresh_line()
                try:
                    text = self.session.prompt()
                except KeyboardInterrupt:    # Ctrl-C at the prompt: drop the input
                    continue
                except EOFError:             # Ctrl-D
                    return 0
                if not self.handle(text):
                    return 0
        finally:
            self.tracer.untrace()            # tracing was this session's: the world goes on without
