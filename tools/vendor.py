"""Vendor the Nova Post OpenAPI spec from its published docs pages.

The docs portal publishes the API as Markdown pages, each operation followed by a
fenced ``json`` block that holds a self-contained OpenAPI 3.0 fragment. This tool
extracts every block of every page, merges them into one document, applies a short
list of named fixes (each with a one-line reason), validates the result and only
then writes it. Same input, same bytes.

Usage: ``python -m tools.vendor [--pages DIR] [--out FILE]``
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import math
import os
import re
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing.exceptions import Unresolvable

from tools import evidence

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PAGES = ROOT / "specs" / "novapost" / "pages"
DEFAULT_OUT = ROOT / "specs" / "novapost" / "openapi.json"

Json = dict[str, Any]
Loc = tuple[str, ...]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
# Deep enough for any real fragment, shallow enough for every recursive step after it.
MAX_DEPTH = 100


class VendorError(Exception):
    """Bad input: the message names the file and the line or component at fault.

    Always one line, whatever names (of paths, properties) the input put in it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@dataclass(frozen=True)
class Fragment:
    page: str
    line: int
    doc: Json

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


# --------------------------------------------------------------------------- extract


def extract_json_blocks(path: Path, display: str) -> Iterator[tuple[int, str]]:
    """Yield (line number of the block's first content line, block text) per json fence."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise VendorError(f"{display}: not UTF-8 text (byte {exc.start})") from None
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").lower()
        start = i + 1
        j = start
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        if j == len(lines):
            raise VendorError(f"{display}:{i + 1}: code fence is never closed")
        if info == "json":
            yield start + 1, "\n".join(lines[start:j])
        i = j + 1


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _depth(doc: Any) -> int:
    """Nesting depth, without recursion (the input may be arbitrarily deep)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_block(text: str, where: str, line: int) -> Any:
    """JSON that every later step can handle: finite numbers, UTF-8 strings, bounded depth."""
    try:
        doc = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise VendorError(
            f"{where}:{line + exc.lineno - 1}: malformed JSON block: {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise VendorError(f"{where}:{line}: malformed JSON block: {exc}") from None
    if _depth(doc) > MAX_DEPTH:
        raise VendorError(f"{where}:{line}: JSON block is nested more than {MAX_DEPTH} levels deep")
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise VendorError(f"{where}:{line}: JSON block has a lone surrogate escape") from None
    return doc


def _pages(pages_dirs: tuple[Path, ...]) -> list[Path]:
    """Every ``*.md`` page of the directories, in name order across them all."""
    by_name: dict[str, Path] = {}
    for pages_dir in pages_dirs:
        for page in pages_dir.glob("*.md"):
            if not page.is_file():
                continue
            if page.name in by_name:
                raise VendorError(
                    f"{page.name}: in both {by_name[page.name].parent} and {pages_dir}"
                )
            by_name[page.name] = page
    if not by_name:
        shown = ", ".join(str(d) for d in pages_dirs)
        raise VendorError(f"{shown}: no docs pages (*.md) to vendor")
    return [by_name[name] for name in sorted(by_name)]


def read_fragments(*pages_dirs: Path) -> list[Fragment]:
    fragments: list[Fragment] = []
    for page in _pages(pages_dirs):
        display = page.name
        found = 0
        for line, text in extract_json_blocks(page, display):
            found += 1
            doc = parse_block(text, display, line)
            if not isinstance(doc, dict) or not ("paths" in doc or "components" in doc):
                raise VendorError(
                    f"{display}:{line}: JSON block is not an OpenAPI fragment "
                    "(no 'paths' or 'components')"
                )
            fragments.append(Fragment(display, line, doc))
        if not found:
            raise VendorError(f"{display}: page has no ```json block with an OpenAPI fragment")
    return fragments


# --------------------------------------------------------------------------- merge


Origins = dict[Loc, str]
JSON_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return JSON_TYPE_NAMES.get(type(value), "a number")


def _expect(value: Any, kind: type, where: str, what: str) -> Any:
    if not isinstance(value, kind):
        raise VendorError(
            f"{where}: {what} must be {JSON_TYPE_NAMES[kind]}, not {_type_name(value)}"
        )
    return value


def _section(doc: Json, key: str, kind: type, where: str) -> Any:
    """A top-level member of a fragment, checked before merge iterates it; absent is empty."""
    value = doc.get(key)
    return kind() if value is None else _expect(value, kind, where, key)


def _merge_named(
    target: dict[str, Any],
    origins: Origins,
    prefix: Loc,
    items: dict[str, Any],
    where: str,
    kind: str,
) -> None:
    for name, value in items.items():
        if name in target and target[name] != value:
            raise VendorError(
                f"{kind} '{name}' is defined differently in {origins[(*prefix, name)]} and {where}"
            )
        if name not in target:
            target[name] = value
            origins[(*prefix, name)] = where


def merge(fragments: list[Fragment]) -> tuple[Json, Origins]:
    """Merge fragments: identical duplicates merge silently, conflicts are errors.

    Also returns where each merged member came from, so that later errors name a page.
    """
    spec: Json = {"openapi": "3.0.0", "info": {}, "servers": [], "tags": [], "paths": {}}
    components: dict[str, dict[str, Any]] = {}
    origins: Origins = {}
    for frag in fragments:
        doc, where = frag.doc, frag.where
        version = doc.get("openapi")
        if isinstance(version, str) and version.startswith("3.0"):
            spec["openapi"] = max(spec["openapi"], version)
        elif version is not None:
            raise VendorError(f"{where}: unsupported OpenAPI version {version!r}")
        for key, value in _section(doc, "info", dict, where).items():
            if key not in spec["info"]:
                spec["info"][key] = value
                origins[("info", key)] = where
        for server in _section(doc, "servers", list, where):
            if _expect(server, dict, where, "each server") not in spec["servers"]:
                origins[("servers", str(len(spec["servers"])))] = where
                spec["servers"].append(server)
        for tag in _section(doc, "tags", list, where):
            name = _expect(tag, dict, where, "each tag").get("name")
            if all(t.get("name") != name for t in spec["tags"]):
                origins[("tags", str(len(spec["tags"])))] = where
                spec["tags"].append(tag)
        for path, item in _section(doc, "paths", dict, where).items():
            _merge_named(
                spec["paths"].setdefault(path, {}),
                origins,
                ("paths", path),
                _expect(item, dict, where, f"path '{path}'"),
                where,
                f"operation of path '{path}'",
            )
        for section, entries in _section(doc, "components", dict, where).items():
            _merge_named(
                components.setdefault(section, {}),
                origins,
                ("components", section),
                _expect(entries, dict, where, f"components/{section}"),
                where,
                f"component {section}/",
            )
    if components:
        spec["components"] = {s: dict(sorted(c.items())) for s, c in sorted(components.items())}
    if not spec["tags"]:
        del spec["tags"]
    return spec, origins


def origin(origins: Origins, loc: Loc) -> str:
    """'page.md:LINE: ' for the fragment that brought the node at loc ('' if a fix made it)."""
    for n in range(len(loc), 0, -1):
        if loc[:n] in origins:
            return f"{origins[loc[:n]]}: "
    # A container (info, a path) that several pages filled: name them all.
    pages = dict.fromkeys(where for key, where in origins.items() if loc and key[: len(loc)] == loc)
    return f"{', '.join(pages)}: " if pages else ""


def pointer(loc: Loc) -> str:
    return "/".join(str(part) for part in loc) or "(root)"


# --------------------------------------------------------------------------- fixes


FixFunction = Callable[[Json], list[Json] | None]


@dataclass(frozen=True)
class Fix:
    """A named fix; one that returns a list returns every place it touched."""

    name: str
    reason: str
    apply: FixFunction


FIXES: list[Fix] = []


def fix(name: str, reason: str) -> Callable[[FixFunction], FixFunction]:
    def register(fn: FixFunction) -> FixFunction:
        FIXES.append(Fix(name, reason, fn))
        return fn

    return register


def operations(spec: Json) -> Iterator[tuple[str, str, Json]]:
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                yield path, method, item[method]


# A walk by the document's structure, never by key names found anywhere: a property
# named 'type', '$ref' or 'example' sits in a properties map and is a name, not a keyword.


@dataclass(frozen=True)
class Node:
    kind: str  # schema, parameter, header, media, example, response, requestBody, operation
    value: Json
    loc: Loc


def _members(value: Any) -> Iterator[tuple[str, Json]]:
    """The members of a map (or items of a list) that are objects, snapshot so fixes may edit."""
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = [(str(i), item) for i, item in enumerate(value)]
    else:
        return
    for key, item in pairs:
        if isinstance(item, dict):
            yield key, item


def _schema(node: Json, loc: Loc) -> Iterator[Node]:
    yield Node("schema", node, loc)
    for name, sub in _members(node.get("properties")):
        yield from _schema(sub, (*loc, "properties", name))
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict):
            yield from _schema(node[key], (*loc, key))
    for key in ("allOf", "anyOf", "oneOf"):
        for i, sub in _members(node.get(key)):
            yield from _schema(sub, (*loc, key, i))


def _schema_of(node: Json, loc: Loc) -> Iterator[Node]:
    if isinstance(node.get("schema"), dict):
        yield from _schema(node["schema"], (*loc, "schema"))


def _examples(node: Json, loc: Loc) -> Iterator[Node]:
    if isinstance(node.get("examples"), dict):  # in a schema it is a list of values
        for name, example in _members(node["examples"]):
            yield Node("example", example, (*loc, "examples", name))


def _content(node: Json, loc: Loc) -> Iterator[Node]:
    for media_type, media in _members(node.get("content")):
        where = (*loc, "content", media_type)
        yield Node("media", media, where)
        yield from _schema_of(media, where)
        yield from _examples(media, where)


def _parameter(node: Json, loc: Loc, kind: str = "parameter") -> Iterator[Node]:
    yield Node(kind, node, loc)
    yield from _schema_of(node, loc)
    yield from _examples(node, loc)
    yield from _content(node, loc)


def _response(node: Json, loc: Loc) -> Iterator[Node]:
    yield Node("response", node, loc)
    for name, header in _members(node.get("headers")):
        yield from _parameter(header, (*loc, "headers", name), "header")
    yield from _content(node, loc)


def _request_body(node: Json, loc: Loc) -> Iterator[Node]:
    yield Node("requestBody", node, loc)
    yield from _content(node, loc)


def _path_item(item: Json, loc: Loc) -> Iterator[Node]:
    for i, param in _members(item.get("parameters")):
        yield from _parameter(param, (*loc, "parameters", i))
    for method in HTTP_METHODS:
        if isinstance(item.get(method), dict):
            yield from _operation(item[method], (*loc, method))


def _operation(op: Json, loc: Loc) -> Iterator[Node]:
    yield Node("operation", op, loc)
    for i, param in _members(op.get("parameters")):
        yield from _parameter(param, (*loc, "parameters", i))
    if isinstance(op.get("requestBody"), dict):
        yield from _request_body(op["requestBody"], (*loc, "requestBody"))
    for status, response in _members(op.get("responses")):
        yield from _response(response, (*loc, "responses", status))
    yield from _callbacks(op.get("callbacks"), (*loc, "callbacks"))


def _callbacks(callbacks: Any, loc: Loc) -> Iterator[Node]:
    for name, callback in _members(callbacks):
        for expression, item in _members(callback):
            yield from _path_item(item, (*loc, name, expression))


def _header(node: Json, loc: Loc) -> Iterator[Node]:
    return _parameter(node, loc, "header")


def _example(node: Json, loc: Loc) -> Iterator[Node]:
    yield Node("example", node, loc)


COMPONENTS: dict[str, Callable[[Json, Loc], Iterator[Node]]] = {
    "schemas": _schema,
    "parameters": _parameter,
    "headers": _header,
    "requestBodies": _request_body,
    "responses": _response,
    "examples": _example,
}


def nodes(spec: Json) -> Iterator[Node]:
    """Every schema, parameter, header, media type, example, response and body, parents first."""
    for path, item in _members(spec.get("paths")):
        yield from _path_item(item, ("paths", path))
    components = spec.get("components")
    for section, walker in COMPONENTS.items():
        for name, entry in _members(_at(components, section)):
            yield from walker(entry, ("components", section, name))
    if isinstance(components, dict):
        yield from _callbacks(components.get("callbacks"), ("components", "callbacks"))


def schemas(spec: Json) -> Iterator[Json]:
    """Every JSON Schema of the document, found by structure (see nodes)."""
    return (n.value for n in nodes(spec) if n.kind == "schema")


def _at(node: Any, *keys: str) -> Json | None:
    """node[k1][k2]... if every step is an object, else None."""
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _drop(node: Json, key: str, value: Any) -> None:
    """Remove node[key], keeping the value under x-vendored-dropped so nothing is lost silently."""
    del node[key]
    if not isinstance(node.get("x-vendored-dropped"), dict):
        node["x-vendored-dropped"] = {}
    node["x-vendored-dropped"][key] = value


PUBLIC_OPERATIONS = {("/test-api-keys", "post"), ("/clients/authorization", "get")}


@fix("info-title", "a fragment may lack info.title, which OpenAPI requires")
def _info_title(spec: Json) -> None:
    spec["info"].setdefault("title", "API Nova Post")
    spec["info"].setdefault("version", "1.0.0")


@fix("servers-no-trailing-slash", "server URLs end in '/' and every path starts with one")
def _servers(spec: Json) -> None:
    for server in spec["servers"]:
        if isinstance(server.get("url"), str):
            server["url"] = server["url"].rstrip("/")


@fix("security-schemes", "restore the JWT and ApiKeyAuth schemes the page's fragments omit")
def _security_schemes(spec: Json) -> None:
    schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.setdefault(
        "JWT",
        {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "The raw JWT from GET /clients/authorization, without a 'Bearer ' "
            "prefix (a prefixed token is rejected). Valid for about one hour.",
        },
    )
    schemes.setdefault(
        "ApiKeyAuth",
        {
            "type": "apiKey",
            "in": "query",
            "name": "apiKey",
            "description": "The personal API key, exchanged for a JWT.",
        },
    )
    spec["components"] = dict(sorted(spec["components"].items()))


@fix("operation-security", "token routes are public; every other operation needs the JWT")
def _operation_security(spec: Json) -> None:
    spec.pop("security", None)
    for path, method, op in operations(spec):
        if (path, method) in PUBLIC_OPERATIONS:
            op["security"] = []
        else:
            op.setdefault("security", [{"JWT": []}])


@fix("operation-ids", "most upstream operations lack an operationId; names come from the route")
def _operation_ids(spec: Json) -> None:
    ids = [op.get("operationId") for _, _, op in operations(spec)]
    taken = {name for name in ids if isinstance(name, str)}
    for path, method, op in operations(spec):
        if "operationId" not in op:
            snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", path)  # {shipmentNumber}
            words = re.sub(r"[^A-Za-z0-9]+", "_", snake).strip("_").lower()
            name, n = f"{method}_{words}", 2
            while name in taken:  # '/a-b' and '/a_b' derive the same name
                name, n = f"{method}_{words}_{n}", n + 1
            op["operationId"] = name
            taken.add(name)


@fix("empty-property-name", "Error.errors declares a property named '', meaning a string map")
def _empty_property(spec: Json) -> None:
    for node in schemas(spec):
        props = node.get("properties")
        if isinstance(props, dict) and "" in props:
            value = props.pop("")
            node.setdefault("additionalProperties", value)
            if not props:
                del node["properties"]


@fix(
    "string-formats", "'format: datetime' means date-time; 'format: json' is no JSON Schema format"
)
def _string_formats(spec: Json) -> None:
    for node in schemas(spec):
        if node.get("format") == "datetime":
            node["format"] = "date-time"
        elif node.get("format") == "json":
            del node["format"]


def _declared(schema: Json, spec: Json) -> set[str]:
    """The property names a schema declares: its own and, through $ref, its allOf members'."""
    names: set[str] = set()
    seen: set[int] = set()
    todo = [schema]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        ref = node.get("$ref")
        target = resolve(spec, ref) if isinstance(ref, str) and ref.startswith("#/") else None
        if isinstance(target, dict):
            todo.append(target)
            continue
        if isinstance(node.get("properties"), dict):
            names.update(node["properties"])
        todo.extend(member for _, member in _members(node.get("allOf")))
    return names


@fix("required-exist", "some 'required' lists name properties the schema does not declare")
def _required_exist(spec: Json) -> None:
    for node in schemas(spec):
        required = node.get("required")
        if isinstance(required, list) and ("allOf" in node or "properties" in node):
            declared = _declared(node, spec)
            kept = [name for name in required if isinstance(name, str) and name in declared]
            if kept:
                node["required"] = kept
            else:
                del node["required"]


@fix("example-value-wrapper", "some examples are wrapped in an extra 'value' key")
def _example_wrapper(spec: Json) -> None:
    for n in nodes(spec):
        example, props = n.value.get("example"), n.value.get("properties")
        if n.kind in {"schema", "media", "parameter", "header"} and isinstance(example, dict):
            if list(example) == ["value"] and not (isinstance(props, dict) and "value" in props):
                n.value["example"] = example["value"]


@fix("php-array-query", "query names such as 'ids[]' are arrays but typed as scalars")
def _php_arrays(spec: Json) -> None:
    for n in nodes(spec):
        node = n.value
        if n.kind == "parameter" and node.get("in") == "query":
            schema = node.get("schema") or {"type": "string"}
            name = node.get("name")
            if isinstance(name, str) and name.endswith("[]") and isinstance(schema, dict):
                if schema.get("type") != "array":
                    node["schema"] = {"type": "array", "items": schema}
                    node.setdefault("style", "form")
                    node.setdefault("explode", True)


@fix(
    "required-parameters-non-empty",
    "a required string parameter sent empty is as good as missing ('a valid apiKey must be "
    "provided'): minLength 1, so an empty value is not a schema-valid request",
)
def _required_non_empty(spec: Json) -> None:
    for n in nodes(spec):
        schema = n.value.get("schema")
        if (
            n.kind == "parameter"
            and n.value.get("required") is True
            and isinstance(schema, dict)
            and schema.get("type") == "string"
            and "minLength" not in schema
        ):
            schema["minLength"] = 1


def _resolved(spec: Json, node: Any) -> Any:
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
        seen.add(node["$ref"])
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~"))
                if isinstance(target, dict)
                else None
            )
        node = target
    return node


@fix(
    "validation-response",
    "an operation that takes parameters or a body but documents no 400 or 422 still refuses "
    "invalid input with a 4xx: a 422 in the shape of its other errors is documented for it",
)
def _validation_response(spec: Json) -> None:
    for path, _, op in operations(spec):
        responses = op.get("responses")
        if not isinstance(responses, dict) or "400" in responses or "422" in responses:
            continue
        shared = spec["paths"][path].get("parameters")
        if not op.get("parameters") and not shared and not op.get("requestBody"):
            continue
        responses["422"] = _error_response(spec, responses, "Validation error")


def _error_response(spec: Json, responses: Json, description: str) -> Json:
    """A response in the shape of the operation's other errors (their first content), or
    of the API's shared ``Error`` schema when the operation documents no error body."""
    errors = [
        _resolved(spec, responses[code])
        for code in sorted(responses)
        if str(code).startswith("4") or str(code) == "default"
    ]
    content = next((r["content"] for r in errors if isinstance(r, dict) and r.get("content")), None)
    if content is None and isinstance(_at(spec, "components", "schemas", "Error"), dict):
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    added: Json = {"description": description}
    if content is not None:
        added["content"] = copy.deepcopy(content)
    return added


@fix(
    "security-response",
    "an operation that needs the JWT (by its page or by operation-security) is refused with "
    "401 without one: the 401 is documented, in the shape of its other errors",
)
def _security_response(spec: Json) -> list[Json]:
    touched: list[Json] = []
    for path, method, op in operations(spec):
        responses = op.get("responses")
        if not op.get("security") or not isinstance(responses, dict) or "401" in responses:
            continue
        responses["401"] = _error_response(spec, responses, "Unauthorized")
        touched.append({"operation": f"{method.upper()} {path}", "added": "401"})
    return touched


NO_CONTENT_STATUSES = ("204", "205", "304")


@fix(
    "no-content-statuses",
    "HTTP forbids a body on 204, 205 and 304: content documented for them is dropped "
    "(kept under x-vendored-dropped)",
)
def _no_content(spec: Json) -> list[Json]:
    touched: list[Json] = []
    for path, method, op in operations(spec):
        for status, response in _members(op.get("responses")):
            if status in NO_CONTENT_STATUSES and "content" in response:
                _drop(response, "content", response["content"])
                touched.append({"operation": f"{method.upper()} {path}", "status": status})
    return touched


PHONE_PATTERN = "^49[0-9]{9,10}$"


@fix("phone-pattern", "the phone format the description gives (49XXXXXXXXX, no '+') as a pattern")
def _phone_pattern(spec: Json) -> None:
    for path, method, op in operations(spec):
        if (path, method) == ("/test-api-keys", "post"):
            body = _at(op, "requestBody", "content", "application/json", "schema")
            phone = _at(body, "properties", "phone")
            if phone is not None:
                phone.setdefault("pattern", PHONE_PATTERN)


def _set_example(node: Json | None, value: Any) -> None:
    if node is not None and "examples" not in node:
        node.setdefault("example", value)


@fix("docs-examples", "carry the docs' examples so tests reach the success paths")
def _docs_examples(spec: Json) -> None:
    for path, method, op in operations(spec):
        if (path, method) == ("/test-api-keys", "post"):
            body = _at(op, "requestBody", "content", "application/json")
            _set_example(body, {"phone": "498213437654"})
        if (path, method) == ("/clients/authorization", "get"):
            for _, param in _members(op.get("parameters")):
                if param.get("name") == "apiKey":
                    _set_example(param, "np_test_4f1c2b9e8a7d6c5b")


@fix(
    "jwt-response-schema",
    "the JWT response is inline and optional; name it, and jwt is always sent",
)
def _jwt_response(spec: Json) -> None:
    ops = {(path, method): op for path, method, op in operations(spec)}
    content = _at(ops.get(("/clients/authorization", "get")), "responses", "200", "content")
    schema = _at(content, "application/json", "schema")
    if content is None or schema is None or "$ref" in schema:
        return
    if isinstance(schema.get("properties"), dict) and "jwt" in schema["properties"]:
        schema.setdefault("required", ["jwt"])
    named = spec["components"].setdefault("schemas", {})
    if "JwtResponse" in named and named["JwtResponse"] != schema:
        raise VendorError(
            "component schemas/'JwtResponse' is defined on a page, so the inline JWT "
            "response of GET /clients/authorization cannot take that name"
        )
    named["JwtResponse"] = schema
    spec["components"]["schemas"] = dict(sorted(named.items()))
    content["application/json"]["schema"] = {"$ref": "#/components/schemas/JwtResponse"}


@fix("links", "POST /test-api-keys returns the apiKey that GET /clients/authorization takes")
def _links(spec: Json) -> None:
    ops = {(path, method): op for path, method, op in operations(spec)}
    create, mint = ops.get(("/test-api-keys", "post")), ops.get(("/clients/authorization", "get"))
    ok = _at(create, "responses", "200")
    if mint is None or ok is None or "$ref" in ok:
        return
    links = ok.setdefault("links", {})
    if isinstance(links, dict):
        links["GenerateJwt"] = {
            "operationId": mint["operationId"],
            "parameters": {"apiKey": "$response.body#/apiKey"},
            "description": "The apiKey returned here is exchanged for a JWT.",
        }


# --------------------------------------------------------------------------- general fixes
# Classes of mistakes rather than one path: they run last, over whatever the fixes above left.


@fix(
    "example-beside-examples",
    "'example' and 'examples' together are invalid: keep the named 'examples'; a schema's "
    "JSON Schema 'examples' list, no OpenAPI 3.0 keyword, gives its first entry as 'example'",
)
def _example_or_examples(spec: Json) -> None:
    for n in nodes(spec):
        node = n.value
        if "examples" not in node:
            continue
        if n.kind == "schema":
            examples = node["examples"]
            if "example" not in node and isinstance(examples, list) and examples:
                node["example"] = examples[0]
            _drop(node, "examples", examples)
        elif n.kind in {"media", "parameter", "header"} and "example" in node:
            if isinstance(node["examples"], dict) and node["examples"]:
                _drop(node, "example", node["example"])
            else:
                _drop(node, "examples", node["examples"])


UNFIT = object()
INTEGER = re.compile(r"-?[0-9]{1,300}")
NUMBER = re.compile(r"-?[0-9]{1,300}(\.[0-9]{1,300})?([eE][-+]?[0-9]{1,3})?")
FORMAT_CHECKS: dict[str, Callable[[str], object]] = {
    "date": datetime.date.fromisoformat,
    "date-time": datetime.datetime.fromisoformat,
    "uuid": uuid.UUID,
}


def coerce(value: Any, schema: Json) -> Any:
    """value as the schema's type when nothing is lost ('0' for 0 on a string), else UNFIT."""
    kind, fmt = schema.get("type"), schema.get("format")
    kind = kind if isinstance(kind, str) else None  # a list or object here is the validator's
    if value is None:
        return None if schema.get("nullable") is True or kind is None else UNFIT
    if kind == "string":
        if isinstance(value, bool | int | float):
            value = json.dumps(value)
        if not isinstance(value, str):
            return UNFIT
        check = FORMAT_CHECKS.get(fmt) if isinstance(fmt, str) else None
        if check is not None:
            try:
                check(value)
            except ValueError:  # the generator would fail on it: 'default: 0' on a date-time
                return UNFIT
        return value
    if isinstance(value, bool):
        return value if kind in {"boolean", None} else UNFIT
    if kind == "boolean":
        return value == "true" if value in ("true", "false") else UNFIT
    if kind in {"integer", "number"}:
        if isinstance(value, str):
            if INTEGER.fullmatch(value):
                return int(value)
            if kind == "integer" or not NUMBER.fullmatch(value):
                return UNFIT
            value = float(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) or (kind == "number" and isinstance(value, float)):
            return value if math.isfinite(value) else UNFIT
        return UNFIT
    if kind in {"array", "object"}:
        return value if isinstance(value, list if kind == "array" else dict) else UNFIT
    return value


def _fit_enum(node: Json) -> None:
    values = node["enum"]
    if not isinstance(values, list):
        return
    fitted = [(value, coerce(value, node)) for value in values]
    kept: list[Any] = []
    for _, value in fitted:
        if value is not UNFIT and not any(_same(value, k) for k in kept):
            kept.append(value)
    dropped = [value for value, fit in fitted if fit is UNFIT]
    if dropped:
        _drop(node, "enum", dropped)
    if kept:
        node["enum"] = kept


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON (in Python 1 == True and 0 == 0.0)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@fix(
    "schema-value-types",
    "default, example and enum values of the wrong type for their schema ('default: 0' on a "
    "string) are coerced when nothing is lost, else dropped and kept under x-vendored-dropped",
)
def _value_types(spec: Json) -> None:
    for node in schemas(spec):
        if "$ref" in node:
            continue
        if "enum" in node:
            _fit_enum(node)
        allowed = node.get("enum")
        for key in ("default", "example"):
            if key not in node:
                continue
            fitted = coerce(node[key], node)
            if fitted is UNFIT or (
                isinstance(allowed, list) and not any(_same(fitted, a) for a in allowed)
            ):
                _drop(node, key, node[key])
            else:
                node[key] = fitted


@fix(
    "array-items",
    "an array schema without 'items' makes the generator drop its operation: items: {} (any)",
)
def _array_items(spec: Json) -> None:
    for node in schemas(spec):
        if node.get("type") == "array" and "items" not in node and "$ref" not in node:
            node["items"] = {}


BINARY_SCHEMA: Json = {"type": "string", "format": "binary"}
NOT_BINARY = {"json", "xml", "x-www-form-urlencoded", "javascript", "yaml", "x-yaml"}


def is_binary(media_type: str) -> bool:
    """PDF, images, archives: any application/* that is not text in disguise, and media."""
    kind, _, sub = media_type.split(";")[0].strip().lower().partition("/")
    if kind in {"image", "audio", "video", "font"}:
        return True
    return kind == "application" and sub not in NOT_BINARY and not sub.endswith(("+json", "+xml"))


@fix(
    "binary-media-types",
    "PDF, image and other binary bodies are bytes: their schema is 'type: string, format: "
    "binary' (a missing or other schema is replaced), so the generator returns them as a File",
)
def _binary_media(spec: Json) -> None:
    for n in nodes(spec):
        if n.kind == "media" and is_binary(n.loc[-1]):
            schema = n.value.get("schema")
            if isinstance(schema, dict) and {**schema, **BINARY_SCHEMA} == schema:
                continue
            if schema is not None:
                _drop(n.value, "schema", schema)
            n.value["schema"] = dict(BINARY_SCHEMA)


def _parent(spec: Json, loc: Loc) -> tuple[Any, Any]:
    """The container of the node at ``loc`` and its key there (an index in a list)."""
    parent = follow(spec, loc[:-1])
    return parent, int(loc[-1]) if isinstance(parent, list) else loc[-1]


def _example_value(spec: Json, example: Json) -> tuple[Json, Loc] | None:
    """An Example Object, through its $ref, and where it lives; None without a value."""
    ref = example.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/examples/"):
        target = resolve(spec, ref)
        if isinstance(target, dict) and "value" in target:
            return target, ("components", "examples", ref.rpartition("/")[2])
        return None
    return (example, ()) if "value" in example else None


def example_sites(spec: Json) -> Iterator[evidence.Site]:
    """Every example of the document beside the schema it must fit."""
    for n in nodes(spec):
        node = n.value
        if n.kind == "schema":
            if "example" in node:
                holder, key = _parent(spec, n.loc)
                yield _site(node, "example", holder, key, n.loc, n.loc)
            continue
        if n.kind not in {"media", "parameter", "header"} or not isinstance(
            node.get("schema"), dict
        ):
            continue
        if n.kind == "media" and is_binary(n.loc[-1]):
            continue  # bytes: an example there is no JSON value to judge
        schema_loc = (*n.loc, "schema")
        array = n.kind == "parameter" and node["schema"].get("type") == "array"
        if "example" in node:
            yield _site(node, "example", node, "schema", schema_loc, n.loc, array)
        for name, example in _members(node.get("examples")):
            found = _example_value(spec, example)
            if found is not None:
                target, where = found
                loc = where or (*n.loc, "examples", name)
                yield _site(target, "value", node, "schema", schema_loc, loc, array)


def _site(
    owner: Json,
    field: str,
    holder: Any,
    key: Any,
    schema_loc: Loc,
    loc: Loc,
    array_parameter: bool = False,
) -> evidence.Site:
    def write(value: Any) -> None:
        owner[field] = value

    def drop() -> None:
        _drop(owner, field, owner[field])

    return evidence.Site(
        owner[field], holder, key, schema_loc, (*loc, field), write, drop, array_parameter
    )


@fix(
    "examples-as-evidence",
    "the docs' examples show what the server sends and takes: a schema they contradict is "
    "widened exactly where they do (nullable, another type, ids for objects, an enum value, "
    "a format or bound they break, a required field they omit; JSON inside a string decoded)",
)
def _examples_as_evidence(spec: Json) -> list[Json]:
    return evidence.widen(spec, example_sites(spec))


def apply_fixes(spec: Json) -> Json:
    spec = copy.deepcopy(spec)
    record: Json = {}
    for f in FIXES:
        touched = f.apply(spec)
        record[f.name] = {"reason": f.reason}
        if touched is not None:
            record[f.name]["touched"] = touched
    spec["x-vendored-fixes"] = record
    return spec


# --------------------------------------------------------------------------- checks
# The validator raises on these without saying where (or recurses without end): say where.

MISSING = object()


def _unescape(part: str) -> str:
    return unquote(part).replace("~1", "/").replace("~0", "~")


def resolve(spec: Json, ref: str) -> Any:
    """The member a local '#/a/b' reference points at, or MISSING."""
    return follow(spec, map(_unescape, ref[2:].split("/")))


def follow(node: Any, parts: Iterable[str]) -> Any:
    """node[p1][p2]... through objects and lists, or MISSING."""
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and re.fullmatch(r"[0-9]{1,9}", part) and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


# What a $ref in each place may point at: the generator, too, follows only these.
REF_SECTIONS = {
    "schema": "schemas",
    "parameter": "parameters",
    "header": "headers",
    "response": "responses",
    "requestBody": "requestBodies",
    "example": "examples",
}


def check_refs(spec: Json, origins: Origins) -> None:
    """Every $ref points at an existing member of the components section for its place."""
    for n in nodes(spec):
        if "$ref" in n.value:
            ref, section = n.value["$ref"], REF_SECTIONS.get(n.kind, "")
            prefix = f"#/components/{section}/"
            if (
                not (isinstance(ref, str) and ref.startswith(prefix))
                or resolve(spec, ref) is MISSING
            ):
                raise VendorError(
                    f"{origin(origins, n.loc)}$ref {ref!r} at {pointer(n.loc)} does not resolve "
                    f"(a {n.kind} may only refer to a '{prefix}...' member that exists)"
                )


def check_parameters(spec: Json, origins: Origins) -> None:
    """No list names a parameter twice: the validator says which, not where."""
    for path, item in spec["paths"].items():
        owners: list[tuple[Loc, Json]] = [(("paths", path), item)]
        owners += [
            (("paths", path, m), op) for m in HTTP_METHODS if isinstance(op := item.get(m), dict)
        ]
        for loc, owner in owners:
            seen: list[tuple[Any, Any]] = []
            for _, param in _members(owner.get("parameters")):
                ref = param.get("$ref")
                target = resolve(spec, ref) if isinstance(ref, str) else None
                param = target if isinstance(target, dict) else param
                key = (param.get("name"), param.get("in"))
                if key in seen:
                    raise VendorError(
                        f"{origin(origins, loc)}parameter {key[0]!r} in {key[1]!r} is listed twice "
                        f"at {pointer(loc)}"
                    )
                seen.append(key)


def _parts(node: Json, spec: Json) -> list[Json]:
    """What a node is made of: the target of its $ref, and for a schema its allOf members."""
    parts = [member for _, member in _members(node.get("allOf"))]
    ref = node.get("$ref")
    target = resolve(spec, ref) if isinstance(ref, str) and ref.startswith("#/") else None
    return [target, *parts] if isinstance(target, dict) else parts


def check_cycles(spec: Json, origins: Origins) -> None:
    """Nothing is made of itself through $ref or allOf: it has no meaning, and no end."""
    found = list(nodes(spec))
    locs = {id(n.value): n.loc for n in found}
    finished: set[int] = set()
    for n in found:
        if id(n.value) in finished:
            continue
        chain, stack = {id(n.value)}, [(n.value, iter(_parts(n.value, spec)))]
        while stack:  # depth first, without recursion: a chain may be long
            current, parts = stack[-1]
            part = next(parts, None)
            if part is None:
                finished.add(id(current))
                chain.discard(id(current))
                stack.pop()
            elif id(part) in chain:
                loc = locs.get(id(part), ())
                raise VendorError(
                    f"{origin(origins, loc)}{pointer(loc)} is made of itself through $ref or allOf"
                )
            elif id(part) not in finished:
                chain.add(id(part))
                stack.append((part, iter(_parts(part, spec))))


# --------------------------------------------------------------------------- output


def _find_ref(spec: Json, ref: str) -> Loc:
    """Where a $ref the validator could not resolve sits (a search for the message only)."""
    todo: list[tuple[Any, Loc]] = [(spec, ())]
    while todo:
        node, loc = todo.pop()
        if isinstance(node, dict) and node.get("$ref") == ref:
            return loc
        if isinstance(node, dict | list):
            children = node.items() if isinstance(node, dict) else enumerate(node)
            todo.extend((child, (*loc, str(key))) for key, child in children)
    return ()


def _locate(spec: Json, loc: Loc, instance: Any, message: str) -> Loc:
    """Where a finding sits in the document, for the checks that report it elsewhere.

    The checks beyond the schema (path parameters, operationIds) name a path in the
    message; those of one schema, or of a default against its schema, give a place
    inside it.
    """
    if loc and loc[0] in spec:
        return loc
    named = [path for path in spec["paths"] if f"'{path}'" in message]
    if not loc and named:
        return ("paths", named[0])
    if not isinstance(instance, dict | list | str | int | float | None):
        return loc  # a sentinel of the validator, not a value of the document
    for n in nodes(spec):
        for inside in (loc, ("default", *loc)):
            found = follow(n.value, inside)
            if found is not MISSING and _same(found, instance):
                return n.loc + inside
    return loc


def validate_spec(spec: Json, origins: Origins) -> None:
    """openapi-spec-validator, its findings turned into one line naming the page."""
    try:
        validate(spec)
    except OpenAPIValidationError as exc:
        message = exc.message.split("\n\n")[0]
        loc = _locate(spec, tuple(str(part) for part in exc.absolute_path), exc.instance, message)
        message = message if len(message) <= 300 else message[:300] + "..."
        raise VendorError(
            f"{origin(origins, loc)}merged spec is not valid OpenAPI at {pointer(loc)}: {message}"
        ) from None
    except Unresolvable as exc:
        loc = _find_ref(spec, getattr(exc, "ref", ""))
        raise VendorError(
            f"{origin(origins, loc)}the validator cannot resolve the $ref at {pointer(loc)}"
        ) from None
    except RecursionError:
        raise VendorError(
            "merged spec nests too deeply for the validator (a very long $ref or allOf chain)"
        ) from None


def build(*pages_dirs: Path) -> str:
    """Return the spec vendored from the pages of ``pages_dirs`` (merged in name order)
    as text; raise VendorError on any bad input."""
    spec, origins = merge(read_fragments(*pages_dirs))
    spec = apply_fixes(spec)
    check_refs(spec, origins)
    check_cycles(spec, origins)
    check_parameters(spec, origins)
    validate_spec(spec, origins)
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["pull"]:  # fetch the pages from the portal, then vendor them
        from tools import pull

        return pull.main(argv[1:])
    from tools import changelog

    parser = argparse.ArgumentParser(prog="vendor", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if --out is not up to date")
    parser.add_argument(
        "--client", type=Path, help="list the changes of this generated package, too"
    )
    changelog.add_output_options(parser)
    args = parser.parse_args(argv)
    try:
        text = build(args.pages)
    except VendorError as exc:
        print(f"vendor: error: {exc}", file=sys.stderr)
        return 1
    current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    if args.check:
        if current != text:
            print(f"vendor: {args.out.name} is stale: run 'make vendor'", file=sys.stderr)
            return 1
        return 0
    write_atomically(args.out, text)
    done = sys.stdout if args.format == "text" else sys.stderr
    print(f"vendor: wrote {args.out.name} ({len(FIXES)} named fixes)", file=done)
    return changelog.after_vendoring(current, args.out, args.format, args.fail_on, args.client)


if __name__ == "__main__":
    raise SystemExit(main())
