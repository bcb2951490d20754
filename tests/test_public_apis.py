"""Our code uses other libraries through their public APIs only.

The sources of the packages (``wrapper/carriers``, ``mocks/carrier_mocks``,
``contract_tests/carriers_contract``, ``tools``) are read with ``ast``. An access to a
private attribute (a name starting with ``_`` that is not a ``__dunder__``) fails the
test unless the object is evidently our own:

- ``self`` and ``cls``;
- a name bound by an import from our own packages (``carriers``, ``carrier_mocks``,
  ``carriers_contract``, ``tools``, ``bench``, or a relative import): our modules and
  our classes;
- a class defined in the same module;
- a parameter annotated with, or a local variable assigned a call of, one of those
  classes (or ``object.__new__(type(self))``, a copy of ``self``).

``self._x`` in a class of ours that derives from another library's class counts too
when ``self._x`` appears in the source of that library's class (or a class it derives
from): our subclass then reads or writes the library's private state.

Everything else (``response._content``, ``getattr(client, "_x")``, ``super()._x``, a
generated client's ``_base_url``: the generated code is the generator's, not ours)
counts. So do ``getattr``/``setattr``/``hasattr``/``delattr`` with a private name given
as a string constant, or as a module-level constant holding one. What remains is
listed in ``ALLOWED``, each with its reason; an entry that no longer matches fails
too, so the list only shrinks.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("wrapper/carriers", "mocks/carrier_mocks", "contract_tests/carriers_contract", "tools")
OURS = frozenset({"carriers", "carrier_mocks", "carriers_contract", "tools", "bench"})
REFLECTION = frozenset({"getattr", "setattr", "hasattr", "delattr"})

ALLOWED: dict[tuple[str, str], str] = {}
"""(file, attribute) -> why it is still there."""


NAMEDTUPLE = frozenset({"_replace", "_asdict", "_fields", "_make", "_field_defaults"})
"""A named tuple's documented methods: underscored only to keep clear of field names."""


def private(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and not dunder and name not in NAMEDTUPLE


def annotation_name(node: ast.expr | None) -> str | None:
    """The class an annotation names; for a union (``A | B``) only when all name one."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return annotation_name(ast.parse(node.value, mode="eval").body)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = annotation_name(node.left), annotation_name(node.right)
        return left if left is not None and left == right else None
    return None


class Finder(ast.NodeVisitor):
    """The private accesses of one module on objects not evidently ours."""

    def __init__(self, tree: ast.Module) -> None:
        self.own: set[str] = {"self", "cls"}
        self.classes: set[str] = set()
        self.constants: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                self.classes.add(node.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level > 0 or (node.module or "").split(".")[0] in OURS:
                    self.own.update(alias.asname or alias.name for alias in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in OURS:
                        self.own.add(alias.asname or alias.name.split(".")[0])
        for statement in tree.body:
            if (
                isinstance(statement, ast.Assign)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        self.constants[target.id] = statement.value.value
        self.classes |= {name for name in self.own if name[:1].isupper()}
        self.scopes: list[set[str]] = [set()]
        self.found: list[tuple[int, str]] = []

    def ours(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.own or node.id in self.classes or node.id in self.scopes[-1]
        return False

    def constructs_ours(self, value: ast.expr) -> bool:
        """A call of one of our classes, or ``object.__new__(type(self))`` (a copy of self)."""
        if not isinstance(value, ast.Call):
            return False
        func = value.func
        if isinstance(func, ast.Name):
            return func.id in self.classes
        return (
            ast.unparse(func) == "object.__new__"
            and bool(value.args)
            and ast.unparse(value.args[0]) in ("type(self)", "cls")
        )

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        local = set(self.scopes[-1])
        arguments = node.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            if annotation_name(arg.annotation) in self.classes:
                local.add(arg.arg)
        for inner in ast.walk(node):
            if isinstance(inner, ast.Assign) and self.constructs_ours(inner.value):
                local.update(t.id for t in inner.targets if isinstance(t, ast.Name))
            elif (
                isinstance(inner, ast.AnnAssign)
                and isinstance(inner.target, ast.Name)
                and annotation_name(inner.annotation) in self.classes
            ):
                local.add(inner.target.id)
        self.scopes.append(local)
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if private(node.attr) and not self.ours(node.value):
            self.found.append((node.lineno, node.attr))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in REFLECTION and len(node.args) >= 2:
            target, name = node.args[0], node.args[1]
            text = None
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                text = name.value
            elif isinstance(name, ast.Name):
                text = self.constants.get(name.id)
            if text is not None and private(text) and not self.ours(target):
                self.found.append((node.lineno, text))
        self.generic_visit(node)


def private_accesses() -> list[tuple[str, int, str]]:
    """(file, line, attribute) of every access the rule counts, over all the sources."""
    found: list[tuple[str, int, str]] = []
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            finder = Finder(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            finder.visit(ast.parse(path.read_text(encoding="utf-8")))
            relative = path.relative_to(ROOT).as_posix()
            found += [(relative, line, attr) for line, attr in finder.found]
    return found


def module_name(relative: str) -> str:
    parts = Path(relative).with_suffix("").parts
    parts = parts[1:] if parts[0] in ("wrapper", "mocks", "contract_tests") else parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def inherited_privates() -> list[tuple[str, int, str]]:
    """``self._x`` in our subclasses of other libraries' classes, where ``_x`` is theirs."""
    found: list[tuple[str, int, str]] = []
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"))
            classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
            if not any(node.bases for node in classes):
                continue
            module = importlib.import_module(module_name(relative))
            for node in classes:
                cls = getattr(module, node.name, None)
                if not isinstance(cls, type):
                    continue
                theirs = [c for c in cls.__mro__ if c.__module__.split(".")[0] not in OURS]
                texts = []
                for base in theirs:
                    try:
                        texts.append(inspect.getsource(base))
                    except (OSError, TypeError):  # built-in: no source, no Python privates
                        continue
                text = "\n".join(texts)
                for inner in ast.walk(node):
                    if (
                        isinstance(inner, ast.Attribute)
                        and isinstance(inner.value, ast.Name)
                        and inner.value.id == "self"
                        and private(inner.attr)
                        and re.search(rf"\bself\.{re.escape(inner.attr)}\b", text)
                    ):
                        found.append((relative, inner.lineno, inner.attr))
    return found


def every_access() -> list[tuple[str, int, str]]:
    return private_accesses() + inherited_privates()


def test_no_private_attribute_of_another_library_is_used() -> None:
    found = every_access()
    unexpected = [
        f"{file}:{line}: {attr}" for file, line, attr in found if (file, attr) not in ALLOWED
    ]
    assert not unexpected, "private attributes of objects not ours:\n" + "\n".join(unexpected)


def test_the_allow_list_holds_only_what_remains() -> None:
    remaining = Counter((file, attr) for file, _, attr in every_access())
    stale = [entry for entry in ALLOWED if entry not in remaining]
    assert not stale, f"allowed but no longer used, remove from ALLOWED: {stale}"


def test_the_rule_counts_what_it_should_and_nothing_else() -> None:
    source = """
import httpx
import re
from carriers import _hooks
from . import _deadline
from .auth import Origin

NAME = "_private"

class Ours:
    def m(self, other: Ours, response: httpx.Response) -> None:
        self._a; Ours._b; _hooks._c; _deadline._d; other._e
        made = Origin(); made._f
        response._content            # counted
        re._compiler                 # counted
        super()._g                   # counted
        getattr(response, "_h")      # counted
        setattr(response, NAME, 1)   # counted
        getattr(self, "_i"); response.__dict__; response.content
"""
    finder = Finder(ast.parse(source))
    finder.visit(ast.parse(source))
    assert [attr for _, attr in finder.found] == ["_content", "_compiler", "_g", "_h", "_private"]
