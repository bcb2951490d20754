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
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PAGES = ROOT / "specs" / "novapost" / "pages"
DEFAULT_OUT = ROOT / "specs" / "novapost" / "openapi.json"

Json = dict[str, Any]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")


class VendorError(Exception):
    """Bad input: the message names the file and the line or component at fault."""


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
    lines = path.read_text(encoding="utf-8").splitlines()
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


def read_fragments(pages_dir: Path) -> list[Fragment]:
    pages = sorted(p for p in pages_dir.glob("*.md") if p.is_file())
    if not pages:
        raise VendorError(f"{pages_dir}: no docs pages (*.md) to vendor")
    fragments: list[Fragment] = []
    for page in pages:
        display = page.name
        found = 0
        for line, text in extract_json_blocks(page, display):
            found += 1
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                raise VendorError(
                    f"{display}:{line + exc.lineno - 1}: malformed JSON block: {exc.msg}"
                ) from None
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


def _merge_named(
    target: dict[str, Any], owners: dict[str, str], items: dict[str, Any], where: str, kind: str
) -> None:
    for name, value in items.items():
        if name in target and target[name] != value:
            raise VendorError(
                f"{kind} '{name}' is defined differently in {owners[name]} and {where}"
            )
        if name not in target:
            target[name] = value
            owners[name] = where


def merge(fragments: list[Fragment]) -> Json:
    """Merge fragments: identical duplicates merge silently, conflicts are errors."""
    spec: Json = {"openapi": "3.0.0", "info": {}, "servers": [], "tags": [], "paths": {}}
    components: dict[str, dict[str, Any]] = {}
    owners: dict[str, dict[str, str]] = {}
    for frag in fragments:
        doc = frag.doc
        version = doc.get("openapi")
        if isinstance(version, str) and version.startswith("3.0"):
            spec["openapi"] = max(spec["openapi"], version)
        elif version is not None:
            raise VendorError(f"{frag.where}: unsupported OpenAPI version {version!r}")
        for key, value in (doc.get("info") or {}).items():
            spec["info"].setdefault(key, value)
        for server in doc.get("servers") or []:
            if server not in spec["servers"]:
                spec["servers"].append(server)
        for tag in doc.get("tags") or []:
            if tag.get("name") not in {t.get("name") for t in spec["tags"]}:
                spec["tags"].append(tag)
        for path, item in (doc.get("paths") or {}).items():
            merged_item = spec["paths"].setdefault(path, {})
            _merge_named(
                merged_item,
                owners.setdefault(f"path {path}", {}),
                item,
                frag.where,
                f"operation of path '{path}'",
            )
        for section, entries in (doc.get("components") or {}).items():
            _merge_named(
                components.setdefault(section, {}),
                owners.setdefault(f"components {section}", {}),
                entries,
                frag.where,
                f"component {section}/",
            )
    if components:
        spec["components"] = {s: dict(sorted(c.items())) for s, c in sorted(components.items())}
    if not spec["tags"]:
        del spec["tags"]
    return spec


# --------------------------------------------------------------------------- fixes


@dataclass(frozen=True)
class Fix:
    name: str
    reason: str
    apply: Callable[[Json], None]


FIXES: list[Fix] = []


def fix(name: str, reason: str) -> Callable[[Callable[[Json], None]], Callable[[Json], None]]:
    def register(fn: Callable[[Json], None]) -> Callable[[Json], None]:
        FIXES.append(Fix(name, reason, fn))
        return fn

    return register


def operations(spec: Json) -> Iterator[tuple[str, str, Json]]:
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                yield path, method, item[method]


def walk(node: Any) -> Iterator[Json]:
    """Every dict in the document, depth first, parents before children."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def schemas(spec: Json) -> Iterator[Json]:
    """Every dict that is used as a JSON Schema (has a type or properties)."""
    for node in walk(spec):
        if "properties" in node or node.get("type") in {
            "object",
            "string",
            "array",
            "integer",
            "number",
            "boolean",
        }:
            yield node


PUBLIC_OPERATIONS = {("/test-api-keys", "post"), ("/clients/authorization", "get")}


@fix("info-title", "a fragment may lack info.title, which OpenAPI requires")
def _info_title(spec: Json) -> None:
    spec["info"].setdefault("title", "API Nova Post")
    spec["info"].setdefault("version", "1.0.0")


@fix("servers-no-trailing-slash", "server URLs end in '/' and every path starts with one")
def _servers(spec: Json) -> None:
    for server in spec["servers"]:
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
    for path, method, op in operations(spec):
        if "operationId" not in op:
            words = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_").lower()
            op["operationId"] = f"{method}_{words}"


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


@fix("required-exist", "some 'required' lists name properties the schema does not declare")
def _required_exist(spec: Json) -> None:
    for node in schemas(spec):
        props, required = node.get("properties"), node.get("required")
        if isinstance(props, dict) and isinstance(required, list):
            kept = [name for name in required if name in props]
            if kept:
                node["required"] = kept
            else:
                del node["required"]


@fix("example-value-wrapper", "some examples are wrapped in an extra 'value' key")
def _example_wrapper(spec: Json) -> None:
    for node in walk(spec):
        example = node.get("example")
        props = node.get("properties") or {}
        if isinstance(example, dict) and list(example) == ["value"] and "value" not in props:
            node["example"] = example["value"]


@fix("php-array-query", "query names such as 'ids[]' are arrays but typed as scalars")
def _php_arrays(spec: Json) -> None:
    for node in walk(spec):
        if node.get("in") == "query" and str(node.get("name", "")).endswith("[]"):
            schema = node.get("schema") or {"type": "string"}
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
    parameters = [p for _, _, op in operations(spec) for p in op.get("parameters", [])]
    parameters += list(spec.get("components", {}).get("parameters", {}).values())
    for parameter in parameters:
        schema = parameter.get("schema") if isinstance(parameter, dict) else None
        if (
            parameter.get("required") is True
            and isinstance(schema, dict)
            and schema.get("type") == "string"
            and "minLength" not in schema
        ):
            schema["minLength"] = 1


PHONE_PATTERN = "^49[0-9]{9,10}$"


@fix("phone-pattern", "the phone format the description gives (49XXXXXXXXX, no '+') as a pattern")
def _phone_pattern(spec: Json) -> None:
    for path, method, op in operations(spec):
        if (path, method) == ("/test-api-keys", "post"):
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            schema["properties"]["phone"].setdefault("pattern", PHONE_PATTERN)


@fix("docs-examples", "carry the docs' examples so tests reach the success paths")
def _examples(spec: Json) -> None:
    for path, method, op in operations(spec):
        if (path, method) == ("/test-api-keys", "post"):
            body = op["requestBody"]["content"]["application/json"]
            body.setdefault("example", {"phone": "498213437654"})
        if (path, method) == ("/clients/authorization", "get"):
            for param in op.get("parameters", []):
                if param.get("name") == "apiKey":
                    param.setdefault("example", "np_test_4f1c2b9e8a7d6c5b")


@fix(
    "jwt-response-schema",
    "the JWT response is inline and optional; name it, and jwt is always sent",
)
def _jwt_response(spec: Json) -> None:
    ops = {(path, method): op for path, method, op in operations(spec)}
    mint = ops.get(("/clients/authorization", "get"))
    if mint is None:
        return
    content = mint["responses"].get("200", {}).get("content", {}).get("application/json")
    if content is None or "$ref" in content["schema"]:
        return
    schema = content["schema"]
    if "jwt" in schema.get("properties", {}):
        schema.setdefault("required", ["jwt"])
    spec["components"].setdefault("schemas", {})["JwtResponse"] = schema
    spec["components"]["schemas"] = dict(sorted(spec["components"]["schemas"].items()))
    content["schema"] = {"$ref": "#/components/schemas/JwtResponse"}


@fix("links", "POST /test-api-keys returns the apiKey that GET /clients/authorization takes")
def _links(spec: Json) -> None:
    ops = {(path, method): op for path, method, op in operations(spec)}
    create, mint = ops.get(("/test-api-keys", "post")), ops.get(("/clients/authorization", "get"))
    if create is None or mint is None:
        return
    ok = create["responses"].get("200")
    if ok is None or "$ref" in ok:
        return
    ok.setdefault("links", {})["GenerateJwt"] = {
        "operationId": mint["operationId"],
        "parameters": {"apiKey": "$response.body#/apiKey"},
        "description": "The apiKey returned here is exchanged for a JWT.",
    }


def apply_fixes(spec: Json) -> Json:
    spec = copy.deepcopy(spec)
    for f in FIXES:
        f.apply(spec)
    spec["x-vendored-fixes"] = {f.name: f.reason for f in FIXES}
    return spec


# --------------------------------------------------------------------------- output


def build(pages_dir: Path) -> str:
    """Return the vendored spec as text; raise VendorError on any bad input."""
    spec = apply_fixes(merge(read_fragments(pages_dir)))
    try:
        validate(spec)
    except OpenAPIValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise VendorError(
            f"{pages_dir}: merged spec is not valid OpenAPI at {where}: {exc.message}"
        ) from None
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
    parser = argparse.ArgumentParser(prog="vendor", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if --out is not up to date")
    args = parser.parse_args(argv)
    try:
        text = build(args.pages)
    except VendorError as exc:
        print(f"vendor: error: {exc}", file=sys.stderr)
        return 1
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"vendor: {args.out.name} is stale: run 'make vendor'", file=sys.stderr)
            return 1
        return 0
    write_atomically(args.out, text)
    print(f"vendor: wrote {args.out.name} ({len(FIXES)} named fixes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
