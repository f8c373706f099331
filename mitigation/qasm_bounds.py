"""What an OpenQASM 2 or 3 text costs, counted by one pass over its tokens before any parser builds it.

Gate definitions nest (`gate g2 a { g1 a; g1 a; }`), so a 1 KB file can expand to 2^100 gates; Qiskit builds
definitions lazily and the expansion happens later, inside the transpiler, where it hangs or fills memory. The
pass here multiplies each definition's body through (standard gates cost what they unroll to, `STANDARD_GATE_COSTS`),
multiplies for-loop bodies by their iteration counts and broadcasts over registers, and reads register sizes and
loop ranges in every integer syntax OpenQASM 3 has (`1_000`, `0x10`, `0o17`, `0b101`). What it cannot bound (a
register size or loop range that is not a constant, nesting deeper than `MAX_NESTING`) is refused, as is a gate
angle written as a constant that is not finite (`rx(1e999)`, `rx(pi/0)`, `rx(inf)`). Counts saturate at `CAP`.

`inline_includes` resolves `include` statements: `qelib1.inc` and `stdgates.inc` are left to the parsers (which
carry them), any other name must be a file beside the circuit (no absolute path, no `..`, no symbolic link
leading out of the folder), and its text replaces the statement, so the parsers never open a file themselves.
Errors name the include, never its content.

>>> from qec.mitigation.qasm_bounds import estimate
>>> estimate('OPENQASM 3.0; qubit[0x10] q; bit[1_0] c; gate g a { h a; h a; } for int i in [0:9] { g q; }')
QasmSize(qubits=16, bits=10, gates=320)
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from qec.errors import QecInputError

CAP = 10**30  # counts saturate here: 2^100 gates is as refused as 10^30, and big integers cost nothing
MAX_NESTING = 64  # blocks inside blocks
MAX_INCLUDE_DEPTH = 8
STANDARD_INCLUDES = ("qelib1.inc", "stdgates.inc")
# Gates of MITIQ_GATES each of these unrolls to (transpile(..., basis_gates=MITIQ_GATES); checked by a test).
STANDARD_GATE_COSTS = {
    "c3sqrtx": 55,
    "c3sx": 55,
    "c3x": 60,
    "c4x": 150,
    "ccx": 15,
    "ccz": 17,
    "ch": 7,
    "cp": 5,
    "cphase": 5,
    "crx": 6,
    "cry": 4,
    "crz": 4,
    "cs": 5,
    "csdg": 5,
    "cswap": 17,
    "csx": 7,
    "cu": 15,
    "cu1": 5,
    "cu3": 14,
    "cy": 3,
    "dcx": 2,
    "ecr": 4,
    "iswap": 6,
    "r": 5,
    "rc3x": 18,
    "rcccx": 18,
    "rccx": 9,
    "rxx": 7,
    "ryy": 7,
    "rzx": 5,
    "rzz": 3,
    "u": 5,
    "U": 5,
    "u2": 3,
    "u3": 5,
    "xx_minus_yy": 14,
    "xx_plus_yy": 14,
}
CONTROL_COST = 20  # gates per control qubit a `ctrl @` adds to each gate of the controlled definition
_CONSTANTS = {"pi": math.pi, "π": math.pi, "tau": math.tau, "τ": math.tau, "euler": math.e, "ℇ": math.e}
_NOT_FINITE = {"inf", "infinity", "nan"}
_TOKEN = re.compile(  # whitespace is skipped by findall; every other character is in some token
    r"""(?:"[^"\n]*"|'[^'\n]*'
    |0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+
    |(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?(?:ns|us|µs|ms|s|dt|im)?
    |[^\W\d]\w*|\$\d+
    |\*\*|->|==|!=|<=|>=|&&|\|\||<<|>>|\S)""",
    re.VERBOSE,
)
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_INCLUDE = re.compile(r"""\binclude\s*(?:"([^"\n]*)"|'([^'\n]*)')\s*;""")
_DECLARATIONS = {"qreg": "qubits", "creg": "bits", "qubit": "qubits", "bit": "bits"}
_SKIPPED = {
    "OPENQASM",
    "include",
    "const",
    "int",
    "uint",
    "float",
    "angle",
    "bool",
    "duration",
    "stretch",
    "complex",
    "array",
    "input",
    "output",
    "let",
    "extern",
    "defcalgrammar",
    "pragma",
    "return",
    "break",
    "continue",
    "end",
    "delay",
}


@dataclass(frozen=True)
class QasmSize:
    """Qubits and bits declared (physical qubits `$n` count n + 1), and gate applications once every gate
    definition, for-loop and register broadcast is expanded, each standard gate counted as what it unrolls to."""

    qubits: int
    bits: int
    gates: int


def strip_comments(text: str) -> str:
    """`text` without `//` and `/* */` comments, newlines kept (so line numbers stay)."""
    return _COMMENTS.sub(lambda match: "\n" * match.group().count("\n"), text)


def estimate(text: str) -> QasmSize:
    """The size of the OpenQASM 2 or 3 program `text` (comments allowed, includes already inlined), without
    building it; raises QecInputError for what it cannot bound and for constant angles that are not finite."""
    counter = _Counter(_TOKEN.findall(strip_comments(text)))
    gates = counter.block(depth=0, in_gate=False, top=True)
    qubits = min(counter.qubits + (counter.physical + 1 if counter.physical >= 0 else 0), CAP)
    return QasmSize(qubits=qubits, bits=min(counter.bits, CAP), gates=min(gates, CAP))


class _Counter:
    """A recursive-descent pass over tokens that keeps only costs: gate definitions, registers, loops."""

    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.at = 0
        self.gates: dict[str, int] = {}
        self.registers: dict[str, int] = {}
        self.qubits = 0
        self.bits = 0
        self.physical = -1

    def peek(self, ahead: int = 0) -> str:
        index = self.at + ahead
        return self.tokens[index] if index < len(self.tokens) else ""

    def take(self) -> str:
        value = self.peek()
        self.at += 1
        return value

    def block(self, *, depth: int, in_gate: bool, top: bool = False) -> int:
        """Statements until the matching `}` (consumed) or the end; their summed cost."""
        if depth > MAX_NESTING:
            raise QecInputError(f"the circuit nests blocks more than {MAX_NESTING} deep: flatten it")
        cost = 0
        while self.at < len(self.tokens):
            if self.peek() == "}":
                self.at += 1
                if top:
                    continue  # a stray brace: the parser reports it
                return cost
            cost = min(cost + self.statement(depth=depth, in_gate=in_gate), CAP)
        return cost

    def body(self, *, depth: int, in_gate: bool) -> int:
        """A braced block, or one statement (OpenQASM 3 allows `for ... in [0:3] x q[i];`)."""
        if self.peek() == "{":
            self.at += 1
            return self.block(depth=depth + 1, in_gate=in_gate)
        return self.statement(depth=depth + 1, in_gate=in_gate)

    def skip_group(self) -> list[str]:
        """The tokens inside the bracket pair starting here ((), [] or {}), consumed."""
        opening = self.take()
        closing = {"(": ")", "[": "]", "{": "}"}[opening]
        level, inside = 1, list[str]()
        while self.at < len(self.tokens):
            value = self.take()
            if value == opening:
                level += 1
            elif value == closing:
                level -= 1
                if level == 0:
                    return inside
            inside.append(value)
        return inside

    def rest_of_statement(self) -> list[str]:
        """Tokens up to `;` (consumed) at bracket level 0; a braced group ends the statement too."""
        tokens, start, level = self.tokens, self.at, 0
        for index in range(start, len(tokens)):
            value = tokens[index]
            if level == 0 and value in (";", "}"):
                self.at = index + 1 if value == ";" else index
                return tokens[start:index]
            if value in ("(", "[", "{"):
                level += 1
            elif value in (")", "]", "}"):
                level = max(level - 1, 0)
                if level == 0 and value == "}":
                    self.at = index + 1
                    return tokens[start : index + 1]
        self.at = len(tokens)
        return tokens[start:]

    def statement(self, *, depth: int, in_gate: bool) -> int:
        if depth > MAX_NESTING:
            raise QecInputError(f"the circuit nests blocks more than {MAX_NESTING} deep: flatten it")
        word = self.peek()
        if word == ";":
            self.at += 1
            return 0
        if word == "{":
            self.at += 1
            return self.block(depth=depth + 1, in_gate=in_gate)
        if word in ("gate", "def", "opaque"):
            self.at += 1
            name = self.take()
            while self.at < len(self.tokens) and self.peek() not in ("{", ";"):
                self.skip_group() if self.peek() in ("(", "[") else self.take()
            if self.take() == "{":
                self.gates[name] = self.block(depth=depth + 1, in_gate=True)
            else:
                self.gates[name] = 1  # opaque
            return 0
        if word == "for":
            self.at += 1
            return min(self.loop_iterations() * self.body(depth=depth, in_gate=in_gate), CAP)
        if word in ("while", "if", "switch"):
            self.at += 1
            if self.peek() == "(":
                self.skip_group()
            cost = self.body(depth=depth, in_gate=in_gate)
            if word == "if" and self.peek() == "else":
                self.at += 1
                cost += self.body(depth=depth, in_gate=in_gate)
            return cost
        if word in ("else", "box", "case", "default", "cal", "defcal"):
            self.at += 1
            while self.at < len(self.tokens) and self.peek() not in ("{", ";"):
                self.skip_group() if self.peek() in ("(", "[") else self.take()
            return self.body(depth=depth, in_gate=in_gate) if self.peek() == "{" else len(self.rest_of_statement())
        if word in _DECLARATIONS:
            self.declaration()
            return 0
        if word in _SKIPPED:
            self.rest_of_statement()
            return 0
        return self.application(in_gate=in_gate)

    def declaration(self) -> None:
        """`qreg q[N];`, `creg c[N];`, `qubit[N] q;`, `qubit q;`, `bit[N] c = ...;`: sizes counted."""
        keyword = self.take()
        tokens = self.rest_of_statement()
        if keyword in ("qreg", "creg"):
            name = tokens[0] if tokens else ""
            size_tokens = tokens[2:-1] if len(tokens) >= 4 and tokens[1] == "[" and tokens[-1] == "]" else None
        else:
            if tokens and tokens[0] == "[":
                end = _closing(tokens, 0)
                size_tokens, rest = tokens[1:end], tokens[end + 1 :]
            else:
                size_tokens, rest = ["1"], tokens
            name = rest[0] if rest else ""
        size: int | float | None = 1
        if size_tokens is not None:
            size = _constant(size_tokens, integer=True)
            if not isinstance(size, int):
                shown = " ".join(size_tokens)[:40]
                raise QecInputError(
                    f"register {name!r} has size {shown!r}, which is not an integer constant: write its size as a "
                    "number"
                )
            if size < 0:
                raise QecInputError(f"register {name!r} has size {size}: give a size of 0 or more")
        assert isinstance(size, int)
        self.registers[name] = size
        if _DECLARATIONS[keyword] == "qubits":
            self.qubits = min(self.qubits + size, CAP)
        else:
            self.bits = min(self.bits + size, CAP)

    def loop_iterations(self) -> int:
        """`[type] name in [a:b]`, `[a:s:b]` (inclusive ends), `{v, ...}` or a register: the iteration count."""
        while self.at < len(self.tokens) and self.peek() != "in":
            self.skip_group() if self.peek() in ("(", "[") else self.take()
        self.at += 1
        if self.peek() == "{":
            values = self.skip_group()
            return _count_items(values)
        if self.peek() == "[":
            parts = _split(self.skip_group(), ":")
            numbers = [
                number for number in (_constant(part, integer=True) for part in parts) if isinstance(number, int)
            ]
            if len(parts) not in (2, 3) or len(numbers) != len(parts):
                raise QecInputError(
                    "a for-loop's range is not written with integer constants ([start:stop] or [start:step:stop]): "
                    "write its bounds as numbers"
                )
            start, stop = numbers[0], numbers[-1]
            step = numbers[1] if len(numbers) == 3 else 1
            if step == 0:
                raise QecInputError("a for-loop's range has step 0: give a nonzero step")
            return max(0, (stop - start) // step + 1)
        name = self.take()
        if name in self.registers:
            return self.registers[name]
        raise QecInputError(f"a for-loop runs over {name!r}, whose size is not known: loop over a range [a:b]")

    def application(self, *, in_gate: bool) -> int:
        """A gate call with modifiers, a measurement, reset, barrier or assignment: its expanded cost."""
        multiplier, power = 1, False
        while self.peek(1) == "@" or (self.peek() in ("ctrl", "negctrl", "pow", "inv") and self.peek(1) == "("):
            modifier = self.take()
            argument = self.skip_group() if self.peek() == "(" else []
            self.at += 1  # "@"
            if modifier in ("ctrl", "negctrl"):
                controls = _constant(argument, integer=True) if argument else 1
                multiplier = min(multiplier * CONTROL_COST * (controls if isinstance(controls, int) else CAP), CAP)
            elif modifier == "pow":
                power = True
        name = self.take()
        tokens = self.rest_of_statement()
        if tokens[:1] == ["("]:
            end = _closing(tokens, 0)
            for angle in _split(tokens[1:end], ","):
                _check_angle(name, angle)
            operands = tokens[end + 1 :]
        else:
            operands = tokens
        if name.startswith("$"):
            self.physical = max(self.physical, _integer(name[1:]))
        for value in operands:
            if value.startswith("$"):
                self.physical = max(self.physical, _integer(value[1:]))
        if "=" in operands or name in ("measure", "reset", "barrier") or "->" in operands:
            return 1 if in_gate else self.broadcast(operands)
        cost = self.gates.get(name, STANDARD_GATE_COSTS.get(name, 1))
        if power:
            cost = 4 ** min(_count_items(operands), 60)  # `pow(k) @` builds the matrix: a 2^n x 2^n unitary
        return min(cost * multiplier * (1 if in_gate else self.broadcast(operands)), CAP)

    def broadcast(self, operands: list[str]) -> int:
        """How many times a statement applies: the largest register named whole (or sliced) among its operands."""
        largest = 1
        for index, value in enumerate(operands):
            if value in self.registers:
                indexed = index + 1 < len(operands) and operands[index + 1] == "["
                if not indexed or ":" in operands[index + 1 : _closing(operands, index + 1)]:
                    largest = max(largest, self.registers[value])
        return largest


def _closing(tokens: list[str], start: int) -> int:
    """The index of the bracket closing the one at `start` (or the last index)."""
    opening = tokens[start]
    closing = {"(": ")", "[": "]", "{": "}"}[opening]
    level = 0
    for index in range(start, len(tokens)):
        level += (tokens[index] == opening) - (tokens[index] == closing)
        if level == 0:
            return index
    return len(tokens) - 1


def _split(tokens: list[str], separator: str) -> list[list[str]]:
    """`tokens` split at `separator` outside brackets."""
    parts: list[list[str]] = [[]]
    level = 0
    for value in tokens:
        if value in ("(", "[", "{"):
            level += 1
        elif value in (")", "]", "}"):
            level -= 1
        if value == separator and level == 0:
            parts.append([])
        else:
            parts[-1].append(value)
    return parts


def _count_items(tokens: list[str]) -> int:
    return len([part for part in _split(tokens, ",") if part])


def _integer(digits: str) -> int:
    """An OpenQASM 3 integer literal (decimal, 0x, 0o, 0b; underscores allowed); saturates at CAP."""
    text = digits.replace("_", "").lower()
    base = {"0x": 16, "0o": 8, "0b": 2}.get(text[:2], 10)
    body = text[2:] if base != 10 else text
    if not body or len(body) > 120:
        return CAP if body else 0
    return min(int(body, base), CAP)


def _constant(tokens: list[str], *, integer: bool) -> int | float | None:
    """The value of a constant expression (numbers, pi/tau/euler, + - * / % ** ^, parentheses), or None when it
    holds anything else. Integers saturate at CAP; a float that overflows is inf, a division by zero nan."""
    parser = _Expression(tokens, integer=integer)
    try:
        value = parser.sum()
    except _NotConstant:
        return None
    return value if parser.at == len(tokens) else None


class _NotConstant(Exception):
    pass


class _Expression:
    """Precedence climbing over constant tokens; never evaluates names other than the known constants."""

    def __init__(self, tokens: list[str], *, integer: bool):
        self.tokens, self.at, self.integer = tokens, 0, integer

    def peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def sum(self) -> int | float:
        value = self.product()
        while self.peek() in ("+", "-"):
            sign = self.tokens[self.at]
            self.at += 1
            other = self.product()
            value = value + other if sign == "+" else value - other
            value = _saturate(value)
        return value

    def product(self) -> int | float:
        value = self.power()
        while self.peek() in ("*", "/", "%"):
            operator = self.tokens[self.at]
            self.at += 1
            other = self.power()
            if operator == "*":
                value = _saturate(value * other)
            elif other == 0:
                value = math.nan  # pi/0: refused as not finite
            elif operator == "%":
                value = value % other
            else:
                value = (
                    value // other
                    if self.integer and isinstance(value, int) and isinstance(other, int)
                    else value / other
                )
        return value

    def power(self) -> int | float:
        base = self.unary()
        if self.peek() in ("**", "^"):
            self.at += 1
            exponent = self.power()
            try:
                if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
                    return CAP if abs(base) > 1 and exponent > 100 else _saturate(base**exponent)
                return float(base) ** float(exponent)
            except (OverflowError, ZeroDivisionError):
                return math.inf
        return base

    def unary(self) -> int | float:
        if self.peek() in ("-", "+"):
            sign = self.tokens[self.at]
            self.at += 1
            value = self.unary()
            return -value if sign == "-" else value
        if self.peek() == "(":
            self.at += 1
            value = self.sum()
            if self.peek() != ")":
                raise _NotConstant
            self.at += 1
            return value
        token = self.peek()
        self.at += 1
        if token in _CONSTANTS and not self.integer:
            return _CONSTANTS[token]
        if token.lower() in _NOT_FINITE and not self.integer:
            return math.nan
        if token[:1].isdigit() or token[:1] == ".":
            plain = token.replace("_", "")
            if re.fullmatch(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|\d+", plain):
                return _integer(token)
            if self.integer or not re.fullmatch(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", plain):
                raise _NotConstant  # a float where an integer belongs, or a duration/imaginary literal
            return float(plain)
        raise _NotConstant


def _saturate(value: int | float) -> int | float:
    if isinstance(value, int):
        return max(min(value, CAP), -CAP)
    return value


def _check_angle(gate: str, tokens: list[str]) -> None:
    """Refuses a constant gate angle that is not finite, naming the gate; leaves symbolic ones to the parser."""
    value = _constant(tokens, integer=False)
    if value is not None and not math.isfinite(value):
        shown = " ".join(tokens)[:40]
        raise QecInputError(
            f"gate {gate!r} has the angle {shown!r}, which is not a finite number (an overflow, inf, nan or a "
            "division by zero): give finite angles"
        )


def inline_includes(text: str, *, folder: Path, budget: int, depth: int = 0) -> tuple[str, list[str]]:
    """`text` (comments stripped) with each non-standard `include "NAME";` replaced by the file NAME beside the
    circuit in `folder`, recursively; returns the text and the names inlined. At most `budget` bytes are read in
    all; refused (QecInputError naming the include, never its content): absolute paths, `..`, a path leading out
    of `folder` (symbolic links included), a file that is missing, not regular, not UTF-8 or over the budget."""
    inlined: list[str] = []
    parts: list[str] = []
    position = 0
    text = strip_comments(text)
    for match in _INCLUDE.finditer(text):
        name = match[1] if match[1] is not None else match[2]
        if name in STANDARD_INCLUDES:
            continue
        if depth >= MAX_INCLUDE_DEPTH:
            raise QecInputError(f"includes nest more than {MAX_INCLUDE_DEPTH} deep (at {name!r}): flatten them")
        data = _read_include(name, folder=folder, budget=budget)
        budget -= len(data)
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError:
            raise QecInputError(f"the included file {name!r} is not UTF-8 text: give an OpenQASM text file") from None
        content, nested = inline_includes(content, folder=folder, budget=budget, depth=depth + 1)
        budget -= sum(len(part) for part in nested)
        parts += [text[position : match.start()], content]
        position = match.end()
        inlined += [name, *nested]
    parts.append(text[position:])
    return "".join(parts), inlined


def _read_include(name: str, *, folder: Path, budget: int) -> bytes:
    fix = f"include only {' or '.join(STANDARD_INCLUDES)}, or a file in the circuit's folder by its relative name"
    relative = Path(name)
    if not name or "\x00" in name or relative.is_absolute() or ".." in relative.parts or name.startswith("~"):
        raise QecInputError(f"the include {name!r} is outside the circuit's folder: {fix}")
    root = folder.resolve()
    target = (root / relative).resolve()
    if root not in target.parents:
        raise QecInputError(f"the include {name!r} leads outside the circuit's folder (a symbolic link): {fix}")
    try:
        status = os.stat(target)
    except OSError:
        raise QecInputError(f"the include {name!r} does not exist beside the circuit: {fix}") from None
    if not stat.S_ISREG(status.st_mode):
        raise QecInputError(f"the include {name!r} is not a regular file: {fix}")
    if status.st_size > budget:
        raise QecInputError(
            f"the include {name!r} has {status.st_size:,} bytes, over the {budget:,} left of the circuit's size "
            "limit: give a smaller file"
        )
    try:
        with open(target, "rb") as handle:
            return handle.read(budget + 1)[:budget]
    except OSError as error:
        raise QecInputError(f"cannot read the include {name!r}: {error.strerror or 'unreadable'}") from None
