"""The Nova Post vendoring: extraction, merge, named fixes, determinism and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tools import vendor

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "specs" / "novapost" / "pages"
COMMITTED = ROOT / "specs" / "novapost" / "openapi.json"


def page(*fragments: dict[str, Any] | str, prose: str = "Some prose.") -> str:
    """A docs page in the portal's shape: prose, then one ```json block per fragment."""
    parts = [f"# Section\n\n{prose}\n"]
    for frag in fragments:
        text = frag if isinstance(frag, str) else json.dumps(frag)
        parts.append(f"```json\n{text}\n```\n")
    return "\n".join(parts)


ERROR_SCHEMA = {
    "type": "object",
    "properties": {"errors": {"type": "object", "properties": {"": {"type": "string"}}}},
}

# A second docs page with the upstream quirks listed in the seeds README.
SHIPMENTS_FRAGMENT: dict[str, Any] = {
    "openapi": "3.0.0",
    "info": {"version": "1.0.0"},
    "servers": [{"description": "sandbox", "url": "https://api-stage.novapost.pl/v.1.0/"}],
    "paths": {
        "/shipments": {
            "get": {
                "summary": "List shipments",
                "x-autoAuth": True,
                "parameters": [
                    {"in": "query", "name": "ids[]", "schema": {"type": "string"}},
                    {
                        "in": "query",
                        "name": "createdFrom",
                        "schema": {"type": "string", "format": "datetime"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "Shipments",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["items", "total", "ghost"],
                                    "properties": {
                                        "items": {"type": "array", "items": {"type": "string"}},
                                        "total": {"type": "integer"},
                                    },
                                    "example": {"value": {"items": ["a"], "total": 1}},
                                }
                            }
                        },
                    },
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                },
            },
            "delete": {
                "summary": "Delete shipments",
                "x-business-rules": ["only drafts"],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "ids": {"type": "array", "items": {"type": "string"}}
                                },
                            }
                        }
                    }
                },
                "responses": {"204": {"description": "Deleted"}},
            },
        },
        "/shipments/{id}/label": {
            "get": {
                "summary": "Label",
                "parameters": [
                    {"in": "path", "name": "id", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "PDF",
                        "content": {
                            "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                        },
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {"Error": ERROR_SCHEMA},
        "responses": {
            "Unauthorized": {
                "description": "Unauthorized",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        },
    },
}


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    """A copy of the real pages directory that a test may add pages to."""
    target = tmp_path / "pages"
    shutil.copytree(PAGES, target)
    return target


def run(pages_dir: Path, out: Path, *extra: str) -> int:
    return vendor.main(["--pages", str(pages_dir), "--out", str(out), *extra])


# --------------------------------------------------------------------------- the real page


def test_committed_spec_is_what_make_vendor_produces() -> None:
    assert vendor.build(PAGES) == COMMITTED.read_text(encoding="utf-8")


def test_output_is_deterministic(pages: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run(pages, first) == 0
    assert run(pages, second) == 0
    assert first.read_bytes() == second.read_bytes()


def test_real_page_is_merged_and_fixed() -> None:
    spec = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert set(spec["paths"]) == {"/test-api-keys", "/clients/authorization"}
    assert spec["info"]["title"] == "API Nova Post"
    assert [s["url"] for s in spec["servers"]] == [
        "https://api-stage.novapost.pl/v.1.0",
        "https://api.novapost.com/v.1.0",
    ]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["JWT"] == {
        **schemes["JWT"],
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
    }
    assert schemes["ApiKeyAuth"]["in"] == "query" and schemes["ApiKeyAuth"]["name"] == "apiKey"
    # The '' property became a string map.
    errors = spec["components"]["schemas"]["Error"]["properties"]["errors"]
    assert errors == {"type": "object", "additionalProperties": {"type": "string"}}
    # Token routes are public, and have names.
    create = spec["paths"]["/test-api-keys"]["post"]
    mint = spec["paths"]["/clients/authorization"]["get"]
    assert create["security"] == [] and mint["security"] == []
    assert create["operationId"] == "post_test_api_keys"
    assert mint["operationId"] == "get_clients_authorization"
    phone = create["requestBody"]["content"]["application/json"]["schema"]["properties"]["phone"]
    assert phone["pattern"] == "^49[0-9]{9,10}$"
    # The link that drives stateful tests.
    link = create["responses"]["200"]["links"]["GenerateJwt"]
    assert link == {
        **link,
        "operationId": mint["operationId"],
        "parameters": {"apiKey": "$response.body#/apiKey"},
    }
    # The JWT response is named and jwt is required; 'format: json' is gone.
    assert mint["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JwtResponse"
    }
    jwt_schema = spec["components"]["schemas"]["JwtResponse"]
    assert jwt_schema["required"] == ["jwt"] and "format" not in jwt_schema["properties"]["jwt"]
    # Every fix is recorded with its reason.
    assert set(spec["x-vendored-fixes"]) == {f.name for f in vendor.FIXES}
    assert all(entry["reason"].strip() for entry in spec["x-vendored-fixes"].values())


# --------------------------------------------------------------------------- more pages


def test_second_page_merges_without_code_change(pages: Path, tmp_path: Path) -> None:
    (pages / "shipments.md").write_text(page(SHIPMENTS_FRAGMENT), encoding="utf-8")
    out = tmp_path / "openapi.json"
    assert run(pages, out) == 0
    spec = json.loads(out.read_text(encoding="utf-8"))

    assert {
        "/test-api-keys",
        "/clients/authorization",
        "/shipments",
        "/shipments/{id}/label",
    } == set(spec["paths"])
    listing = spec["paths"]["/shipments"]["get"]
    # Non-auth operations need the JWT.
    assert listing["security"] == [{"JWT": []}]
    assert spec["paths"]["/shipments"]["delete"]["security"] == [{"JWT": []}]
    assert listing["operationId"] == "get_shipments"
    assert spec["paths"]["/shipments/{id}/label"]["get"]["operationId"] == "get_shipments_id_label"
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["ids[]"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert params["createdFrom"]["schema"]["format"] == "date-time"
    body = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["required"] == ["items", "total"]
    assert body["example"] == {"items": ["a"], "total": 1}
    # Vendor extensions survive; the identical Error component merged silently.
    assert listing["x-autoAuth"] is True
    assert spec["paths"]["/shipments"]["delete"]["x-business-rules"] == ["only drafts"]
    assert spec["components"]["schemas"]["Error"]["properties"]["errors"][
        "additionalProperties"
    ] == {"type": "string"}
    assert spec["components"]["responses"]["Unauthorized"]["description"] == "Unauthorized"


def test_pages_are_read_in_name_order_whatever_the_directory_order(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for d in (one, two):
        shutil.copytree(PAGES, d)
    (one / "zz-shipments.md").write_text(page(SHIPMENTS_FRAGMENT), encoding="utf-8")
    (two / "zz-shipments.md").write_text(page(SHIPMENTS_FRAGMENT), encoding="utf-8")
    assert vendor.build(one) == vendor.build(two)


def test_one_page_with_several_blocks_and_other_fences(tmp_path: Path) -> None:
    d = tmp_path / "pages"
    d.mkdir()
    text = (PAGES / "authorization.md").read_text(encoding="utf-8")
    extra = "\n```bash\ncurl -X GET https://example.invalid\n```\n\n" + page(SHIPMENTS_FRAGMENT)
    (d / "all.md").write_text(text + extra, encoding="utf-8")
    spec = json.loads(vendor.build(d))
    assert "/shipments" in spec["paths"] and "/test-api-keys" in spec["paths"]


# --------------------------------------------------------------------------- bad input


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An existing output file: bad input must leave it byte for byte as it was."""
    target = tmp_path / "openapi.json"
    target.write_text('{"sentinel": true}\n', encoding="utf-8")
    return target


def assert_failed(capsys: pytest.CaptureFixture[str], code: int, out: Path, *needles: str) -> None:
    err = capsys.readouterr().err
    assert code == 1
    for needle in needles:
        assert needle in err, err
    assert out.read_text(encoding="utf-8") == '{"sentinel": true}\n'
    assert [p.name for p in out.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_page_without_json_block(
    pages: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pages / "empty.md").write_text("# Nothing\n\n```bash\necho hi\n```\n", encoding="utf-8")
    assert_failed(capsys, run(pages, out), out, "empty.md", "no ```json block")


def test_malformed_block_names_file_and_line(
    pages: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = '{\n  "openapi": "3.0.0",\n  "paths": {,\n}\n}'
    (pages / "broken.md").write_text(
        "# Broken\n\nprose\n\n```json\n" + broken + "\n```\n", encoding="utf-8"
    )
    # The block opens on line 5, so its third line ('"paths": {,') is line 8 of the page.
    assert_failed(capsys, run(pages, out), out, "broken.md:8", "malformed JSON")


def test_block_that_is_not_a_fragment(
    pages: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pages / "sample.md").write_text(page('{"success": true}'), encoding="utf-8")
    assert_failed(capsys, run(pages, out), out, "sample.md:", "not an OpenAPI fragment")


def test_unclosed_fence(pages: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (pages / "open.md").write_text("# Open\n\n```json\n{}\n", encoding="utf-8")
    assert_failed(capsys, run(pages, out), out, "open.md:3", "never closed")


def test_conflicting_component_names_both_pages(
    pages: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = json.loads(json.dumps(SHIPMENTS_FRAGMENT))
    other["components"]["schemas"]["Error"] = {
        "type": "object",
        "properties": {"message": {"type": "string"}},
    }
    (pages / "shipments.md").write_text(page(other), encoding="utf-8")
    assert_failed(
        capsys, run(pages, out), out, "schemas/", "'Error'", "authorization.md:", "shipments.md:"
    )


def test_conflicting_operation(pages: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = json.loads((ROOT / "specs/novapost/openapi.json").read_text(encoding="utf-8"))
    op = spec["paths"]["/test-api-keys"]["post"]
    frag = {
        "openapi": "3.0.0",
        "info": {},
        "paths": {"/test-api-keys": {"post": {**op, "summary": "other"}}},
    }
    (pages / "zz.md").write_text(page(frag), encoding="utf-8")
    assert_failed(capsys, run(pages, out), out, "'/test-api-keys'", "'post'", "zz.md:")


def test_invalid_merged_spec(pages: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frag = {"openapi": "3.0.0", "paths": {"/broken": {"get": {"summary": "no responses"}}}}
    (pages / "broken.md").write_text(page(frag), encoding="utf-8")
    assert_failed(capsys, run(pages, out), out, "not valid OpenAPI", "/broken")


def test_no_pages(tmp_path: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "none"
    empty.mkdir()
    assert_failed(capsys, run(empty, out), out, "no docs pages")


def test_check_mode_reports_stale_output(
    pages: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_failed(capsys, run(pages, out, "--check"), out, "stale")


def test_pages_of_several_directories_merge_and_a_name_in_two_is_refused(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    pages = sorted(PAGES.glob("*.md"))
    shutil.copyfile(pages[0], first / pages[0].name)
    assert vendor.build(first, second) == vendor.build(PAGES)
    shutil.copyfile(pages[0], second / pages[0].name)
    with pytest.raises(vendor.VendorError, match=f"{pages[0].name}: in both"):
        vendor.build(first, second)
