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
as a string constant, or as a module-level constant holding one.

uvicorn's protocol objects carry undocumented state under names without an
underscore (``cycle``, ``pipeline``, ``conn``, ``timeout_keep_alive_handler``...): only
their asyncio ``Protocol`` interface is public. So in the mocks (``mocks/carrier_mocks``,
the one package that runs uvicorn) two more things count:

- a class deriving from one of uvicorn's protocol classes (anything defined in
  ``uvicorn.protocols``), named in its bases or found in its MRO;
- an access, on an object not evidently ours, to a name uvicorn's HTTP protocol
  classes define (read from their source, so the list follows uvicorn's releases),
  less the names that are public elsewhere: asyncio's ``Protocol`` and ``Transport``
  interfaces, ASGI's scope and message keys, uvicorn's documented ``Config`` options,
  and the attributes of Starlette's requests and responses.

What remains is listed in ``ALLOWED``, each with its reason; an entry that no longer
matches fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import importlib
import inspect
import pkgutil
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("wrapper/carriers", "mocks/carrier_mocks", "contract_tests/carriers_contract", "tools")
OURS = frozenset({"carriers", "carrier_mocks", "carriers_contract", "tools", "bench"})
REFLECTION = frozenset({"getattr", "setattr", "hasattr", "delattr"})

ALLOWED: dict[tuple[str, str], str] = {}
"""(file, attribute) -> why it is still there."""


UVICORN_SOURCES = ("mocks/carrier_mocks",)
"""Where uvicorn runs, so where its protocol internals are looked for."""
UVICORN_PROTOCOLS = "uvicorn.protocols"
ASGI = frozenset(
    {
        *("type", "asgi", "http_version", "method", "scheme", "path", "raw_path"),
        *("query_string", "root_path", "headers", "client", "server", "state", "extensions"),
        *("app", "receive", "send", "status", "body", "more_body", "trailers"),
    }
)
"""ASGI's vocabulary: the app, its callables, the keys of HTTP scopes and messages."""


@functools.cache
def uvicorn_internals() -> frozenset[str]:
    """Names uvicorn's HTTP protocol classes define without an underscore, less public ones.

    Read from the source of every module of ``uvicorn.protocols.http`` that imports:
    the methods of its classes and what they assign to ``self``.
    """
    from starlette.requests import Request
    from starlette.responses import Response
    from uvicorn import Config

    package = importlib.import_module(f"{UVICORN_PROTOCOLS}.http")
    names: set[str] = set()
    for info in pkgutil.iter_modules(package.__path__):
        try:
            module = importlib.import_module(f"{package.__name__}.{info.name}")
        except ImportError:  # a protocol whose optional library is not installed
            continue
        for cls in ast.walk(ast.parse(inspect.getsource(module))):
            if not isinstance(cls, ast.ClassDef):
                continue
            for node in ast.walk(cls):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node in cls.body:
                    names.add(node.name)
                elif (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "self"
                    and isinstance(node.ctx, ast.Store)
                ):
                    names.add(node.attr)
    public = ASGI.union(
        dir(asyncio.Protocol),
        dir(asyncio.Transport),
        inspect.signature(Config).parameters,
        dir(Request({"type": "http", "headers": []})),
        dir(Response()),
    )
    return frozenset(name for name in names if not name.startswith("_") and name not in public)


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
    """The private accesses of one module on objects not evidently ours.

    Given ``internals`` (names of uvicorn's protocol state), it also finds accesses to
    those on objects not evidently ours, and classes deriving from uvicorn's protocols.
    """

    def __init__(self, tree: ast.Module, internals: frozenset[str] = frozenset()) -> None:
        self.own: set[str] = {"self", "cls"}
        self.classes: set[str] = set()
        self.constants: dict[str, str] = {}
        self.internals = internals
        self.uvicorn: set[str] = set()  # names bound to uvicorn's protocol modules or classes
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                self.classes.add(node.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level > 0 or (node.module or "").split(".")[0] in OURS:
                    self.own.update(alias.asname or alias.name for alias in node.names)
                if f"{node.module}.".startswith(f"{UVICORN_PROTOCOLS}.") or (
                    node.module == "uvicorn" and any(a.name == "protocols" for a in node.names)
                ):
                    self.uvicorn.update(alias.asname or alias.name for alias in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in OURS:
                        self.own.add(alias.asname or alias.name.split(".")[0])
                    if alias.asname and f"{alias.name}.".startswith(f"{UVICORN_PROTOCOLS}."):
                        self.uvicorn.add(alias.asname)
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
        self.internal: list[tuple[int, str]] = []
        """(line, what) of each use of uvicorn's protocol internals."""
        self.uvicorn_self = False  # in a class deriving from uvicorn's: ``self`` is theirs too

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

    def from_uvicorn(self, node: ast.expr) -> bool:
        """Whether ``node`` names something of ``uvicorn.protocols``."""
        dotted = ast.unparse(node)
        root = dotted.split(".")[0]
        return root in self.uvicorn or f"{dotted}.".startswith(f"{UVICORN_PROTOCOLS}.")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        outer = self.uvicorn_self
        for base in node.bases:
            if self.internals and self.from_uvicorn(base):
                self.internal.append((node.lineno, f"{node.name} derives from {ast.unparse(base)}"))
                self.uvicorn_self = True
        self.generic_visit(node)
        self.uvicorn_self = outer

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if private(node.attr) and not self.ours(node.value):
            self.found.append((node.lineno, node.attr))
        elif node.attr in self.internals and (
            not self.ours(node.value) or (self.uvicorn_self and ast.unparse(node.value) == "self")
        ):
            self.internal.append((node.lineno, node.attr))
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
            elif text is not None and text in self.internals and not self.ours(target):
                self.internal.append((node.lineno, text))
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


def uvicorn_protocol_uses() -> list[tuple[str, int, str]]:
    """(file, line, what) of every use of uvicorn's protocol internals in the mocks.

    Read from the source, and from the classes of each module once imported: a class
    whose MRO holds one of ``uvicorn.protocols`` counts however its bases are written.
    """
    internals = uvicorn_internals()
    found: list[tuple[str, int, str]] = []
    for source in UVICORN_SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"))
            finder = Finder(tree, internals)
            finder.visit(tree)
            found += [(relative, line, what) for line, what in finder.internal]
            if path.stem == "__main__":  # importing it would run it
                continue
            module = importlib.import_module(module_name(relative))
            for cls in vars(module).values():
                if not isinstance(cls, type) or cls.__module__ != module.__name__:
                    continue
                theirs = [
                    c for c in cls.__mro__ if f"{c.__module__}.".startswith(f"{UVICORN_PROTOCOLS}.")
                ]
                if theirs:
                    line = inspect.getsourcelines(cls)[1]
                    what = f"{cls.__name__} derives from {theirs[0].__qualname__}"
                    if (relative, line, what) not in found:
                        found.append((relative, line, what))
    return found


def every_access() -> list[tuple[str, int, str]]:
    return private_accesses() + inherited_privates() + uvicorn_protocol_uses()


def test_no_private_attribute_of_another_library_is_used() -> None:
    found = private_accesses() + inherited_privates()
    unexpected = [
        f"{file}:{line}: {attr}" for file, line, attr in found if (file, attr) not in ALLOWED
    ]
    assert not unexpected, "private attributes of objects not ours:\n" + "\n".join(unexpected)


def test_no_internal_of_uvicorn_protocols_is_used() -> None:
    found = uvicorn_protocol_uses()
    unexpected = [
        f"{file}:{line}: {what}" for file, line, what in found if (file, what) not in ALLOWED
    ]
    assert not unexpected, "uvicorn protocol internals:\n" + "\n".join(unexpected)


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


def test_uvicorn_protocol_internals_are_their_state_not_public_names() -> None:
    internals = uvicorn_internals()
    assert {
        "cycle",
        "pipeline",
        "conn",
        "parser",
        "flow",
        "timeout_keep_alive_handler",
        "send_400_response",
        "on_response_complete",
        "response_complete",
        "disconnected",
    } <= internals
    public = {"data_received", "write", "is_closing", "headers", "scope", "loop", "root_path"}
    assert not public & internals


OLD_MOCK_PROTOCOL = """
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http import httptools_impl

class DroppableH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self._send_error(400, "Invalid HTTP request")

class DroppableHttpToolsProtocol(httptools_impl.HttpToolsProtocol):
    def on_response_complete(self) -> None:
        if self._owed_error and not self.pipeline:
            super().on_response_complete()
            return
        self.timeout_keep_alive_handler()
"""
"""Abridged from the mocks' protocols before they wrapped uvicorn's (``_uvicorn.py``)."""


def test_the_uvicorn_rule_fails_the_old_subclassing_protocols() -> None:
    tree = ast.parse(OLD_MOCK_PROTOCOL)
    finder = Finder(tree, uvicorn_internals())
    finder.visit(tree)
    assert [what for _, what in finder.internal] == [
        "DroppableH11Protocol derives from H11Protocol",
        "cycle",
        "response_complete",
        "disconnected",
        "message_event",
        "conn",
        "DroppableHttpToolsProtocol derives from httptools_impl.HttpToolsProtocol",
        "pipeline",
        "on_response_complete",
        "timeout_keep_alive_handler",
    ]


def test_the_uvicorn_rule_counts_a_wrapper_reaching_in_and_nothing_else() -> None:
    source = """
import asyncio
from uvicorn.protocols.http.h11_impl import H11Protocol
from starlette.requests import Request

class Wrapper(asyncio.Protocol):
    def __init__(self, *args, **kwargs) -> None:
        self.inner = H11Protocol(*args, **kwargs)
        self.cycle = None                   # our own attribute of that name

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)
        self.inner.pipeline                 # counted
        getattr(self.inner, "conn")         # counted
        self.cycle

    async def app(self, request: Request, scope, receive, send) -> None:
        request.headers; request.scope; scope["client"]; self.inner.transport  # the last counted
        await send({"type": "http.response.start", "status": 200})
"""
    tree = ast.parse(source)
    finder = Finder(tree, uvicorn_internals())
    finder.visit(tree)
    assert [what for _, what in finder.internal] == ["pipeline", "conn", "transport"]
