"""What changed between two OpenAPI documents, operation by operation, and whom it breaks.

Every change carries a named rule (modelled on oasdiff's checks, with their ids
where oasdiff has one, e.g. ``request-parameter-became-required``), and every rule
says whether it breaks

- a **client**: code written for the old spec, talking to a server of the new one;
- a **server**: a server written for the old spec, measured against the new one
  (what it must add or stop doing to conform).

``$ref``s are followed (recursive schemas stop at the first repeat), so a change to
a shared component is reported at every operation that uses it.

Usage: ``python -m tools.changelog OLD NEW [--format text|markdown|json]
[--fail-on breaking|client|server|any] [--client OLD_PKG NEW_PKG]``, or ``--rules``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tools.vendor import HTTP_METHODS

Json = dict[str, Any]
PropPath = tuple[str, ...]
# Deeper than any real schema; bounds the walk of a pathological one.
MAX_DEPTH = 64


@dataclass(frozen=True)
class Rule:
    id: str
    client: bool  # breaks a client written for the old spec
    server: bool  # breaks a server written for the old spec
    summary: str


_RULES = [
    # operations
    Rule("endpoint-added", False, True, "a new operation"),
    Rule("api-removed-without-deprecation", True, False, "an operation removed, never deprecated"),
    Rule("api-removed-with-deprecation", True, False, "a deprecated operation removed"),
    Rule("endpoint-deprecated", False, False, "an operation marked deprecated"),
    Rule("endpoint-reactivated", False, False, "an operation no longer deprecated"),
    # parameters
    Rule("new-required-request-parameter", True, False, "a new required parameter"),
    Rule("new-optional-request-parameter", False, True, "a new optional parameter"),
    Rule("request-parameter-removed", True, False, "a parameter removed"),
    Rule("request-parameter-became-required", True, False, "a parameter made required"),
    Rule("request-parameter-became-optional", False, True, "a parameter made optional"),
    Rule("request-parameter-type-changed", True, True, "a parameter's type changed"),
    Rule("request-parameter-format-changed", True, True, "a parameter's format changed"),
    Rule("request-parameter-became-nullable", False, True, "a parameter accepts null"),
    Rule("request-parameter-became-not-nullable", True, False, "a parameter refuses null"),
    Rule("request-parameter-enum-value-added", False, True, "a parameter accepts a new value"),
    Rule("request-parameter-enum-value-removed", True, False, "a parameter refuses a value"),
    # request body
    Rule("added-required-request-body", True, False, "a new required request body"),
    Rule("added-optional-request-body", False, True, "a new optional request body"),
    Rule("request-body-removed", True, False, "the request body removed"),
    Rule("request-body-became-required", True, False, "the request body made required"),
    Rule("request-body-became-optional", False, True, "the request body made optional"),
    Rule("request-body-media-type-added", False, True, "a new request media type"),
    Rule("request-body-media-type-removed", True, False, "a request media type removed"),
    Rule("request-body-type-changed", True, True, "the request body's type changed"),
    Rule("new-required-request-property", True, False, "a new required request field"),
    Rule("new-optional-request-property", False, True, "a new optional request field"),
    Rule("request-property-removed", True, False, "a request field removed"),
    Rule("request-property-became-required", True, False, "a request field made required"),
    Rule("request-property-became-optional", False, True, "a request field made optional"),
    Rule("request-property-type-changed", True, True, "a request field's type changed"),
    Rule("request-property-format-changed", True, True, "a request field's format changed"),
    Rule("request-property-became-nullable", False, True, "a request field accepts null"),
    Rule("request-property-became-not-nullable", True, False, "a request field refuses null"),
    Rule("request-property-enum-value-added", False, True, "a request field accepts a new value"),
    Rule("request-property-enum-value-removed", True, False, "a request field refuses a value"),
    # responses
    Rule("response-success-status-added", True, False, "a new success status"),
    Rule("response-success-status-removed", False, True, "a success status removed"),
    Rule("response-non-success-status-added", False, False, "a new error status"),
    Rule("response-non-success-status-removed", False, False, "an error status removed"),
    Rule("response-media-type-added", True, False, "a new response media type"),
    Rule("response-media-type-removed", False, True, "a response media type removed"),
    Rule("response-body-type-changed", True, True, "the response body's type changed"),
    Rule("response-required-property-added", False, True, "a new field always in the response"),
    Rule("response-optional-property-added", False, False, "a new field sometimes in the response"),
    Rule("response-required-property-removed", True, False, "a field always sent is gone"),
    Rule("response-optional-property-removed", False, False, "a field sometimes sent is gone"),
    Rule("response-property-became-optional", True, False, "a response field may be missing"),
    Rule("response-property-became-required", False, True, "a response field is always sent"),
    Rule("response-property-type-changed", True, True, "a response field's type changed"),
    Rule("response-property-format-changed", True, True, "a response field's format changed"),
    Rule("response-property-became-nullable", True, False, "a response field may be null"),
    Rule("response-property-became-not-nullable", False, True, "a response field is never null"),
    Rule("response-property-enum-value-added", True, False, "a response field has a new value"),
    Rule("response-property-enum-value-removed", False, True, "a response field lost a value"),
    # security
    Rule("api-security-added", True, False, "an operation needs a security scheme"),
    Rule("api-security-removed", False, True, "an operation no longer needs a security scheme"),
    Rule("api-security-component-added", False, False, "a new security scheme"),
    Rule("api-security-component-removed", False, False, "a security scheme removed"),
    Rule("api-security-component-changed", True, True, "a security scheme's definition changed"),
]
RULES: Mapping[str, Rule] = {rule.id: rule for rule in _RULES}


@dataclass(frozen=True)
class Change:
    rule: str
    operation: str  # "GET /path", or "" for the document (security schemes)
    where: str  # "request body application/json: sender.phone", "query parameter limit", ...
    detail: str = ""

    @property
    def client_breaking(self) -> bool:
        return RULES[self.rule].client

    @property
    def server_breaking(self) -> bool:
        return RULES[self.rule].server


@dataclass
class Changelog:
    changes: list[Change] = field(default_factory=list)
    client: list[ClientChange] | None = None  # None: the generated client was not compared

    def breaking(self, side: str = "breaking") -> list[Change]:
        """The changes that break ``client``, ``server``, either (``breaking``) or ``any``."""
        if side not in FAIL_ON:
            raise ValueError(f"unknown kind of change {side!r}: one of {', '.join(FAIL_ON)}")
        client, server = side in ("client", "breaking"), side in ("server", "breaking")
        return [
            c
            for c in self.changes
            if side == "any" or (client and c.client_breaking) or (server and c.server_breaking)
        ]


@dataclass(frozen=True)
class ClientChange:
    """A change of the generated client package (see tools.generated_diff)."""

    kind: str  # module-added, model-removed, field-type-changed, ...
    name: str
    detail: str = ""


# --------------------------------------------------------------------------- reading


class _Doc:
    """A document and its local ``$ref``s, followed with a guard against cycles."""

    def __init__(self, spec: Json) -> None:
        self.spec = spec

    def deref(self, node: Any, seen: frozenset[str] = frozenset()) -> tuple[Any, frozenset[str]]:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                return None, seen
            seen = seen | {ref}
            target: Any = self.spec
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, dict) else None
            node = target
        return node, seen


@dataclass(frozen=True)
class Facts:
    """What a client or a server relies on at one place of a schema."""

    type: str
    format: str
    nullable: bool
    enum: tuple[str, ...] | None
    required: bool


def _type(schema: Json) -> tuple[str, bool]:
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind) if isinstance(kind, list) else []
    nullable = schema.get("nullable") is True or "null" in kinds
    kinds = sorted(str(k) for k in kinds if k != "null")
    if not kinds:
        if "properties" in schema or "additionalProperties" in schema:
            kinds = ["object"]
        elif "items" in schema:
            kinds = ["array"]
    return "|".join(kinds) or "any", nullable


def _names(value: Any) -> list[str]:
    """The strings of a 'required' list (anything else in it names nothing)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _merged(doc: _Doc, schema: Json, seen: frozenset[str], depth: int) -> Json:
    """The schema with its allOf parts folded in (properties, required, type)."""
    parts = schema.get("allOf")
    if not isinstance(parts, list) or depth > MAX_DEPTH:
        return schema
    out: Json = {k: v for k, v in schema.items() if k != "allOf"}
    props: Json = dict(_dict(out.get("properties")))
    required = _names(out.get("required"))
    for part in parts:
        node, inner = doc.deref(part, seen)
        if not isinstance(node, dict):
            continue
        node = _merged(doc, node, inner, depth + 1)
        props.update(_dict(node.get("properties")))
        required += [r for r in _names(node.get("required")) if r not in required]
        for key in ("type", "format", "nullable", "enum", "items", "additionalProperties"):
            if key in node and key not in out:
                out[key] = node[key]
    if props:
        out["properties"] = props
    if required:
        out["required"] = required
    return out


def flatten(spec: Json, schema: Any) -> dict[PropPath, Facts]:
    """Every place of a schema (properties, array items, map values, union branches)."""
    doc, out = _Doc(spec), {}

    def walk(node: Any, path: PropPath, required: bool, seen: frozenset[str]) -> None:
        ref = node.get("$ref") if isinstance(node, dict) else None
        if isinstance(ref, str) and ref in seen:  # a recursive schema: once is enough
            out[path] = Facts(f"ref {ref.rpartition('/')[2]}", "", False, None, required)
            return
        node, seen_now = doc.deref(node, seen)
        if not isinstance(node, dict):
            out[path] = Facts("any", "", False, None, required)
            return
        node = _merged(doc, node, seen_now, 0)
        kind, nullable = _type(node)
        enum = node.get("enum")
        values = (
            tuple(sorted(json.dumps(v, sort_keys=True) for v in enum))
            if isinstance(enum, list)
            else None
        )
        out[path] = Facts(kind, str(node.get("format") or ""), nullable, values, required)
        if len(path) > MAX_DEPTH:
            return
        names = set(_names(node.get("required")))
        props = node.get("properties")
        for name, sub in (props if isinstance(props, dict) else {}).items():
            walk(sub, (*path, str(name)), name in names, seen_now)
        if isinstance(node.get("items"), dict):
            walk(node["items"], (*path, "[]"), True, seen_now)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], (*path, "{*}"), False, seen_now)
        for key in ("oneOf", "anyOf"):
            branches = node.get(key)
            for i, sub in enumerate(branches if isinstance(branches, list) else []):
                walk(sub, (*path, f"<{key} {i + 1}>"), True, seen_now)

    walk(schema, (), True, frozenset())
    return out


def show_path(path: PropPath) -> str:
    text = ""
    for part in path:
        text += part if part == "[]" else f".{part}" if text else part
    return text or "(body)"


def _under(path: PropPath, roots: set[PropPath]) -> bool:
    return any(path[:i] in roots for i in range(len(path)))


def _schema_changes(
    side: str, old: dict[PropPath, Facts], new: dict[PropPath, Facts]
) -> Iterator[tuple[str, PropPath, str]]:
    """(rule, place, detail) for one schema; a change hides the changes beneath it.

    ``side`` is ``request`` or ``response`` (body fields) or ``parameter``.
    """
    noun = f"{side}-property" if side != "parameter" else "request-parameter"
    request = side != "response"
    gone: set[PropPath] = set()
    for path in sorted(old.keys() | new.keys()):
        if _under(path, gone):
            continue
        a, b = old.get(path), new.get(path)
        if a is None or b is None:
            gone.add(path)
            there = b or a
            assert there is not None
            if path[-1] in ("[]", "{*}") or path[-1].startswith("<"):
                what = {"[]": "items", "{*}": "map values"}.get(path[-1], path[-1].strip("<>"))
                yield (
                    f"{noun}-type-changed",
                    path[:-1],
                    f"{what} schema {'added' if a is None else 'removed'}",
                )
            elif request and a is None:
                how = "required" if there.required else "optional"
                yield f"new-{how}-{side}-property", path, there.type
            elif request:
                yield f"{side}-property-removed", path, ""
            else:
                how = "required" if there.required else "optional"
                yield f"response-{how}-property-{'added' if a is None else 'removed'}", path, ""
            continue
        if a.type != b.type:
            gone.add(path)
            rule = f"{noun}-type-changed"
            if not path and side != "parameter":
                rule = f"{side}-body-type-changed"
            yield rule, path, f"{a.type} -> {b.type}"
            continue
        if a.format != b.format:
            yield f"{noun}-format-changed", path, f"{a.format or '-'} -> {b.format or '-'}"
        if a.nullable != b.nullable:
            yield f"{noun}-became-{'nullable' if b.nullable else 'not-nullable'}", path, ""
        if path and a.required != b.required and side != "parameter":
            yield f"{noun}-became-{'required' if b.required else 'optional'}", path, ""
        if a.enum is not None or b.enum is not None:
            before, after = set(a.enum or ()), set(b.enum or ())
            if a.enum is None or b.enum is None:  # limited to a list now (fewer values) or no more
                yield (
                    f"{noun}-enum-value-{'removed' if a.enum is None else 'added'}",
                    path,
                    "now limited to an enum" if a.enum is None else "no longer limited to an enum",
                )
                continue
            for value in sorted(after - before):
                yield f"{noun}-enum-value-added", path, value
            for value in sorted(before - after):
                yield f"{noun}-enum-value-removed", path, value


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


Operation = tuple[Json, list[Any]]  # the operation, its path item's parameters


def _operations(spec: Json) -> dict[str, Operation]:
    """'METHOD /path' -> (operation, the path item's parameters)."""
    out: dict[str, Operation] = {}
    paths = spec.get("paths")
    for path, item in (paths if isinstance(paths, dict) else {}).items():
        if not isinstance(item, dict):
            continue
        shared = _list(item.get("parameters"))
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                out[f"{method.upper()} {path}"] = (item[method], shared)
    return out


def _parameters(doc: _Doc, op: Json, shared: list[Any]) -> dict[tuple[str, str], Json]:
    out: dict[tuple[str, str], Json] = {}
    own = _list(op.get("parameters"))
    for param in [*shared, *own]:  # the operation's own win
        node, _ = doc.deref(param)
        if isinstance(node, dict) and isinstance(node.get("name"), str):
            place, name = str(node.get("in")), node["name"]
            out[(place, name.lower() if place == "header" else name)] = node  # HTTP: any case
    return out


def _security(spec: Json, op: Json) -> set[str]:
    """The operation's requirement alternatives, each as 'A' or 'A + B' (empty: public)."""
    reqs = op.get("security", spec.get("security"))
    out = set()
    for req in reqs if isinstance(reqs, list) else []:
        if isinstance(req, dict):
            out.add(" + ".join(sorted(req)) or "(none)")
    return out


def _content(doc: _Doc, node: Any) -> dict[str, Any]:
    node, _ = doc.deref(node)
    content = node.get("content") if isinstance(node, dict) else None
    return content if isinstance(content, dict) else {}


def _schema(media: Any) -> Any:
    return media.get("schema") if isinstance(media, dict) else None


def _compare_operation(
    old: Json, new: Json, name: str, a: Operation, b: Operation
) -> Iterator[Change]:
    (op_a, shared_a), (op_b, shared_b) = a, b
    old_doc, new_doc = _Doc(old), _Doc(new)
    if bool(op_a.get("deprecated")) != bool(op_b.get("deprecated")):
        rule = "endpoint-deprecated" if op_b.get("deprecated") else "endpoint-reactivated"
        yield Change(rule, name, "operation")
    # parameters
    params_a = _parameters(old_doc, op_a, shared_a)
    params_b = _parameters(new_doc, op_b, shared_b)
    for key in sorted(params_a.keys() | params_b.keys()):
        where = f"{key[0]} parameter {key[1]}"
        pa, pb = params_a.get(key), params_b.get(key)
        if pa is None and pb is not None:
            how = "required" if pb.get("required") else "optional"
            yield Change(f"new-{how}-request-parameter", name, where)
            continue
        if pb is None:
            yield Change("request-parameter-removed", name, where)
            continue
        assert pa is not None
        if bool(pa.get("required")) != bool(pb.get("required")):
            how = "required" if pb.get("required") else "optional"
            yield Change(f"request-parameter-became-{how}", name, where)
        fa, fb = flatten(old, pa.get("schema")), flatten(new, pb.get("schema"))
        for rule, path, detail in _schema_changes("parameter", fa, fb):
            at = f"{where}: {show_path(path)}" if path else where
            if path and rule.startswith("request-parameter-"):
                rule = rule.replace("request-parameter-", "request-property-")
            yield Change(rule, name, at, detail)
    # request body
    body_a, _ = old_doc.deref(op_a.get("requestBody"))
    body_b, _ = new_doc.deref(op_b.get("requestBody"))
    if not isinstance(body_a, dict) and isinstance(body_b, dict):
        how = "required" if body_b.get("required") else "optional"
        yield Change(f"added-{how}-request-body", name, "request body")
    elif isinstance(body_a, dict) and not isinstance(body_b, dict):
        yield Change("request-body-removed", name, "request body")
    elif isinstance(body_a, dict) and isinstance(body_b, dict):
        if bool(body_a.get("required")) != bool(body_b.get("required")):
            how = "required" if body_b.get("required") else "optional"
            yield Change(f"request-body-became-{how}", name, "request body")
        yield from _compare_content(
            old, new, name, "request", "request body", _content(old_doc, body_a),
            _content(new_doc, body_b),
        )  # fmt: skip
    # responses
    resp_a, resp_b = _dict(op_a.get("responses")), _dict(op_b.get("responses"))
    for status in sorted(set(map(str, resp_a)) | set(map(str, resp_b))):
        success = "success" if status.startswith("2") else "non-success"
        ra = resp_a.get(status, resp_a.get(int(status)) if status.isdigit() else None)
        rb = resp_b.get(status, resp_b.get(int(status)) if status.isdigit() else None)
        if ra is None or rb is None:
            verb = "added" if ra is None else "removed"
            yield Change(f"response-{success}-status-{verb}", name, f"response {status}")
            continue
        yield from _compare_content(
            old, new, name, "response", f"response {status}", _content(old_doc, ra),
            _content(new_doc, rb),
        )  # fmt: skip
    # security
    sec_a, sec_b = _security(old, op_a), _security(new, op_b)
    if sec_a != sec_b:
        for req in sorted(sec_b - sec_a):
            yield Change("api-security-added", name, "security", req)
        for req in sorted(sec_a - sec_b):
            yield Change("api-security-removed", name, "security", req)


def _compare_content(
    old: Json,
    new: Json,
    name: str,
    side: str,
    where: str,
    a: dict[str, Any],
    b: dict[str, Any],
) -> Iterator[Change]:
    noun = "request-body" if side == "request" else "response"
    for media in sorted(a.keys() | b.keys()):
        if media not in a or media not in b:
            verb = "added" if media not in a else "removed"
            yield Change(f"{noun}-media-type-{verb}", name, f"{where} {media}")
            continue
        fa, fb = flatten(old, _schema(a[media])), flatten(new, _schema(b[media]))
        for rule, path, detail in _schema_changes(side, fa, fb):
            yield Change(rule, name, f"{where} {media}: {show_path(path)}", detail)


def _schemes(spec: Json) -> dict[str, Any]:
    components = spec.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    return schemes if isinstance(schemes, dict) else {}


def compare(old: Json, new: Json) -> list[Change]:
    """Every change from ``old`` to ``new``, operations in path order."""
    changes: list[Change] = []
    ops_a, ops_b = _operations(old), _operations(new)
    for name in sorted(ops_a.keys() | ops_b.keys(), key=_op_order):
        if name not in ops_a:
            changes.append(Change("endpoint-added", name, "operation"))
        elif name not in ops_b:
            deprecated = bool(ops_a[name][0].get("deprecated"))
            rule = f"api-removed-{'with' if deprecated else 'without'}-deprecation"
            changes.append(Change(rule, name, "operation"))
        else:
            changes.extend(_compare_operation(old, new, name, ops_a[name], ops_b[name]))
    schemes_a, schemes_b = _schemes(old), _schemes(new)
    for scheme in sorted(schemes_a.keys() | schemes_b.keys()):
        where = f"security scheme {scheme}"
        if scheme not in schemes_a:
            changes.append(Change("api-security-component-added", "", where))
        elif scheme not in schemes_b:
            changes.append(Change("api-security-component-removed", "", where))
        elif schemes_a[scheme] != schemes_b[scheme]:
            detail = f"{_scheme_text(schemes_a[scheme])} -> {_scheme_text(schemes_b[scheme])}"
            changes.append(Change("api-security-component-changed", "", where, detail))
    return changes


def _scheme_text(scheme: Any) -> str:
    if not isinstance(scheme, dict):
        return "?"
    parts = [str(scheme.get(k)) for k in ("type", "scheme", "in", "name") if scheme.get(k)]
    return " ".join(parts) or "?"


def _op_order(name: str) -> tuple[str, int]:
    method, _, path = name.partition(" ")
    order = HTTP_METHODS.index(method.lower()) if method.lower() in HTTP_METHODS else 99
    return path, order


# --------------------------------------------------------------------------- output


def _sides(change: Change) -> str:
    sides = [
        s
        for s, hit in (("client", change.client_breaking), ("server", change.server_breaking))
        if hit
    ]
    return " + ".join(sides) if sides else "-"


def _headline(log: Changelog) -> str:
    n = len(log.changes)
    if not n:
        return "API changelog: no change"
    return (
        f"API changelog: {n} change{'s' if n != 1 else ''}, "
        f"{len(log.breaking('client'))} breaking for a client, "
        f"{len(log.breaking('server'))} breaking for a server"
    )


def _grouped(changes: list[Change]) -> Iterator[tuple[str, list[Change]]]:
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.operation or "(document)", []).append(change)
    yield from groups.items()


def _line(change: Change) -> str:
    text = f"{change.where}"
    if change.detail:
        text += f" ({change.detail})"
    return text


def render_text(log: Changelog) -> str:
    lines = [_headline(log)]
    for operation, changes in _grouped(log.changes):
        lines += ["", operation]
        for c in changes:
            mark = "!" if c.client_breaking or c.server_breaking else " "
            lines.append(f"  {mark} {c.rule}: {_line(c)}  [breaking: {_sides(c)}]")
    if log.client == []:
        lines += ["", "Generated client: no change"]
    if log.client:
        lines += ["", f"Generated client: {len(log.client)} change(s)"]
        lines += [
            f"  {c.kind}: {c.name}" + (f" ({c.detail})" if c.detail else "") for c in log.client
        ]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(log: Changelog) -> str:
    lines = [f"## {_headline(log)}", ""]
    if log.changes:
        lines += [
            "| operation | change | rule | breaks a client | breaks a server |",
            "|---|---|---|---|---|",
        ]
        for c in log.changes:
            lines.append(
                f"| {_md(c.operation or '(document)')} | {_md(_line(c))} | `{c.rule}` "
                f"| {'**yes**' if c.client_breaking else 'no'} "
                f"| {'**yes**' if c.server_breaking else 'no'} |"
            )
    if log.client == []:
        lines += ["", "### Generated client", "", "No change."]
    if log.client:
        lines += ["", "### Generated client", "", "| change | name |", "|---|---|"]
        for cc in log.client:
            name = cc.name + (f" ({cc.detail})" if cc.detail else "")
            lines.append(f"| {cc.kind} | `{_md(name)}` |")
    return "\n".join(lines) + "\n"


def render_json(log: Changelog) -> str:
    doc = {
        "summary": {
            "changes": len(log.changes),
            "breaking_for_client": len(log.breaking("client")),
            "breaking_for_server": len(log.breaking("server")),
        },
        "changes": [
            {
                **asdict(c),
                "client_breaking": c.client_breaking,
                "server_breaking": c.server_breaking,
            }
            for c in log.changes
        ],
        "generated_client": None if log.client is None else [asdict(c) for c in log.client],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def rules_markdown() -> str:
    """Every rule and whom it breaks, as the Markdown table the README shows."""
    lines = ["| rule | the change | breaks a client | breaks a server |", "|---|---|---|---|"]
    for rule in _RULES:
        client, server = ("yes" if hit else "no" for hit in (rule.client, rule.server))
        lines.append(f"| `{rule.id}` | {rule.summary} | {client} | {server} |")
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}
FAIL_ON = ("breaking", "client", "server", "any")
# Exit status when --fail-on finds what it looks for (1 is a bad input).
EXIT_FOUND = 3


def load(path: Path) -> Json:
    """A JSON or YAML OpenAPI document; an empty file is an empty document (no API yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path.name}: cannot read: {exc.strerror}") from None
    if not text.strip():
        return {}
    try:
        doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{path.name}: not JSON or YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path.name} is not an OpenAPI document")
    return doc


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=sorted(RENDERERS), default="text", help="changelog output"
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help=f"exit {EXIT_FOUND} when a change of this kind is found "
        "(breaking: for a client or a server)",
    )


def report(log: Changelog, fmt: str, fail_on: str | None) -> int:
    """Print the changelog; the exit status that --fail-on asks for."""
    sys.stdout.write(RENDERERS[fmt](log))
    return EXIT_FOUND if fail_on and log.breaking(fail_on) else 0


def client_changes(spec: Path, package_dir: Path) -> list[ClientChange]:
    """The generated package ``package_dir`` against a fresh generation from ``spec``."""
    from tools import generate
    from tools.generated_diff import compare_packages

    with tempfile.TemporaryDirectory(prefix="carriers-changelog-") as scratch:
        fresh = generate.generate_into(package_dir.name, spec, Path(scratch))
        return compare_packages(package_dir, fresh)


def after_vendoring(
    old_text: str, out: Path, fmt: str, fail_on: str | None, client: Path | None
) -> int:
    """Print what the vendoring just written to ``out`` changed against ``old_text``."""
    old = json.loads(old_text) if old_text.strip() else {}
    log = Changelog(compare(old, load(out)))
    if client is not None:
        from tools.generate import GenerateError

        try:
            log.client = client_changes(out, client)
        except GenerateError as exc:
            print(f"changelog: the new spec does not generate: {exc}", file=sys.stderr)
            return 1
    return report(log, fmt, fail_on)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="changelog", description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, nargs="?", help="the committed spec (JSON or YAML)")
    parser.add_argument("new", type=Path, nargs="?", help="the new spec")
    parser.add_argument("--rules", action="store_true", help="print the rules and exit")
    parser.add_argument(
        "--client",
        nargs=2,
        type=Path,
        metavar=("OLD_PKG", "NEW_PKG"),
        help="also list the changes between two generated client packages",
    )
    add_output_options(parser)
    args = parser.parse_args(argv)
    if args.rules:
        sys.stdout.write(rules_markdown())
        return 0
    if args.old is None or args.new is None:
        parser.error("give the OLD and the NEW spec")
    try:
        old, new = load(args.old), load(args.new)
    except ValueError as exc:
        print(f"changelog: error: {exc}", file=sys.stderr)
        return 1
    log = Changelog(compare(old, new))
    if args.client:
        from tools.generated_diff import compare_packages

        log.client = compare_packages(*args.client)
    return report(log, args.format, args.fail_on)


if __name__ == "__main__":
    raise SystemExit(main())
