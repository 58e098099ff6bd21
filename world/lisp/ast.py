"""The compiler's intermediate form: Lisp code after macro expansion, with
every variable resolved to a lexical `Var` or a global symbol."""
from __future__ import annotations

from typing import Any

from .types import Symbol

Loc = tuple[int, int] | None


class Var:
    """A lexical variable; `owner` is the lambda whose frame holds it."""

    __slots__ = ("sym", "py", "owner", "assigned", "captured")

    def __init__(self, sym: Symbol, py: str, owner: "Lambda | None") -> None:
        self.sym = sym
        self.py = py
        self.owner = owner
        self.assigned = False
        self.captured = False

    @property
    def boxed(self) -> bool:
        """Assigned and captured: lives in a `Box` so closures can share it."""
        return self.assigned and self.captured


class Node:
    __slots__ = ("loc",)


class Const(Node):
    __slots__ = ("value",)

    def __init__(self, value: Any, loc: Loc = None) -> None:
        self.value, self.loc = value, loc


class LocalRef(Node):
    __slots__ = ("var",)

    def __init__(self, var: Var, loc: Loc = None) -> None:
        self.var, self.loc = var, loc


class GlobalRef(Node):
    __slots__ = ("sym",)

    def __init__(self, sym: Symbol, loc: Loc = None) -> None:
        self.sym, self.loc = sym, loc


class SetLocal(Node):
    __slots__ = ("var", "value")

    def __init__(self, var: Var, value: Node, loc: Loc = None) -> None:
        self.var, self.value, self.loc = var, value, loc


class SetGlobal(Node):
    __slots__ = ("sym", "value")

    def __init__(self, sym: Symbol, value: Node, loc: Loc = None) -> None:
        self.sym, self.value, self.loc = sym, value, loc


class DefineGlobal(Node):
    """A top-level definition; `form` is its source, `kind` its history kind."""

    __slots__ = ("sym", "value", "form", "kind", "doc")

    def __init__(self, sym: Symbol, value: Node, form: Any, kind: str = "define",
                 doc: str | None = None, loc: Loc = None) -> None:
        self.sym, self.value, self.form, self.kind, self.doc, self.loc = sym, value, form, kind, doc, loc


class If(Node):
    __slots__ = ("test", "then", "else_")

    def __init__(self, test: Node, then: Node, else_: Node, loc: Loc = None) -> None:
        self.test, self.then, self.else_, self.loc = test, then, else_, loc


class Seq(Node):
    __slots__ = ("body",)

    def __init__(self, body: list[Node], loc: Loc = None) -> None:
        self.body, self.loc = body, loc


class And(Node):
    __slots__ = ("parts",)

    def __init__(self, parts: list[Node], loc: Loc = None) -> None:
        self.parts, self.loc = parts, loc


class Or(Node):
    __slots__ = ("parts",)

    def __init__(self, parts: list[Node], loc: Loc = None) -> None:
        self.parts, self.loc = parts, loc


class Lambda(Node):
    """`params` fixed, `rest` the rest parameter; `free` the captured Vars."""

    __slots__ = ("params", "rest", "body", "name", "doc", "form", "free", "self_sym",
                 "locals", "self_var")

    def __init__(self, name: str, form: Any, loc: Loc = None) -> None:
        self.params: list[Var] = []
        self.rest: Var | None = None
        self.body: Node = Const(None)
        self.name = name
        self.doc: str | None = None
        self.form = form
        self.free: list[Var] = []
        self.self_sym: Symbol | None = None
        self.locals: list[Var] = []
        self.self_var: Var | None = None
        self.loc = loc


class Let(Node):
    """`letrec` when `rec`: the inits see the new variables."""

    __slots__ = ("vars", "inits", "body", "rec")

    def __init__(self, vars: list[Var], inits: list[Node], body: Node, rec: bool,
                 loc: Loc = None) -> None:
        self.vars, self.inits, self.body, self.rec, self.loc = vars, inits, body, rec, loc


class Call(Node):
    __slots__ = ("fn", "args")

    def __init__(self, fn: Node, args: list[Node], loc: Loc = None) -> None:
        self.fn, self.args, self.loc = fn, args, loc


class PrimCall(Node):
    """A call of a primitive known at compile time (inlined or called directly)."""

    __slots__ = ("name", "prim", "args")

    def __init__(self, name: str, prim: Any, args: list[Node], loc: Loc = None) -> None:
        self.name, self.prim, self.args, self.loc = name, prim, args, loc


class Guard(Node):
    """`(guard (var clause...) body...)`; `handler` sees `var`, `reraise` marks no match."""

    __slots__ = ("var", "body", "handler")

    def __init__(self, var: Var, body: Node, handler: Node, loc: Loc = None) -> None:
        self.var, self.body, self.handler, self.loc = var, body, handler, loc


class Reraise(Node):
    """Inside a guard handler: no clause matched, raise the condition again."""

    __slots__ = ()

    def __init__(self, loc: Loc = None) -> None:
        self.loc = loc


# ---------------------------------------------------------------- walking the tree

def captures(node: Node, lam: Lambda) -> bool:
    """Does a lambda inside `node` capture a variable owned by `lam`?"""
    for inner in walk(node):
        if type(inner) is Lambda and any(v.owner is lam for v in inner.free):
            return True
    return False


def walk(node: Node):
    """Every node under `node`, depth first."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        t = type(n)
        if t is If:
            stack += [n.test, n.then, n.else_]
        elif t is Seq:
            stack += n.body
        elif t is And or t is Or:
            stack += n.parts
        elif t is Lambda:
            stack.append(n.body)
        elif t is Let:
            stack += n.inits + [n.body]
        elif t is Call:
            stack += [n.fn] + n.args
        elif t is PrimCall:
            stack += n.args
        elif t in (SetLocal, SetGlobal, DefineGlobal):
            stack.append(n.value)
        elif t is Guard:
            stack += [n.body, n.handler]


def tail_only(node: Node, var: Var, tail: bool) -> bool:
    """Is `var` used only as the operator of calls in tail position of `node`?"""
    t = type(node)
    if t is LocalRef:
        return node.var is not var
    if t is Call:
        if type(node.fn) is LocalRef and node.fn.var is var:
            return tail and all(tail_only(a, var, False) for a in node.args)
        return tail_only(node.fn, var, False) and all(tail_only(a, var, False) for a in node.args)
    if t is If:
        return (tail_only(node.test, var, False) and tail_only(node.then, var, tail)
                and tail_only(node.else_, var, tail))
    if t is Seq:
        return all(tail_only(n, var, False) for n in node.body[:-1]) and \
            tail_only(node.body[-1], var, tail)
    if t is And or t is Or:
        return all(tail_only(n, var, False) for n in node.parts[:-1]) and \
            tail_only(node.parts[-1], var, tail)
    if t is Let:
        return all(tail_only(n, var, False) for n in node.inits) and \
            tail_only(node.body, var, tail and not node.rec)
    if t is Lambda:
        return tail_only(node.body, var, False)
    if t is PrimCall:
        return all(tail_only(a, var, False) for a in node.args)
    if t in (SetLocal, SetGlobal, DefineGlobal):
        return tail_only(node.value, var, False)
    if t is Guard:
        return tail_only(node.body, var, False) and tail_only(node.handler, var, False)
    return True
