"""What changed between two generated client packages: modules, models, fields, calls.

Read with ``ast`` from the files, never imported, so a package generated into a
scratch directory (or an old one from git) can be compared without running it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from tools.changelog import ClientChange

# The endpoint functions every generated operation module defines; `sync` stands for all.
CALL = "sync"


@dataclass
class Module:
    """The public surface of one generated module."""

    classes: dict[str, dict[str, str]] = field(default_factory=dict)  # model -> field -> type
    literals: dict[str, set[str]] = field(default_factory=dict)  # enum alias -> values
    call: dict[str, str] | None = None  # argument -> annotation, for an endpoint module


def _text(node: ast.expr | None) -> str:
    return ast.unparse(node) if node is not None else ""


def _literal_values(node: ast.expr) -> set[str] | None:
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Literal"
    ):
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return {_text(e) for e in elts}
    return None


def read_module(path: Path) -> Module:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = Module()
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef) and not stmt.name.startswith("_"):
            module.classes[stmt.name] = {
                item.target.id: _text(item.annotation)
                for item in stmt.body
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
            }
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and (values := _literal_values(stmt.value)) is not None
        ):
            module.literals[stmt.targets[0].id] = values
        elif isinstance(stmt, ast.FunctionDef) and stmt.name == CALL:
            args = stmt.args
            module.call = {
                a.arg: _text(a.annotation)
                for a in [*args.args, *args.kwonlyargs]
                if a.arg != "client"
            }
    return module


def read_package(root: Path) -> dict[str, Module]:
    """Dotted module name (relative to the package) -> its surface."""
    return {
        ".".join(p.relative_to(root).with_suffix("").parts): read_module(p)
        for p in sorted(root.rglob("*.py"))
        if "__pycache__" not in p.parts
    }


def compare_packages(old_root: Path, new_root: Path) -> list[ClientChange]:
    """Modules, models, model fields, enum values and call arguments added or removed."""
    old, new = read_package(old_root), read_package(new_root)
    out: list[ClientChange] = []
    for name in sorted(old.keys() | new.keys()):
        if name not in old or name not in new:
            out.append(ClientChange(f"module-{'added' if name not in old else 'removed'}", name))
            continue
        out += _compare_module(name, old[name], new[name])
    return out


def _compare_module(name: str, a: Module, b: Module) -> list[ClientChange]:
    out: list[ClientChange] = []
    for cls in sorted(a.classes.keys() | b.classes.keys()):
        if cls not in a.classes or cls not in b.classes:
            verb = "added" if cls not in a.classes else "removed"
            out.append(ClientChange(f"model-{verb}", f"{name}.{cls}"))
            continue
        out += _compare_fields("field", f"{name}.{cls}", a.classes[cls], b.classes[cls])
    for alias in sorted(a.literals.keys() | b.literals.keys()):
        before, after = a.literals.get(alias, set()), b.literals.get(alias, set())
        out += [
            ClientChange("enum-value-added", f"{name}.{alias}", v) for v in sorted(after - before)
        ]
        out += [
            ClientChange("enum-value-removed", f"{name}.{alias}", v) for v in sorted(before - after)
        ]
    if a.call is not None and b.call is not None:
        out += _compare_fields("argument", f"{name}.{CALL}", a.call, b.call)
    return out


def _compare_fields(
    noun: str, owner: str, a: dict[str, str], b: dict[str, str]
) -> list[ClientChange]:
    out: list[ClientChange] = []
    for key in sorted(a.keys() | b.keys()):
        if key not in a:
            out.append(ClientChange(f"{noun}-added", f"{owner}.{key}", b[key]))
        elif key not in b:
            out.append(ClientChange(f"{noun}-removed", f"{owner}.{key}", a[key]))
        elif a[key] != b[key]:
            out.append(
                ClientChange(f"{noun}-type-changed", f"{owner}.{key}", f"{a[key]} -> {b[key]}")
            )
    return out
