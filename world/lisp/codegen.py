"""Code generation: the AST becomes Python source, compiled once and run.

Lisp procedures become Python functions, lexical variables Python locals
(captured-and-assigned ones live in a `Box`), globals are names in the
environment's namespace dict, so a global lookup is one LOAD_GLOBAL. Every
procedure entry and loop iteration decrements the step counter `_n`.
Self tail calls and named lets compile to `while` loops; other tail calls
return a `TailCall` that the nearest non-tail caller bounces, so tail calls
run in constant space. Each call in the source gets its own Python line,
which maps back to its Lisp line and column for backtraces.
"""
from __future__ import annotations

import re
from typing import Any

from . import ast as A
from .ast import captures, tail_only
from .analyze import mangle
from .types import Template, VOID

MARK = "\x00"
MAX_NEST = 20           # calls nested in one Python expression (its parser allows 200 parentheses)
RET, DROP = "ret", "drop"


class Dest:
    """Where a statement leaves its value: returned, stored in `name`, or dropped."""

    __slots__ = ("kind", "name", "brk")

    def __init__(self, kind: str, name: str = "", brk: bool = False) -> None:
        self.kind, self.name, self.brk = kind, name, brk


RET_DEST = Dest(RET)
DROP_DEST = Dest(DROP)


class Loop:
    """The innermost Python loop: self calls of `target` in tail position continue it."""

    __slots__ = ("target", "params", "exit", "guard")

    def __init__(self, target: Any, params: list[str], exit: Dest, guard: str | None) -> None:
        self.target, self.params, self.exit, self.guard = target, params, exit, guard


class Unit:
    """One compilation: constants handed to the factory, lines, source map."""

    def __init__(self, env: Any, filename: str) -> None:
        self.env = env
        self.filename = filename
        self.consts: list[Any] = []
        self.const_ids: dict[int, str] = {}
        self.locs: list[A.Loc] = []
        self.names: dict[str, str] = {}     # Python function name -> Lisp name
        self.n = 0

    def const(self, value: Any) -> str:
        """A name for `value` in the generated code (passed to the factory)."""
        key = id(value)
        name = self.const_ids.get(key)
        if name is None:
            name = f"K{len(self.consts)}"
            self.consts.append(value)
            self.const_ids[key] = name
        return name

    def mark(self, loc: A.Loc) -> str:
        self.locs.append(loc)
        return f"{MARK}{len(self.locs) - 1}{MARK}"

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


def pyname(var: A.Var) -> str:
    return var.py + "b" if var.boxed else var.py


def literal(unit: Unit, v: Any) -> str:
    t = type(v)
    if v is None or t is bool:
        return repr(v)
    if t is int and -(1 << 60) < v < (1 << 60):
        return repr(v)
    return unit.const(v)


INLINE1 = {
    "null?": "({0} is None)",
    "pair?": "(_type({0}) is _Pair)",
    "not": "({0} is False)",
}
BOOLEAN_PRIMS = {"null?", "pair?", "not", "<", ">", "<=", ">=", "="}
ARITH = {"+": "+", "-": "-", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "=": "=="}
BIG_BITS = 62           # sums of two variables this large go through `big` (size check, charge)


def _cxr(name: str) -> str | None:
    if 3 <= len(name) <= 5 and name[0] == "c" and name[-1] == "r" and set(name[1:-1]) <= {"a", "d"}:
        return "".join(".car" if c == "a" else ".cdr" for c in reversed(name[1:-1]))
    return None


class Fn:
    """One Python function being generated."""

    def __init__(self, unit: Unit, pyfn: str, lam: A.Lambda | None) -> None:
        self.unit = unit
        self.pyfn = pyfn
        self.lam = lam
        self.lines: list[tuple[int, str]] = []
        self.depth = 1
        self.loop: Loop | None = None
        self.errs: list[str] = []
        self.self_var: A.Var | None = None
        self.nest = 0           # calls open around the expression being generated

    # ------------------------------------------------------------ emitting
    def emit(self, text: str, loc: A.Loc = None) -> None:
        if loc is not None:
            text = self.unit.mark(loc) + text
        self.lines.append((self.depth, text))

    def temp(self) -> str:
        return self.unit.fresh("_t")

    # ------------------------------------------------------------ expressions
    def simple(self, node: A.Node) -> bool:
        t = type(node)
        if t in (A.Const, A.LocalRef, A.GlobalRef, A.Lambda):
            return True
        if t is A.Call:
            return self.simple(node.fn) and all(self.simple(a) for a in node.args)
        if t is A.PrimCall:
            return all(self.simple(a) for a in node.args)
        if t is A.If:
            return self.simple(node.test) and self.simple(node.then) and self.simple(node.else_)
        if t is A.And or t is A.Or:
            return all(self.simple(p) for p in node.parts)
        return False

    def expr(self, node: A.Node) -> str:
        """Python expression for `node`, hoisting statements before it if needed."""
        t = type(node)
        if t is A.Const:
            return literal(self.unit, node.value)
        if t is A.LocalRef:
            return pyname(node.var) + (".v" if node.var.boxed else "")
        if t is A.GlobalRef:
            if node.loc is not None:    # its own line, so an unbound name is reported where it is
                return f"({self.unit.mark(node.loc)}g_{mangle(node.sym.name)})"
            return "g_" + mangle(node.sym.name)
        if t is A.Lambda:
            return self.closure(node)
        if t is not A.Call and t is not A.PrimCall and not self.simple(node):
            tmp = self.temp()
            self.stmt(node, Dest("set", tmp))
            return tmp
        if t is A.Call:
            fn, args = self.operands(node.fn, node.args)
            tmp = self.temp()
            return (f"({self.unit.mark(node.loc) if node.loc else ''}{tmp} if _type({tmp} := "
                    f"{fn}.fn({', '.join(args)})) is not _TC else _bounce({tmp}))")
        if t is A.PrimCall:
            return self.primcall(node)
        if t is A.If:
            test = self.test(node.test)
            return f"({self.expr(node.then)} if {test} else {self.expr(node.else_)})"
        if t is A.And or t is A.Or:
            code = self.expr(node.parts[-1])
            op = "is" if t is A.And else "is not"
            for part in reversed(node.parts[:-1]):
                tmp = self.temp()
                code = f"({tmp} if ({tmp} := {self.expr(part)}) {op} False else {code})"
            return code
        raise AssertionError(f"no expression for {t.__name__}")

    def operands(self, fn: A.Node | None, args: list[A.Node]) -> tuple[str, list[str]]:
        """Expressions for a call's parts, evaluated left to right."""
        nodes = ([fn] if fn is not None else []) + list(args)
        if self.nest > MAX_NEST:    # deep inside one expression: every part into a temporary,
            last = len(nodes)       # so Python's parser never sees the whole nesting
        else:
            last = max((i for i, n in enumerate(nodes) if not self.simple(n)), default=-1)
        out = []
        self.nest += 1
        try:
            for i, n in enumerate(nodes):
                code = self.expr(n)
                if i < last and type(n) not in (A.Const, A.Lambda) and not (
                        type(n) is A.LocalRef and not n.var.assigned):
                    tmp = self.temp()
                    self.emit(f"{tmp} = {code}")
                    code = tmp
                out.append(code)
        finally:
            self.nest -= 1
        if fn is None:
            return "", out
        f = out[0]
        return (f if type(fn) in (A.GlobalRef, A.LocalRef, A.Const) else f"({f})"), out[1:]

    def hoist(self, code: str) -> str:
        """A temporary holding the value of `code`, computed here."""
        tmp = self.temp()
        self.emit(f"{tmp} = {code}")
        return tmp

    def primcall(self, node: A.PrimCall) -> str:
        _, args = self.operands(None, node.args)
        name, n = node.name, len(args)
        if n == 1 and name in INLINE1:
            return INLINE1[name].format(args[0])
        if n == 1 and (path := _cxr(name)) is not None:
            mark = self.unit.mark(node.loc) if node.loc else ""
            return f"({mark}({args[0]}){path})"
        if n == 2 and name == "cons":
            return f"_cons({args[0]}, {args[1]})"
        if n == 2 and name in ARITH:
            return self.arith(ARITH[name], node, args)
        if node.prim.inline is not None and (code := self.inline(node.prim.inline, args)):
            return code
        mark = self.unit.mark(node.loc) if node.loc else ""
        return f"({mark}{self.unit.const(node.prim.fn)}({', '.join(args)}))"

    def inline(self, template: str, args: list[str]) -> str | None:
        """A primitive's inline expression over `args`, or None (the call is made) unless
        every argument is a variable or constant, which the expression may read any
        number of times, or not at all, without changing what the call means."""
        used = [int(i) for i in re.findall(r"\{(\d)\}", template)]
        if not used or max(used) + 1 != len(args) or not all(
                a.isidentifier() or a in ("None", "True", "False") for a in args):
            return None
        return "(" + template.format(*args) + ")"

    def arith(self, op: str, node: A.PrimCall, args: list[str]) -> str:
        """Binary arithmetic with an exact-integer fast path and a checked slow path."""
        checks, vals = [], []
        for a, n in zip(args, node.args):
            if type(n) is A.Const and type(n.value) is int:
                vals.append(a)
                continue
            if a.isidentifier():
                checks.append(f"(_type({a}) is _int)")
                vals.append(a)
            else:
                tmp = self.temp()
                checks.append(f"(_type({tmp} := {a}) is _int)")
                vals.append(tmp)
        slow = f"{self.unit.const(node.prim.fn)}({vals[0]}, {vals[1]})"
        if not checks:
            return f"({vals[0]} {op} {vals[1]})"
        fast = f"({vals[0]} {op} {vals[1]})"
        if len(checks) == 2 and op in ("+", "-"):
            # Two variables can double an integer per step: past 62 bits the sum is checked
            # against the integer limit and charged (a constant operand adds a bit at most).
            from .primitives.numbers import big
            tmp = self.temp()
            fast = f"({tmp} if ({tmp} := {fast}).bit_length() < {BIG_BITS} else {self.unit.const(big)}({tmp}))"
        if len(checks) == 2 and all(a.isidentifier() for a in args):
            return f"({fast} if _type({args[0]}) is _type({args[1]}) is _int else {slow})"
        return f"({fast} if {' & '.join(checks)} else {slow})"

    def closure(self, lam: A.Lambda) -> str:
        """Emit the def for `lam` here and return an expression making its closure."""
        pyfn = f"f_{mangle(lam.name)}_{self.unit.fresh('')}"
        self.last_def = pyfn
        self.unit.names[pyfn] = lam.name
        child = Fn(self.unit, pyfn, lam)
        child.self_var = lam.self_var
        child.function(lam)
        self.emit(f"def {pyfn}({', '.join(child.signature(lam))}):", lam.loc)
        for depth, text in child.lines:
            self.lines.append((self.depth + depth, text))
        tmpl = Template(lam.form, lam.name, tuple(pyname(v) for v in lam.free), lam.doc)
        tmpl.glob = lam.self_sym is not None
        tmpl.home = self.unit.env
        return f"_C({pyfn}, {self.unit.const(tmpl)})"

    # ------------------------------------------------------------ functions
    def signature(self, lam: A.Lambda) -> list[str]:
        params = [v.py for v in lam.params]
        if lam.rest is not None:
            params.append("*" + lam.rest.py)
        return params

    def function(self, lam: A.Lambda) -> None:
        """The body of the Python function for `lam` (a loop if it calls itself in tail position)."""
        self.emit("global _n")
        for v in lam.params:
            if v.boxed:
                self.emit(f"{pyname(v)} = _Box({v.py})")
        if lam.rest is not None:
            rest = lam.rest
            self.emit(f"{pyname(rest)} = _list({rest.py})" if not rest.boxed
                      else f"{pyname(rest)} = _Box(_list({rest.py}))")
        target = lam.self_sym if lam.self_sym is not None else self.self_var
        loopable = target is not None and lam.rest is None and not captures(lam.body, lam) \
            and not any(v.boxed for v in lam.params)
        if not loopable:
            self.count()
            self.stmt(lam.body, RET_DEST)
            return
        guard = None if type(target) is A.Var else f"g_{mangle(target.name)}.fn is {self.pyfn}"
        self.loop = Loop(target, [v.py for v in lam.params], RET_DEST, guard)
        self.emit("while True:")
        self.depth += 1
        self.count()
        self.stmt(lam.body, RET_DEST)
        self.depth -= 1

    def count(self) -> None:
        self.emit("_n -= 1")
        self.emit("if _n < 0: _trap()")

    # ------------------------------------------------------------ statements
    def deliver(self, code: str, dest: Dest) -> None:
        if dest.kind == RET:
            self.emit(f"return {code}")
            return
        if dest.kind == "set":
            self.emit(f"{dest.name} = {code}")
        elif not (code.isidentifier() or code in ("None", "True", "False")):
            self.emit(code)
        if dest.brk:
            self.emit("break")

    def stmt(self, node: A.Node, dest: Dest) -> None:
        """Emit statements that leave the value of `node` in `dest`."""
        t = type(node)
        handler = getattr(self, "s_" + t.__name__, None)
        if handler is not None:
            handler(node, dest)
        else:
            self.deliver(self.expr(node), dest)

    def s_If(self, node: A.If, dest: Dest) -> None:
        if self.simple(node) and not self.is_tail_loop_call(node, dest):
            self.deliver(self.expr(node), dest)
            return
        self.emit(f"if {self.test(node.test)}:", node.loc)
        self.block(node.then, dest)
        mark = len(self.lines)
        self.emit("else:")
        if not self.block(node.else_, dest):
            del self.lines[mark:]

    def block(self, node: A.Node, dest: Dest) -> bool:
        """Emit `node` as an indented block; False if it needed no statement (a `pass` stands in)."""
        self.depth += 1
        mark = len(self.lines)
        self.stmt(node, dest)
        if len(self.lines) == mark:
            self.emit("pass")
        self.depth -= 1
        return len(self.lines) != mark + 1 or self.lines[-1][1] != "pass"

    def test(self, node: A.Node) -> str:
        """A Python condition for a Lisp test (only #f is false)."""
        if type(node) is A.PrimCall and node.name in BOOLEAN_PRIMS and len(node.args) <= 2:
            return self.expr(node)
        return f"{self.expr(node)} is not False"

    def is_tail_loop_call(self, node: A.Node, dest: Dest) -> bool:
        """Does `node` contain, in tail position, a call that continues the current loop?"""
        if self.loop is None or dest is not self.loop.exit:
            return dest.kind == RET and self.has_tail_call(node)
        return self.has_tail_call(node)

    def has_tail_call(self, node: A.Node) -> bool:
        t = type(node)
        if t is A.Call:
            return True
        if t is A.If:
            return self.has_tail_call(node.then) or self.has_tail_call(node.else_)
        if t is A.And or t is A.Or:
            return self.has_tail_call(node.parts[-1])
        return False

    def s_Seq(self, node: A.Seq, dest: Dest) -> None:
        for n in node.body[:-1]:
            self.stmt(n, DROP_DEST)
        self.stmt(node.body[-1], dest)

    def s_And(self, node: A.And | A.Or, dest: Dest) -> None:
        if self.simple(node) and not self.is_tail_loop_call(node, dest):
            self.deliver(self.expr(node), dest)
            return
        op = "is False" if type(node) is A.And else "is not False"
        depth = self.depth
        for part in node.parts[:-1]:
            tmp = self.temp()
            self.emit(f"{tmp} = {self.expr(part)}")
            self.emit(f"if {tmp} {op}:")
            self.depth += 1
            mark = len(self.lines)
            self.deliver(tmp, dest)
            if len(self.lines) == mark:
                self.emit("pass")
            self.depth -= 1
            self.emit("else:")
            self.depth += 1
        self.stmt(node.parts[-1], dest)
        self.depth = depth

    s_Or = s_And

    def s_Let(self, node: A.Let, dest: Dest) -> None:
        if node.rec and self.inline_loop(node, dest):
            return
        if node.rec:
            for var in node.vars:
                if var.boxed:
                    self.emit(f"{pyname(var)} = _Box(_VOID)")
            for var, init in zip(node.vars, node.inits):
                if type(init) is A.Lambda and not var.assigned:
                    init.self_var = var
                code = self.expr(init)
                self.emit(f"{pyname(var)}{'.v' if var.boxed else ''} = {code}")
        else:
            codes = [self.expr(init) for init in node.inits]
            for var, code in zip(node.vars, codes):
                self.emit(f"{pyname(var)} = {'_Box(' + code + ')' if var.boxed else code}")
        self.stmt(node.body, dest)

    def inline_loop(self, node: A.Let, dest: Dest) -> bool:
        """A named let whose name is only called in tail position becomes a `while`."""
        if len(node.vars) != 1 or type(node.body) is not A.Call:
            return False
        var, lam, call = node.vars[0], node.inits[0], node.body
        if (type(lam) is not A.Lambda or var.assigned or lam.rest is not None
                or type(call.fn) is not A.LocalRef or call.fn.var is not var
                or len(call.args) != len(lam.params)
                or not tail_only(lam.body, var, True) or captures(lam.body, lam)
                or any(v.boxed for v in lam.params)):
            return False
        _, args = self.operands(None, call.args)
        params = [v.py for v in lam.params]
        if params:
            self.emit(f"{', '.join(params)} = {', '.join(args)}")
        exit_ = dest if dest.kind == RET else Dest("set", self.temp(), brk=True)
        saved = self.loop
        self.loop = Loop(var, params, exit_, None)
        self.emit("while True:", node.loc)
        self.depth += 1
        self.count()
        self.stmt(lam.body, exit_)
        self.depth -= 1
        self.loop = saved
        if exit_ is not dest:
            self.deliver(exit_.name, dest)
        return True

    def s_Call(self, node: A.Call, dest: Dest) -> None:
        loop = self.loop
        if loop is not None and dest is loop.exit and self.is_self(node.fn, loop):
            _, args = self.operands(None, node.args)
            if len(args) == len(loop.params):
                assign = f"{', '.join(loop.params)} = {', '.join(args)}" if args else "pass"
                if loop.guard is None:
                    self.emit(assign, node.loc)
                    self.emit("continue")
                    return
                self.emit(f"if {loop.guard}:", node.loc)
                self.depth += 1
                self.emit(assign)
                self.emit("continue")
                self.depth -= 1
                fn = "g_" + mangle(loop.target.name)
                self.emit(f"return _TC({fn}, ({', '.join(args)}{',' if len(args) == 1 else ''}))")
                return
        if dest.kind == RET:
            fn, args = self.operands(node.fn, node.args)
            packed = f"({', '.join(args)}{',' if len(args) == 1 else ''})"
            if type(node.fn) is A.GlobalRef:    # a primitive is called at once: it cannot recurse
                loose = [a if a.isidentifier() or type(n) is A.Const else self.hoist(a)
                         for a, n in zip(args, node.args)]
                packed = f"({', '.join(loose)}{',' if len(loose) == 1 else ''})"
                self.emit(f"return {fn}.fn({', '.join(loose)}) if _type({fn}) is _Prim "
                          f"else _TC({fn}, {packed})", node.loc)
                return
            self.emit(f"return _TC({fn}, {packed})", node.loc)
            return
        self.deliver(self.expr(node), dest)

    def is_self(self, fn: A.Node, loop: Loop) -> bool:
        if type(loop.target) is A.Var:
            return type(fn) is A.LocalRef and fn.var is loop.target
        return type(fn) is A.GlobalRef and fn.sym is loop.target

    def s_SetLocal(self, node: A.SetLocal, dest: Dest) -> None:
        code = self.expr(node.value)
        self.emit(f"{pyname(node.var)}{'.v' if node.var.boxed else ''} = {code}", node.loc)
        self.deliver("_VOID", dest)

    def s_SetGlobal(self, node: A.SetGlobal, dest: Dest) -> None:
        code = self.expr(node.value)
        self.emit(f"_setg({self.unit.const(node.sym)}, {code})", node.loc)
        self.deliver("_VOID", dest)

    def s_DefineGlobal(self, node: A.DefineGlobal, dest: Dest) -> None:
        code = self.expr(node.value)
        tmp = self.temp()
        self.emit(f"{tmp} = _define({self.unit.const(node.sym)}, {code}, "
                  f"{self.unit.const(node.form)}, {node.kind!r}, {self.unit.const(node.doc)})",
                  node.loc)
        self.deliver(tmp, dest)

    def s_Guard(self, node: A.Guard, dest: Dest) -> None:
        tmp, err, hm = self.temp(), self.unit.fresh("_e"), self.unit.fresh("_hm")
        saved = self.loop
        self.loop = None
        # The guard marks the handler stack, so that raise inside unwinds to it (dynamic.py).
        self.emit(f"{hm} = _gmark()", node.loc)
        self.emit("try:")
        self.depth += 1
        self.stmt(node.body, Dest("set", tmp))
        self.depth -= 1
        self.emit(f"except _Catch as {err}:")
        self.depth += 1
        self.emit(f"_gcut({hm})")
        var = node.var
        self.emit(f"{pyname(var)} = {'_Box(_cond(' + err + '))' if var.boxed else '_cond(' + err + ')'}")
        self.errs.append(err)
        self.stmt(node.handler, Dest("set", tmp))
        self.errs.pop()
        self.depth -= 1
        self.emit("else:")
        self.emit(f"    _gcut({hm})")
        self.loop = saved
        self.deliver(tmp, dest)

    def s_Reraise(self, node: A.Reraise, dest: Dest) -> None:
        self.emit(f"raise {self.errs[-1]}")


def assemble(unit: Unit, header: list[str], fn: Fn, footer: list[str]) -> tuple[str, list[A.Loc]]:
    """Python source for a factory, and the Lisp location of each of its lines."""
    out: list[str] = list(header)
    locs: list[A.Loc] = [None] * len(header)
    current: A.Loc = None
    for depth, text in fn.lines:
        pieces = text.split(MARK)
        first = pieces[0]
        if len(pieces) > 1 and first == "":
            current = unit.locs[int(pieces[1])]
            pieces = pieces[2:]
            first = pieces[0] if pieces else ""
            rest = pieces[1:]
        else:
            rest = pieces[1:]
        out.append("    " * depth + first)
        locs.append(current)
        for i in range(0, len(rest), 2):
            current = unit.locs[int(rest[i])]
            out.append(rest[i + 1] if i + 1 < len(rest) else "")
            locs.append(current)
    out += footer
    locs += [None] * len(footer)
    return "\n".join(out) + "\n", locs


VOID_VALUE = VOID
