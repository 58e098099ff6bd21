"""Hygienic macros: `define-syntax`, `let-syntax`, `letrec-syntax` and `syntax-rules`.

The technique is renaming, as in Clinger and Rees, "Macros that work" (1991):

- Each expansion renames every identifier its *template* introduces (those
  that are not pattern variables) to a fresh alias, a symbol named
  `#%NAME.N` that no program reads bare. The analyzer remembers, for this
  compilation, each alias's parent identifier and the scope the macro was
  defined in (`Analyzer.aliases`).
- An alias that a binding form of the expansion binds (a `let`, `lambda` or
  internal `define` in the template) is an ordinary local name: it cannot
  capture the user's identifiers, which keep their own names.
- An alias that nothing in the expansion binds means what its parent meant
  where the macro was defined (`Analyzer.resolve`): a global, a special form,
  a macro, or a local variable around a `let-syntax`, never a binding the user
  made around the macro's use.
- Quoted template data is not renamed (`'x` is the symbol `x`; `quote` itself
  is), nor are the
  auxiliary words `else`, `=>`, `unquote`, `unquote-splicing` and
  `quasiquote`, which special forms recognize by name.
- A top-level `define` of an identifier the template introduced defines the
  plain name (so history records it by its name).

A procedure made by an expansion keeps its lambda form, aliases included;
compiled again later (after a reopen), an alias the analyzer does not know
means what its parent name means at that place.

The special forms are in `macro_forms.py`. A top-level `define-syntax` is a
definition of kind `defmacro`: it is stored
in the world's macros, recorded in history with its source, and pickled as
the canonical text of its `syntax-rules` form, which is parsed again on load.
"""
from __future__ import annotations

import re
from typing import Any

from . import budget
from .analyze import SPECIAL, Analyzer, Scope, items
from .errors import LispError, LispSyntaxError
from .primitives import primitive
from .printer import write
from .types import Keyword, Pair, Symbol

S = Symbol
ELLIPSIS, UNDERSCORE = S("..."), S("_")
QUOTE, QUASI, UNQUOTE, SPLICE = S("quote"), S("quasiquote"), S("unquote"), S("unquote-splicing")
SYNTAX_RULES, DEFINE_SYNTAX = S("syntax-rules"), S("define-syntax")
NO_RENAME = frozenset({S("else"), S("=>"), UNQUOTE, SPLICE, QUASI})
PREFIX = "#%"
MAX_DEPTH = 10_000      # macro uses nested inside expansions: beyond, it expands forever
MAX_SHOWN = 200         # characters of a form shown in an error
NODE_STEPS = 20         # steps charged per element matched or built (what it costs, as analysis does)
_ALIAS = re.compile(r"#%(.*)\.[0-9]+\Z", re.S)


# ---------------------------------------------------------------- aliases

def alias_parent(sym: Symbol) -> Symbol | None:
    """The identifier an alias was made from, by its name; None if `sym` is no alias."""
    m = _ALIAS.match(sym.name)
    return S(m.group(1)) if m else None


def strip(sym: Symbol) -> Symbol:
    """The plain name under any number of aliases."""
    while sym.name.startswith(PREFIX):
        parent = alias_parent(sym)
        if parent is None:
            break
        sym = parent
    return sym


def new_alias(an: Analyzer, sym: Symbol, scope: Scope | None) -> Symbol:
    """A fresh alias of `sym` for a macro defined in `scope`."""
    while True:
        an.counter[0] += 1
        name = f"{PREFIX}{sym.name}.{an.counter[0]}"
        if name not in Symbol.table:     # not a live symbol: a stored form's alias keeps its meaning
            break
    alias = S(name)
    an.aliases[alias] = (sym, scope)
    return alias


def readable(form: Any) -> Any:
    """`form` with each alias named by its plain name (`name.N` if that name is taken)."""
    plain: set[Symbol] = set()
    found: dict[Symbol, list[Symbol]] = {}
    stack, n = [form], 0
    while stack:
        x = stack.pop()
        n += 1
        t = type(x)
        if t is Pair:
            stack += (x.car, x.cdr)
        elif t is tuple:
            stack += x
        elif t is Symbol:
            if x.name.startswith(PREFIX) and alias_parent(x) is not None:
                group = found.setdefault(strip(x), [])
                if x not in group:
                    group.append(x)
            else:
                plain.add(x)
    budget.charge(n)
    names: dict[Symbol, Symbol] = {}
    for base, group in found.items():
        if len(group) == 1 and base not in plain:
            names[group[0]] = base
        else:
            for i, a in enumerate(sorted(group, key=lambda s: s.name), 1):
                names[a] = S(f"{base.name}.{i}")
    return _rename(form, names) if names else form


def _rename(x: Any, names: dict[Symbol, Symbol]) -> Any:
    t = type(x)
    if t is Symbol:
        return names.get(x, x)
    if t is tuple:
        return tuple(_rename(e, names) for e in x)
    if t is not Pair:
        return x
    cells = []
    while type(x) is Pair:
        cells.append(x)
        x = x.cdr
    out = _rename(x, names)
    for c in reversed(cells):
        out = Pair(_rename(c.car, names), out, c.loc)
    return out


# ---------------------------------------------------------------- transformers

class _Many(list):
    """The matches of a pattern variable under an ellipsis."""


class Rule:
    """One `(pattern template)` clause and the depth of each pattern variable."""

    __slots__ = ("pattern", "template", "vars")

    def __init__(self, pattern: Any, template: Any, vars_: dict[Symbol, int]) -> None:
        self.pattern, self.template, self.vars = pattern, template, vars_


class SyntaxRules:
    """A `syntax-rules` transformer: its rules, literals, ellipsis and defining scope."""

    def __init__(self, name: str, spec: Any, scope: Scope | None = None,
                 broken: str | None = None) -> None:
        self.name = name
        self.spec = spec            # the (syntax-rules ...) form
        self.scope = scope          # where it was defined (None: top level)
        self.broken = broken        # why a stored transformer could not be rebuilt
        self.ellipsis = ELLIPSIS
        self.literals: frozenset[Symbol] = frozenset()
        self.rules: list[Rule] = []
        self._depths: dict[int, dict[Symbol, int]] = {}
        if broken is None:
            self._parse(spec)

    def __reduce__(self):
        return (syntax_rules_from_source, (self.name, write(self.spec)))

    def __repr__(self) -> str:
        return f"<syntax-rules {self.name}>"

    # ------------------------------------------------------------ definition
    def _error(self, message: str) -> LispSyntaxError:
        loc = self.spec.loc if type(self.spec) is Pair else None
        return LispSyntaxError(f"syntax-rules ({self.name}): {message}", loc)

    def _parse(self, spec: Any) -> None:
        if type(spec) is not Pair or type(spec.car) is not Symbol or strip(spec.car) is not SYNTAX_RULES:
            raise self._error("expected (syntax-rules (literal...) (pattern template)...)")
        parts = items(spec.cdr, "syntax-rules", spec.loc)
        if parts and type(parts[0]) in (Symbol, Keyword):    # R7RS: a custom ellipsis first (`:::` reads as a keyword)
            self.ellipsis = parts.pop(0)
        if not parts:
            raise self._error("expected a list of literals")
        lits = items(parts[0], "syntax-rules literals", spec.loc) if parts[0] is not None else []
        if type(parts[0]) not in (Pair, type(None)) or any(type(s) is not Symbol for s in lits):
            raise self._error("the literals must be a list of identifiers")
        self.literals = frozenset(lits)
        for clause in parts[1:]:
            cp = items(clause, "syntax-rules clause", spec.loc) if type(clause) is Pair else []
            if len(cp) != 2:
                raise self._error(f"each rule is (pattern template), not {write(clause, MAX_SHOWN)}")
            pattern, template = cp
            if type(pattern) is not Pair:
                raise self._error(f"a pattern is a list starting with the keyword: {write(pattern, MAX_SHOWN)}")
            vars_: dict[Symbol, int] = {}
            self._pattern_vars(pattern.cdr, 0, vars_)
            self._check_template(template, dict(vars_))
            self.rules.append(Rule(pattern, template, vars_))

    def _is_ellipsis(self, x: Any) -> bool:
        return x is self.ellipsis and x not in self.literals

    def _split(self, pat: Any) -> tuple[list[Any], Any, list[Any], Any]:
        """A list pattern as (before, repeated or None, after, tail)."""
        elems, tail = [], pat
        while type(tail) is Pair:
            elems.append(tail.car)
            tail = tail.cdr
        for i, e in enumerate(elems):
            if self._is_ellipsis(e):
                return elems[:i - 1], elems[i - 1], elems[i + 1:], tail
        return elems, None, [], tail

    def _pattern_vars(self, pat: Any, depth: int, out: dict[Symbol, int]) -> None:
        t = type(pat)
        if t is Symbol:
            if self._is_ellipsis(pat):
                raise self._error("the ellipsis must follow a subpattern")
            if pat in self.literals or strip(pat) is UNDERSCORE:
                return
            if pat in out:
                raise self._error(f"pattern variable {pat.name} appears twice")
            out[pat] = depth
        elif t is Pair or t is tuple:
            elems = list(pat) if t is tuple else None
            if elems is None:
                elems, tail = [], pat
                while type(tail) is Pair:
                    elems.append(tail.car)
                    tail = tail.cdr
                if self._is_ellipsis(tail):
                    raise self._error("the ellipsis cannot be a pattern's tail")
                self._pattern_vars(tail, depth, out)
            marks = [i for i, e in enumerate(elems) if self._is_ellipsis(e)]
            if len(marks) > 1:
                raise self._error("at most one ellipsis in each list of a pattern")
            if marks and marks[0] == 0:
                raise self._error("the ellipsis must follow a subpattern")
            for i, e in enumerate(elems):
                if i in marks:
                    continue
                self._pattern_vars(e, depth + (1 if marks and i == marks[0] - 1 else 0), out)

    def _check_template(self, t: Any, cur: dict[Symbol, int]) -> None:
        """Refuse at definition what could never expand: ellipsis misuse, too few ellipses.
        `cur`: the ellipsis depth each pattern variable has left here (as `_Expansion` does)."""
        if type(t) is Symbol:
            if self._is_ellipsis(t):
                raise self._error("the ellipsis must follow a subtemplate")
            if cur.get(t, 0) > 0:
                raise self._error(f"pattern variable {t.name} needs {cur[t]} more ellipsis(es) "
                                  f"after it in the template")
            return
        if type(t) is tuple:
            t = _list(t)
        if type(t) is not Pair:
            return
        if self._is_ellipsis(t.car):          # (... template): the ellipsis taken literally
            rest = items(t.cdr, "ellipsis escape")
            if len(rest) != 1:
                raise self._error("the escape is (... template)")
            return
        x = t
        while type(x) is Pair:
            k, nxt = self._count_ellipses(x.cdr)
            self._check_repeat(x.car, k, cur)
            x = nxt
        if self._is_ellipsis(x):
            raise self._error("the ellipsis cannot be a template's tail")
        self._check_template(x, cur)

    def _check_repeat(self, sub: Any, k: int, cur: dict[Symbol, int]) -> None:
        if k == 0:
            return self._check_template(sub, cur)
        inner = self._depths_of(sub)
        ctrl = [v for v, d in inner.items() if cur.get(v, 0) > d]
        if not ctrl:
            raise self._error(f"no pattern variable repeats under the ellipsis after "
                              f"{write(sub, MAX_SHOWN)}")
        self._check_repeat(sub, k - 1, {**cur, **{v: cur[v] - 1 for v in ctrl}})

    def _count_ellipses(self, x: Any) -> tuple[int, Any]:
        k = 0
        while type(x) is Pair and self._is_ellipsis(x.car):
            k += 1
            x = x.cdr
        return k, x

    def _depths_of(self, t: Any) -> dict[Symbol, int]:
        """Each symbol in template `t` and how many ellipses follow it inside `t`."""
        key = id(t)
        got = self._depths.get(key)
        if got is not None:
            return got
        out: dict[Symbol, int] = {}
        self._walk_depths(t, 0, out)
        if type(t) in (Pair, tuple):
            self._depths[key] = out
        return out

    def _walk_depths(self, t: Any, depth: int, out: dict[Symbol, int]) -> None:
        if type(t) is Symbol:
            out[t] = max(out.get(t, 0), depth)
            return
        if type(t) is tuple:
            t = _list(t)
        if type(t) is not Pair or self._is_ellipsis(t.car):
            return
        while type(t) is Pair:
            k, nxt = self._count_ellipses(t.cdr)
            self._walk_depths(t.car, depth + k, out)
            t = nxt
        self._walk_depths(t, depth, out)

    # ------------------------------------------------------------ use
    def expand(self, an: Analyzer, form: Pair, scope: Scope | None) -> Any:
        """The expansion of the use `form` (analyzed in `scope`)."""
        if self.broken is not None:
            raise LispSyntaxError(self.broken, form.loc)
        for rule in self.rules:
            binds: dict[Symbol, Any] = {}
            if self._match(rule.pattern.cdr, form.cdr, binds, an, scope):
                out = _Expansion(self, an, form, rule.vars).build(rule.template, binds, dict(rule.vars))
                return out
        raise LispSyntaxError(f"{self.name}: no syntax-rules pattern matches "
                              f"{write(readable(form), MAX_SHOWN)}", form.loc)

    def _match(self, pat: Any, x: Any, binds: dict[Symbol, Any], an: Analyzer,
               scope: Scope | None) -> bool:
        t = type(pat)
        if t is Symbol:
            if pat in self.literals:
                return type(x) is Symbol and an.resolve(x, scope) == an.resolve(pat, self.scope)
            if strip(pat) is not UNDERSCORE:
                binds[pat] = x
            return True
        if t is Pair:
            return self._match_list(self._split(pat), x, binds, an, scope, False)
        if t is tuple:
            return type(x) is tuple and self._match_list(self._split(_list(pat)), _list(x), binds,
                                                         an, scope, True)
        return type(x) is t and x == pat

    def _match_list(self, shape: tuple, x: Any, binds: dict[Symbol, Any], an: Analyzer,
                    scope: Scope | None, vector: bool) -> bool:
        before, rep, after, tail = shape
        elems, rest = [], x
        while type(rest) is Pair:
            elems.append(rest.car)
            rest = rest.cdr
        budget.charge(len(elems) * NODE_STEPS)
        if len(elems) < len(before) + len(after):
            return False
        if rep is None:
            if tail is None and len(elems) != len(before):
                return False
            if tail is None and rest is not None:
                return False
            for p, e in zip(before, elems):
                if not self._match(p, e, binds, an, scope):
                    return False
            if tail is None:
                return True
            cell = x
            for _ in before:
                cell = cell.cdr
            return self._match(tail, cell, binds, an, scope)
        if tail is None and rest is not None:
            return False
        n_rep = len(elems) - len(before) - len(after)
        for p, e in zip(before, elems):
            if not self._match(p, e, binds, an, scope):
                return False
        subs = []
        for e in elems[len(before):len(before) + n_rep]:
            sub: dict[Symbol, Any] = {}
            if not self._match(rep, e, sub, an, scope):
                return False
            subs.append(sub)
        for v in self._pattern_names(rep):
            binds[v] = _Many(s[v] for s in subs)
        for p, e in zip(after, elems[len(before) + n_rep:]):
            if not self._match(p, e, binds, an, scope):
                return False
        return tail is None or self._match(tail, rest, binds, an, scope)

    def _pattern_names(self, pat: Any) -> list[Symbol]:
        out: dict[Symbol, int] = {}
        self._pattern_vars(pat, 0, out)
        return list(out)


class _Expansion:
    """One expansion of one use: its aliases and its budget."""

    def __init__(self, tr: SyntaxRules, an: Analyzer, form: Pair, pvars: dict[Symbol, int]) -> None:
        self.tr, self.an, self.form, self.pvars = tr, an, form, pvars
        self.loc = form.loc
        self.renames: dict[Symbol, Symbol] = {}
        self.made = 0

    def error(self, message: str) -> LispSyntaxError:
        return LispSyntaxError(f"{self.tr.name}: {message} in {write(readable(self.form), MAX_SHOWN)}",
                               self.loc)

    def pair(self, a: Any, b: Any) -> Pair:
        self.made += 1
        if self.made >= 256:        # an expansion may be huge: charged as it is built
            budget.charge(self.made * NODE_STEPS)
            budget.alloc(self.made * budget.PAIR_BYTES)
            self.made = 0
        return Pair(a, b, self.loc)

    def rename(self, sym: Symbol) -> Symbol:
        alias = self.renames.get(sym)
        if alias is None:
            alias = self.renames[sym] = new_alias(self.an, sym, self.tr.scope)
        return alias

    def build(self, t: Any, binds: dict[Symbol, Any], cur: dict[Symbol, int],
              mode: int = 0, escaped: bool = False) -> Any:
        """Template `t` filled in; `mode` 0: code, -1: quoted, n > 0: quasiquote depth."""
        tr = self.tr
        typ = type(t)
        if typ is Symbol:
            if t in binds and t in self.pvars:
                v = binds[t]
                if type(v) is _Many:
                    raise self.error(f"pattern variable {t.name} is used without its ellipsis")
                return v
            if mode != 0 or t in NO_RENAME or t is ELLIPSIS:
                return t
            return self.rename(t)
        if typ is tuple:
            return tuple(_items(self.build(_list(t), binds, cur, mode, escaped)))
        if typ is not Pair:
            return t
        if not escaped and tr._is_ellipsis(t.car):
            return self.build(t.cdr.car, binds, cur, mode, True)
        head = t.car
        if mode == 0 and head is QUOTE:
            return self.pair(self.rename(QUOTE), self.build(t.cdr, binds, cur, -1, escaped))
        if mode >= 0 and head is QUASI:
            return self.pair(QUASI, self.build(t.cdr, binds, cur, mode + 1, escaped))
        if mode > 0 and (head is UNQUOTE or head is SPLICE):
            return self.pair(head, self.build(t.cdr, binds, cur, mode - 1, escaped))
        out: list[Any] = []
        x = t
        while type(x) is Pair:
            k, nxt = (0, x.cdr) if escaped else tr._count_ellipses(x.cdr)
            if k:
                out += self.repeat(x.car, k, binds, cur, mode, escaped)
            else:
                out.append(self.build(x.car, binds, cur, mode, escaped))
            x = nxt
        result = self.build(x, binds, cur, mode, escaped)
        for e in reversed(out):
            result = self.pair(e, result)
        return result

    def repeat(self, sub: Any, k: int, binds: dict[Symbol, Any], cur: dict[Symbol, int],
               mode: int, escaped: bool) -> list[Any]:
        """`sub` followed by `k` ellipses: one copy per match of its repeating variables."""
        inner = self.tr._depths_of(sub)
        ctrl = [v for v, d in inner.items() if v in binds and v in self.pvars
                and type(binds[v]) is _Many and cur.get(v, 0) > d]
        if not ctrl:
            raise self.error("no pattern variable repeats under an ellipsis")
        sizes = {len(binds[v]) for v in ctrl}
        if len(sizes) > 1:
            names = ", ".join(v.name for v in ctrl)
            raise self.error(f"pattern variables {names} matched different numbers of forms")
        out: list[Any] = []
        for i in range(sizes.pop()):
            b2, c2 = dict(binds), dict(cur)
            for v in ctrl:
                b2[v] = binds[v][i]
                c2[v] = cur[v] - 1
            if k > 1:
                out += self.repeat(sub, k - 1, b2, c2, mode, escaped)
            else:
                out.append(self.build(sub, b2, c2, mode, escaped))
        budget.charge(len(out))
        return out


def _list(t: tuple) -> Any:
    out = None
    for e in reversed(t):
        out = Pair(e, out)
    return out


def _items(x: Any) -> list[Any]:
    out = []
    while type(x) is Pair:
        out.append(x.car)
        x = x.cdr
    return out


def syntax_rules_from_source(name: str, text: str) -> SyntaxRules:
    """A stored transformer rebuilt from the canonical text of its `syntax-rules` form."""
    from .reader import read
    if type(name) is not str or type(text) is not str:
        return SyntaxRules(str(name)[:80], None, broken="a stored macro is damaged")
    try:
        with budget.uncharged():
            spec = read(text)
        return SyntaxRules(name, spec)
    except (LispError, RecursionError) as e:    # a damaged image: the macro says so when used
        why = e.message if isinstance(e, LispError) else "nested too deeply"
        return SyntaxRules(name, None, broken=f"{name}: the stored macro cannot be rebuilt: {why}")


# ---------------------------------------------------------------- expansion

def expand_once(an: Analyzer, macro: Any, form: Pair, scope: Scope | None) -> Any:
    """One expansion of `form` by `macro` (a transformer or a defmacro procedure)."""
    if type(macro) is SyntaxRules:
        return macro.expand(an, form, scope)
    return an.env.expand(macro, form)


def expand(env: Any, form: Any, once: bool = False) -> Any:
    """`form` with its head macro use expanded (once, or until it is no macro use),
    aliases shown by their plain names: what `macroexpand` and `,expand` show."""
    an = Analyzer(env, metered=True)
    for _ in range(MAX_DEPTH):
        if type(form) is not Pair or type(form.car) is not Symbol:
            break
        _, head = an.resolve(form.car, None)
        macro = None if head in SPECIAL else an.macro(head)
        if macro is None:
            break
        form = expand_once(an, macro, form, None)
        if once:
            break
    else:
        raise LispSyntaxError(f"macroexpand: still a macro use after {MAX_DEPTH} expansions",
                              form.loc if type(form) is Pair else None)
    return readable(form)


def _env() -> Any:
    return budget.current().ns["_env"]


@primitive("macroexpand-1")
def macroexpand_1(form: Any) -> Any:
    """(macroexpand-1 'form) -> form with its head macro use expanded once."""
    return expand(_env(), form, once=True)


@primitive("macroexpand")
def macroexpand(form: Any) -> Any:
    """(macroexpand 'form) -> form expanded until its head is no macro use."""
    return expand(_env(), form)
