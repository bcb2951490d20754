"""Schemathesis hooks loaded into every contract run (``SCHEMATHESIS_HOOKS``).

The known-good inputs (``CONTRACT_NOVAPOST_PHONE``, ``CONTRACT_NOVAPOST_API_KEY``)
become explicit examples, so that the success paths of a URL or live target are
reached and not only its 4xx (Shipyo's key goes in as OpenAPI-aware auth instead).
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis import Case, HookContext


def _known_good(label: str) -> list[dict[str, Any]]:
    """Request parts that should reach the success path of an operation."""
    env = os.environ
    if label == "POST /test-api-keys" and env.get("CONTRACT_NOVAPOST_PHONE"):
        return [
            {"body": {"phone": env["CONTRACT_NOVAPOST_PHONE"]}, "media_type": "application/json"}
        ]
    if label == "GET /clients/authorization" and env.get("CONTRACT_NOVAPOST_API_KEY"):
        return [{"query": {"apiKey": env["CONTRACT_NOVAPOST_API_KEY"]}}]
    return []


@schemathesis.hook
def before_add_examples(context: HookContext, examples: list[Case[Any]]) -> None:
    operation = context.operation
    if operation is None:
        return
    for parts in _known_good(operation.label):
        examples.append(operation.Case(**parts))


if os.environ.get("CONTRACT_WRAPPER_AUTH") == "1":
    from contract_tests import wrapper_auth

    wrapper_auth.register()
