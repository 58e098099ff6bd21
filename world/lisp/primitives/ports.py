"""String ports (R7RS 6.13): reading from and writing to strings.

A port is a persistent object (its position, or the text written so far,
changes and is saved with whatever definition holds it). There are no file
ports, and no console input: files stay absent by design, so `read-char` and
the like need a port made by `open-input-string`. Writing with no port goes
to the evaluation's output (the `output` group's `display`, `write`...).
"""
from __future__ import annotations

from typing import Any

import persistent

from .. import budget
from ..errors import EvalError, IncompleteInput, ReadError
from ..printer import _ATOMS
from ..dynamic import PORT_PARAMS
from ..types import Char, EOF, Eof, Primitive, VOID
from . import primitive
from .numbers import ABSENT, need_count, need_proc, need_range, type_error
from .strings import need_char, need_string


class InputPort(persistent.Persistent):
    """A textual input port reading a string; `pos` is the offset of the next character."""

    format_version = 1

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.open = True


class OutputPort(persistent.Persistent):
    """A textual output port accumulating a string."""

    format_version = 1

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.size = 0
        self.open = True

    def put(self, text: str) -> None:
        """Append `text`, refused if the port's string would pass the string limit."""
        n = self.size + len(text)
        if n > budget.limits().string:
            budget.check_length(n, "string")        # refuses: one string's limit
        budget.alloc(len(text))
        budget.charge(len(text) >> 6)
        self.chunks.append(text)
        self.size += len(text)
        if len(self.chunks) > 64:           # keep the stored state a few strings, not thousands
            self.chunks = ["".join(self.chunks)]
        self._p_changed = True

    def value(self) -> str:
        text = "".join(self.chunks)
        self.chunks = [text] if text else []
        return text


class ConsolePort:
    """The default current ports: output to the evaluation's own output (where `display`
    writes), input from the console the world does not have. Two constants, stored by kind."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __reduce__(self):
        return (console_port, (self.kind,))


CONSOLE_OUT = ConsolePort("output")
CONSOLE_IN = ConsolePort("input")


def console_port(kind: Any) -> ConsolePort:
    """The console port of `kind` (used when unpickling; any other kind is the output)."""
    return CONSOLE_IN if kind == "input" else CONSOLE_OUT


# Printed (and so fingerprinted by history) by kind, as boxes are: a port's state changes
# without a definition changing.
_ATOMS[InputPort] = lambda x, d: "#<input-port>"
_ATOMS[OutputPort] = lambda x, d: "#<output-port>"
_ATOMS[ConsolePort] = lambda x, d: f"#<{x.kind}-port>"


# ---------------------------------------------------------------- the current ports (parameters)

def current(name: str, default: ConsolePort) -> Any:
    """The value `parameterize` gave the port parameter `name` innermost, else `default`."""
    m = budget.CURRENT
    d = m.dyn if m is not None else None
    if d is not None and d.bound:
        stack = d.bound.get(Primitive.registry[name])
        if stack:
            return stack[-1]
    return default


def _need_output(v: Any) -> Any:
    if type(v) is OutputPort or v is CONSOLE_OUT:
        return v
    raise type_error("parameterize", "an output port", v)


def _need_input(v: Any) -> Any:
    if type(v) is InputPort or v is CONSOLE_IN:
        return v
    raise type_error("parameterize", "an input port", v)


# The primitives `parameterize` accepts as parameters, with the check of a value given them.
PORT_PARAMS["current-output-port"] = _need_output
PORT_PARAMS["current-error-port"] = _need_output
PORT_PARAMS["current-input-port"] = _need_input


@primitive("current-output-port", group="output")
def current_output_port() -> Any:
    """(current-output-port) -> the port display and write use when given none (a parameter)."""
    return current("current-output-port", CONSOLE_OUT)


@primitive("current-error-port", group="output")
def current_error_port() -> Any:
    """(current-error-port) -> the port for error reports (a parameter); at first the output."""
    return current("current-error-port", CONSOLE_OUT)


@primitive("current-input-port")
def current_input_port() -> Any:
    """(current-input-port) -> the port read-char and read use when given none (a parameter)."""
    return current("current-input-port", CONSOLE_IN)


NO_CONSOLE = ("there is no console input in the world; read from a string port, "
              "such as (open-input-string \"...\")")


def input_port(who: str, port: Any) -> InputPort:
    """The open input port `port`; an error naming what to write when it is missing."""
    if port is ABSENT:
        port = current("current-input-port", CONSOLE_IN)
    if port is CONSOLE_IN:
        raise EvalError(f"{who}: {NO_CONSOLE}")
    if type(port) is not InputPort:
        raise type_error(who, "an input port", port)
    if not port.open:
        raise EvalError(f"{who}: the port is closed")
    if type(port.text) is not str or type(port.pos) is not int or not 0 <= port.pos <= len(port.text):
        raise EvalError(f"{who}: the port's stored state is damaged")     # a tampered image
    return port


def output_port(who: str, port: Any) -> OutputPort:
    """The open output port `port`."""
    if type(port) is not OutputPort:
        raise type_error(who, "an output port", port)
    if not port.open:
        raise EvalError(f"{who}: the port is closed")
    if type(port.chunks) is not list or not all(type(c) is str for c in port.chunks) \
            or type(port.size) is not int:
        raise EvalError(f"{who}: the port's stored state is damaged")     # a tampered image
    return port


def emit(who: str, text: str, port: Any) -> Any:
    """Write `text` to `port`, or to the current output port when no port is given."""
    if port is ABSENT:
        port = current("current-output-port", CONSOLE_OUT)
    if port is CONSOLE_OUT:
        budget.charge(len(text) // 64)
        m = budget.CURRENT
        if m is not None:
            m.write(text)
    else:
        output_port(who, port).put(text)
    return VOID


# ---------------------------------------------------------------- making ports

@primitive("open-input-string")
def open_input_string(s: Any) -> InputPort:
    """(open-input-string s) -> an input port that reads the characters of s."""
    budget.alloc(100)
    return InputPort(need_string("open-input-string", s))


@primitive("open-output-string")
def open_output_string() -> OutputPort:
    """(open-output-string) -> an output port that collects what is written to it."""
    budget.alloc(100)
    return OutputPort()


@primitive("get-output-string")
def get_output_string(port: Any) -> str:
    """(get-output-string port) -> the characters written to port so far."""
    if type(port) is not OutputPort:
        raise type_error("get-output-string", "a port made by open-output-string", port)
    if type(port.chunks) is not list or not all(type(c) is str for c in port.chunks):
        raise EvalError("get-output-string: the port's stored state is damaged")
    text = port.value()
    budget.charge(len(text) >> 6)
    budget.alloc(len(text))
    return text


# ---------------------------------------------------------------- predicates and closing

@primitive("port?")
def is_port(x: Any) -> bool:
    """(port? x) -> whether x is a port."""
    return type(x) is InputPort or type(x) is OutputPort or type(x) is ConsolePort


@primitive("input-port?")
def is_input_port(x: Any) -> bool:
    """(input-port? x) -> whether x is an input port."""
    return type(x) is InputPort or x is CONSOLE_IN


@primitive("output-port?")
def is_output_port(x: Any) -> bool:
    """(output-port? x) -> whether x is an output port."""
    return type(x) is OutputPort or x is CONSOLE_OUT


@primitive("textual-port?")
def is_textual_port(x: Any) -> bool:
    """(textual-port? x) -> whether x is a textual port (every port here is one)."""
    return is_port(x)


@primitive("binary-port?")
def is_binary_port(x: Any) -> bool:
    """(binary-port? x) -> #f: there are no binary ports."""
    return False


@primitive("input-port-open?")
def input_port_open(p: Any) -> bool:
    """(input-port-open? port) -> whether port can still be read."""
    if p is CONSOLE_IN:
        return True
    if type(p) is not InputPort:
        raise type_error("input-port-open?", "an input port", p)
    return p.open


@primitive("output-port-open?")
def output_port_open(p: Any) -> bool:
    """(output-port-open? port) -> whether port can still be written."""
    if p is CONSOLE_OUT:
        return True
    if type(p) is not OutputPort:
        raise type_error("output-port-open?", "an output port", p)
    return p.open


@primitive("close-port")
def close_port(p: Any) -> Any:
    """(close-port port) closes port; reading or writing it afterwards is an error."""
    if not is_port(p):
        raise type_error("close-port", "a port", p)
    if type(p) is not ConsolePort:      # the evaluation's output cannot be closed
        p.open = False
    return VOID


@primitive("close-input-port")
def close_input_port(p: Any) -> Any:
    """(close-input-port port) closes an input port."""
    if p is CONSOLE_IN:
        return VOID
    if type(p) is not InputPort:
        raise type_error("close-input-port", "an input port", p)
    p.open = False
    return VOID


@primitive("close-output-port")
def close_output_port(p: Any) -> Any:
    """(close-output-port port) closes an output port."""
    if p is CONSOLE_OUT:
        return VOID
    if type(p) is not OutputPort:
        raise type_error("close-output-port", "an output port", p)
    p.open = False
    return VOID


@primitive("eof-object")
def eof_object() -> Eof:
    """(eof-object) -> the end-of-file object."""
    return EOF


@primitive("eof-object?")
def is_eof_object(x: Any) -> bool:
    """(eof-object? x) -> whether x is the end-of-file object."""
    return x is EOF


# ---------------------------------------------------------------- reading

@primitive("read-char")
def read_char(port: Any = ABSENT) -> Any:
    """(read-char port) -> the next character of port, or the eof object."""
    p = input_port("read-char", port)
    if p.pos >= len(p.text):
        return EOF
    c = p.text[p.pos]
    p.pos += 1
    return Char(c)


@primitive("peek-char")
def peek_char(port: Any = ABSENT) -> Any:
    """(peek-char port) -> the next character of port without consuming it, or the eof object."""
    p = input_port("peek-char", port)
    return EOF if p.pos >= len(p.text) else Char(p.text[p.pos])


@primitive("char-ready?")
def char_ready(port: Any = ABSENT) -> bool:
    """(char-ready? port) -> #t: a string port never waits."""
    input_port("char-ready?", port)
    return True


@primitive("read-line")
def read_line(port: Any = ABSENT) -> Any:
    """(read-line port) -> the characters of port up to the next newline (not included), or eof."""
    p = input_port("read-line", port)
    text, start = p.text, p.pos
    if start >= len(text):
        return EOF
    end = text.find("\n", start)
    p.pos = len(text) if end < 0 else end + 1
    line = text[start:len(text) if end < 0 else end]
    budget.charge(len(line) >> 6)
    budget.alloc(len(line))
    return line


@primitive("read-string")
def read_string(k: Any, port: Any = ABSENT) -> Any:
    """(read-string k port) -> the next k characters of port (fewer at its end), or eof."""
    need_count("read-string", k)
    p = input_port("read-string", port)
    if p.pos >= len(p.text) and k > 0:
        return EOF
    out = p.text[p.pos:p.pos + k]
    p.pos += len(out)
    budget.charge(len(out) >> 6)
    budget.alloc(len(out))
    return out


def read_datum(port: Any) -> Any:
    """`(read port)`: the next datum of the port, or eof; a syntax error names its line and column."""
    from ..reader import Reader
    p = input_port("read", port)
    if p.pos >= len(p.text):
        return EOF
    r = getattr(p, "_v_reader", None)
    if r is None or r.text is not p.text:   # made once per port: the text is checked once
        r = Reader(p.text, "string port")
        p._v_reader = r
    r.pos = p.pos
    try:
        got = r.next()
    except ReadError as e:
        p.pos = len(p.text)         # as a reader that hit bad input: the rest is not read again
        if type(e) is IncompleteInput:      # not a REPL's "type another line": the port has no more
            raise ReadError(f"the port ends inside a datum: {e.message}", e.line, e.col, e.source) from None
        raise
    p.pos = r.pos
    return EOF if got is None else got[0]


# ---------------------------------------------------------------- writing

@primitive("write-char", group="output")
def write_char(c: Any, port: Any = ABSENT) -> Any:
    """(write-char c [port]) writes the character c to port, or to the output."""
    return emit("write-char", need_char("write-char", c), port)


@primitive("write-u8", group="output")
def write_u8(b: Any, port: Any = ABSENT) -> Any:
    """(write-u8 byte [port]) is refused: there are no binary ports."""
    raise EvalError(f"write-u8: {BINARY}")


@primitive("call-with-port")
def call_with_port(port: Any, proc: Any) -> Any:
    """(call-with-port port proc) -> (proc port), closing port when proc returns."""
    from ..calls import call
    if not is_port(port):
        raise type_error("call-with-port", "a port", port)
    result = call(need_proc("call-with-port", proc), port)
    if type(port) is not ConsolePort:
        port.open = False
    return result


@primitive("flush-output-port", group="output")
def flush_output_port(port: Any = ABSENT) -> Any:
    """(flush-output-port [port]) does nothing: output is delivered when the form ends."""
    if port is not ABSENT and port is not CONSOLE_OUT:
        output_port("flush-output-port", port)
    return VOID


# ---------------------------------------------------------------- absent by design

FILES = ("files are not available in the world (the sandbox excludes them by design); "
         "use a string port: ")
BINARY = ("binary ports are not available in the world (absent by design); "
          "build and take apart bytevectors instead: bytevector, bytevector-append, bytevector-u8-ref")
ABSENT_BY_DESIGN = {
    "open-input-file": FILES + "(open-input-string text)",
    "open-output-file": FILES + "(open-output-string), then get-output-string",
    "open-binary-input-file": BINARY, "open-binary-output-file": BINARY,
    "call-with-input-file": FILES + "(call-with-port (open-input-string text) proc)",
    "call-with-output-file": FILES + "(let ((p (open-output-string))) (proc p) (get-output-string p))",
    "with-input-from-file": FILES + "(read (open-input-string text))",
    "with-output-to-file": FILES + "(let ((p (open-output-string))) (display x p) (get-output-string p))",
    "open-input-bytevector": BINARY, "open-output-bytevector": BINARY,
    "get-output-bytevector": BINARY, "read-u8": BINARY, "peek-u8": BINARY, "u8-ready?": BINARY,
    "read-bytevector": BINARY, "read-bytevector!": BINARY, "write-bytevector": BINARY,
}


def _absent(name: str) -> None:
    def absent(*args: Any) -> Any:
        raise EvalError(f"{name}: {ABSENT_BY_DESIGN[name]}")
    absent.__name__ = "absent_" + name.replace("-", "_").replace("!", "").replace("?", "")
    absent.__doc__ = f"({name} ...) is refused: {ABSENT_BY_DESIGN[name]}."
    primitive(name)(absent)


for _name in ABSENT_BY_DESIGN:
    _absent(_name)
