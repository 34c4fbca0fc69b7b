"""A parser for the FHIRPath subset that SQL on FHIR v2 view definitions use.

The parser turns an expression into a small tree (`Node`); `expressions.py` compiles that tree into SQL. It knows
the whole FHIRPath grammar's precedence ladder so that unsupported constructs fail at compile time with a clear
message rather than being mis-read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class FhirPathError(ValueError):
    """An expression that cannot be parsed or compiled."""


@dataclass(frozen=True)
class Node:
    """One node of a parsed expression.

    kind is one of: literal (value: str/bool/number text, lit_type), this, var (value: name), member (value: name,
    children: [base or nothing]), call (value: function name, children: [base or nothing, *args]), index
    (children: [base, index]), op (value: operator, children: [left, right]), unary (value: '-', children: [x]),
    type (value: type name).
    """

    kind: str
    value: str = ""
    children: tuple[Node, ...] = field(default_factory=tuple)
    lit_type: str = ""


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>'(?:[^'\\]|\\.)*')
  | (?P<dt>@[0-9T:\-+.Z]*)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)
  | (?P<var>%[A-Za-z_][A-Za-z0-9_]*|\$this|\$index|\$total)
  | (?P<op><=|>=|!=|!~|[-+*/&|<>=~.,()\[\]{}])
    )""",
    re.VERBOSE,
)

# Binary operators from loosest to tightest binding, as in the FHIRPath grammar.
_LEVELS: tuple[tuple[str, ...], ...] = (
    ("implies",),
    ("or", "xor"),
    ("and",),
    ("in", "contains"),
    ("=", "~", "!=", "!~"),
    ("<", ">", "<=", ">="),
    ("|",),
    ("is", "as"),
    ("+", "-", "&"),
    ("*", "/", "div", "mod"),
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FhirPathError(f"cannot read FHIRPath at character {position}: {text!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise FhirPathError(f"expected {value or 'more'} in {self.text!r}")
        self.at += 1
        return token

    def parse(self) -> Node:
        node = self.binary(0)
        if self.peek() is not None:
            raise FhirPathError(f"unexpected {self.peek()} in {self.text!r}")
        return node

    def binary(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while (token := self.peek()) is not None and token[1] in _LEVELS[level] and token[0] in ("op", "id"):
            self.take()
            right = Node("type", self.type_name()) if token[1] in ("is", "as") else self.binary(level + 1)
            left = Node("op", token[1], (left, right))
        return left

    def type_name(self) -> str:
        name = self.take()[1].strip("`")
        while (token := self.peek()) is not None and token[1] == ".":
            self.take()
            name = name + "." + self.take()[1]
        return name

    def unary(self) -> Node:
        token = self.peek()
        if token is not None and token[1] in ("-", "+") and token[0] == "op":
            self.take()
            operand = self.unary()
            return operand if token[1] == "+" else Node("unary", "-", (operand,))
        return self.postfix(self.term())

    def postfix(self, node: Node) -> Node:
        while (token := self.peek()) is not None:
            if token[1] == ".":
                self.take()
                node = self.invocation(node)
            elif token[1] == "[":
                self.take()
                index = self.binary(0)
                self.take("]")
                node = Node("index", children=(node, index))
            else:
                break
        return node

    def invocation(self, base: Node | None) -> Node:
        kind, name = self.take()
        if kind != "id":
            raise FhirPathError(f"expected a name after '.' in {self.text!r}")
        name = name.strip("`")
        base_children: tuple[Node, ...] = () if base is None else (base,)
        if (token := self.peek()) is not None and token[1] == "(":
            self.take()
            args: list[Node] = []
            if self.peek() is not None and self.peek() != ("op", ")"):
                args.append(self.function_argument(name))
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.function_argument(name))
            self.take(")")
            return Node("call", name, (*base_children, *args), lit_type="base" if base else "")
        return Node("member", name, base_children)

    def function_argument(self, function: str) -> Node:
        if function in ("ofType", "is", "as", "getReferenceKey"):
            return Node("type", self.type_name())
        return self.binary(0)

    def term(self) -> Node:
        token = self.peek()
        if token is None:
            raise FhirPathError(f"unexpected end of {self.text!r}")
        kind, text = token
        if kind == "str":
            self.take()
            return Node("literal", _unquote(text[1:-1]), lit_type="string")
        if kind == "num":
            self.take()
            return Node("literal", text, lit_type="decimal" if "." in text else "integer")
        if kind == "dt":
            self.take()
            if len(text) < 2:
                raise FhirPathError(f"empty date literal in {self.text!r}")
            body = text[1:]
            return Node("literal", body.lstrip("T"), lit_type="time" if body.startswith("T") else "dateTime")
        if kind == "var":
            self.take()
            return Node("this") if text == "$this" else Node("var", text.lstrip("%$"))
        if text == "(":
            self.take()
            inner = self.binary(0)
            self.take(")")
            return inner
        if text == "{":
            self.take()
            self.take("}")
            return Node("literal", "", lit_type="empty")
        if kind == "id" and text in ("true", "false"):
            self.take()
            return Node("literal", text, lit_type="boolean")
        if kind == "id":
            return self.invocation(None)
        raise FhirPathError(f"unexpected {text!r} in {self.text!r}")


def _unquote(text: str) -> str:
    escapes = {"'": "'", '"': '"', "`": "`", "\\": "\\", "/": "/", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), text)


def parse(text: str) -> Node:
    """Parse one FHIRPath expression; FhirPathError if it is not well formed."""
    if not isinstance(text, str) or not text.strip():
        raise FhirPathError("a FHIRPath expression must be a non-empty string")
    return _Parser(text).parse()
