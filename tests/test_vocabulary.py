"""The trace's words are one vocabulary: the format's tables, roomsim.vocabulary and the code.

Record kinds, ``drop`` reasons and a ``relay``'s ``ignored`` values are
written as plain strings in several modules.  The rule: the set the code
writes, the set ``roomsim.vocabulary`` lists and the set
``docs/scenario-format.md`` documents are the same, so a kind or reason
added in one place and forgotten in another fails here.

The code is read with :mod:`ast`, not run, so a kind written only on a rare
path is found too.  What counts as "written":

* a kind: the second argument of a ``trace.record(t, kind, ...)`` call, or a
  string passed for the ``kind`` parameter of a helper that forwards it to
  ``record``; ``deliver`` also by ``add_deliveries`` (the batched path);
* a drop reason: the ``reason=`` of a ``record(..., "drop", ...)`` call,
  followed back through a local variable or a ``reason`` parameter to the
  strings the callers pass (the broker's ``on_missed`` callback is the
  adapter's ``missed``);
* an ``ignored`` value: a string assigned to a variable named ``ignored``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from roomsim import vocabulary

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "roomsim"
FORMAT = ROOT / "docs" / "scenario-format.md"
#: the modules that read traces rather than write them
READERS = {"analysis", "drawing", "exercises"}
#: a callback attribute -> the function it is set to (``on_missed=self.missed``)
CALLBACKS = {"on_missed": "missed"}


# -- the format's words ---------------------------------------------------------------


def documented_kinds(text: str) -> set[str]:
    """The first cells of the rows of every ``| kind | keys | meaning |`` table."""
    kinds: set[str] = set()
    in_table = False
    for line in text.splitlines():
        if line.startswith("| kind |"):
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        if in_table and not line.startswith("| ---"):
            first = line.split("|")[1]
            kinds |= set(re.findall(r"`([a-z_]+)`", first))
    return kinds


def documented_reasons(text: str) -> set[str]:
    """Every ``reason `x``` of the format, and the list of the accounting rule."""
    reasons = set(re.findall(r"reason `([^`]+)`", text))
    rule = re.search(r"or a\s+`drop` with a reason \(([^)]*)\)", text)
    assert rule is not None, "the accounting rule's list of reasons is missing"
    reasons |= set(re.findall(r"`([^`]+)`", rule.group(1)))
    return reasons


def documented_ignored(text: str) -> set[str]:
    """The values listed for ``ignored`` in the ``relay`` row."""
    row = next(line for line in text.splitlines() if line.startswith("| `relay` |"))
    listed = re.search(r"`ignored` \(([^)]*)\)", row)
    assert listed is not None
    return set(re.findall(r"`([^`]+)`", listed.group(1)))


# -- the code's words -----------------------------------------------------------------


def writer_modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if parts[0] in READERS or path.name == "vocabulary.py":
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


#: the vocabulary's words by constant name (``DROP`` -> ``"drop"``)
WORDS = {
    name: value
    for name, value in vars(vocabulary).items()
    if name.isupper() and isinstance(value, str)
}


def strings(node: ast.AST | None) -> set[str]:
    """The string constants an expression can evaluate to (through ``a if c else b``),
    a vocabulary constant (``DROP``, ``v.DROP``) counting as its word."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name) and node.id in WORDS:
        return {WORDS[node.id]}
    if isinstance(node, ast.Attribute) and node.attr in WORDS:
        return {WORDS[node.attr]}
    if isinstance(node, ast.IfExp):
        return strings(node.body) | strings(node.orelse)
    return set()


def call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def argument(call: ast.Call, func: ast.FunctionDef, name: str) -> ast.expr | None:
    """The expression a call passes for ``func``'s parameter ``name``."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    params = [a.arg for a in func.args.posonlyargs + func.args.args]
    if params and params[0] in ("self", "cls"):
        params = params[1:]
    index = params.index(name)
    return call.args[index] if index < len(call.args) else None


class Scan:
    """What the model's modules write, found by reading them."""

    def __init__(self) -> None:
        self.functions: dict[str, list[ast.FunctionDef]] = {}
        self.calls: list[tuple[ast.Call, ast.FunctionDef | None]] = []
        self.ignored: set[str] = set()
        for _, tree in writer_modules():
            self._visit(tree, None)

    def _visit(self, node: ast.AST, func: ast.FunctionDef | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef):
                self.functions.setdefault(child.name, []).append(child)
                self._visit(child, child)
                continue
            if isinstance(child, ast.Call):
                self.calls.append((child, func))
            if isinstance(child, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "ignored" for t in child.targets
            ):
                self.ignored |= strings(child.value)
            self._visit(child, func)

    def _values(
        self,
        expr: ast.expr | None,
        func: ast.FunctionDef | None,
        seen: frozenset[str] = frozenset(),
    ) -> set[str]:
        """The strings ``expr`` can be: a constant, a local assigned one, or a
        parameter, followed back to what every caller passes."""
        found = strings(expr)
        if not isinstance(expr, ast.Name) or func is None or func.name in seen:
            return found
        for node in ast.walk(func):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == expr.id for t in node.targets
            ):
                found |= strings(node.value)
        params = {a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs}
        if expr.id in params:
            names = {func.name} | {cb for cb, f in CALLBACKS.items() if f == func.name}
            for call, caller in self.calls:
                if call_name(call) in names:
                    found |= self._values(argument(call, func, expr.id), caller, seen | {func.name})
        return found

    def kinds(self) -> set[str]:
        found = set()
        for call, func in self.calls:
            name = call_name(call)
            if name == "record" and len(call.args) >= 2:
                found |= self._values(call.args[1], func)
            elif name == "add_deliveries":
                found.add("deliver")
            elif name == "drop" and call.args:  # the helper ``trace.drop(t, msg, reason)``
                found.add("drop")
        return found

    def drop_reasons(self) -> set[str]:
        found = set()
        for call, func in self.calls:
            if call_name(call) == "drop" and call.args:  # ``trace.drop(t, msg, reason, ...)``
                reason = next((kw.value for kw in call.keywords if kw.arg == "reason"), None)
                if reason is None:
                    assert len(call.args) >= 3, f"a drop without a reason at line {call.lineno}"
                    reason = call.args[2]
                found |= self._values(reason, func)
                continue
            if call_name(call) != "record" or len(call.args) < 2:
                continue
            if func is not None and func.name == "drop":  # the helper itself
                continue
            if "drop" not in self._values(call.args[1], func):
                continue
            reason = next((kw.value for kw in call.keywords if kw.arg == "reason"), None)
            assert reason is not None, f"a drop without a reason at line {call.lineno}"
            found |= self._values(reason, func)
        return found


SCAN = Scan()
TEXT = FORMAT.read_text(encoding="utf-8")


# -- the tests ------------------------------------------------------------------------


def test_the_vocabulary_has_no_repeats() -> None:
    """Each list names each word once."""
    for words in (vocabulary.KINDS, vocabulary.DROP_REASONS, vocabulary.IGNORED):
        assert len(set(words)) == len(words)


def test_the_format_documents_exactly_the_vocabulary() -> None:
    """docs/scenario-format.md's tables list every kind, reason and ignored value, no more."""
    assert documented_kinds(TEXT) == set(vocabulary.KINDS)
    assert documented_reasons(TEXT) == set(vocabulary.DROP_REASONS)
    assert documented_ignored(TEXT) == set(vocabulary.IGNORED)


def test_the_code_writes_exactly_the_vocabulary() -> None:
    """The strings the model's modules write are the vocabulary's."""
    assert SCAN.kinds() == set(vocabulary.KINDS)
    assert SCAN.drop_reasons() == set(vocabulary.DROP_REASONS)
    assert SCAN.ignored == set(vocabulary.IGNORED)


def test_the_scan_finds_a_new_kind_and_a_new_reason(tmp_path: Path) -> None:
    """The scan is not blind: a kind or reason written through a helper's
    parameter or a local variable is found."""
    source = """
class Node:
    def _note(self, kind, reason):
        self.trace.record(0, kind, reason=reason)

    def lost(self):
        why = "eaten" if self.x else "stolen"
        self.trace.record(0, "drop", msg="m", reason=why)
        self._note("drop", "late")
        self._note("surprise", reason="late too")
"""
    scan = Scan.__new__(Scan)
    scan.functions, scan.calls, scan.ignored = {}, [], set()
    scan._visit(ast.parse(source), None)
    assert scan.kinds() == {"drop", "surprise"}
    # a helper that records any kind counts every reason passed to it as a drop's
    assert scan.drop_reasons() == {"eaten", "stolen", "late", "late too"}


def literal_words(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, word) for each kind, drop reason or ``ignored`` value written as a bare
    string where a record is made: ``record(t, "x")``, ``drop(t, msg, "x")``,
    ``reason="x"`` and ``ignored = "x"``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = call_name(node)
            written = []
            if name == "record" and len(node.args) >= 2:
                written.append(node.args[1])
            if name == "drop" and len(node.args) >= 3:
                written.append(node.args[2])
            if name in ("record", "drop"):
                written += [kw.value for kw in node.keywords if kw.arg == "reason"]
            for expr in written:
                if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
                    yield node.lineno, expr.value
        elif (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "ignored" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            yield node.lineno, node.value.value


def test_the_model_writes_words_through_the_vocabulary() -> None:
    """A record's kind, a drop's reason and a relay's ``ignored`` are written with
    roomsim.vocabulary's constants, never as a bare string (a typo would be a new word)."""
    found = [
        (str(path.relative_to(ROOT)), line, word)
        for path, tree in writer_modules()
        for line, word in literal_words(tree)
    ]
    assert found == []


def test_the_literal_scan_finds_a_bare_word() -> None:
    """The scan is not blind: bare strings in each of the four places are found,
    constants are not."""
    source = """
def f(trace, t):
    trace.record(t, "drop", reason="loss")
    trace.drop(t, "m1", "volatile")
    trace.record(t, DROP, reason=LOSS)
    ignored = "own message"
"""
    assert sorted(literal_words(ast.parse(source))) == [
        (3, "drop"),
        (3, "loss"),
        (4, "volatile"),
        (6, "own message"),
    ]
