"""Schemathesis hooks loaded into every contract run (``SCHEMATHESIS_HOOKS``).

``CONTRACT_EXAMPLES`` (set by the runner from the carrier registry) become
explicit examples, so that the success paths of every target are reached and not
only its 4xx, and against the mocks the fixture inputs that answer documented
errors too. The docs' rules of the carrier under test become checks (``rules``),
and so does the consistency of what the server keeps (``consistency``).
When ``CONTRACT_API_KEY`` is set, operations declaring the carrier's JWT scheme get
the wrapper's tokens (``wrapper_auth``).
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from schemathesis import Case, HookContext
from schemathesis.auths import AuthContext, set_on_case

_CASE_ARGUMENT = {"query": "query", "header": "headers", "path": "path_parameters"}
"""Where a ``KnownInput`` location goes in ``operation.Case(...)`` (``body`` apart)."""


def _examples(label: str) -> list[dict[str, Any]]:
    """Request parts of the explicit examples of an operation ("METHOD /path").

    An example is one input (``location``, ``name``, ``value``) or a whole request
    (``case``: the arguments of ``operation.Case``).
    """
    parts: list[dict[str, Any]] = []
    for item in json.loads(os.environ.get("CONTRACT_EXAMPLES") or "[]"):
        if item.get("operation") != label:
            continue
        if "case" in item:
            parts.append(item["case"])
            continue
        location, name, value = item["location"], item["name"], item["value"]
        if location == "body":
            parts.append({"body": {name: value}, "media_type": "application/json"})
        elif location in _CASE_ARGUMENT:
            parts.append({_CASE_ARGUMENT[location]: {name: value}})
    return parts


@schemathesis.hook
def before_add_examples(context: HookContext, examples: list[Case[Any]]) -> None:
    operation = context.operation
    if operation is None:
        return
    for parts in _examples(operation.label):
        case = operation.Case(**parts)
        # Schemathesis authenticates the cases it generates, not the ones added here:
        # the run's auth providers (wrapper_auth) are applied as to any other case.
        set_on_case(case, AuthContext(operation=operation, app=None), None)
        examples.append(case)


if os.environ.get("CONTRACT_CARRIER"):
    from carriers_contract import rules

    rules.register(os.environ["CONTRACT_CARRIER"])

if os.environ.get("CONTRACT_CARRIER") and os.environ.get("CONTRACT_SPEC"):
    from carriers_contract import consistency

    consistency.register(os.environ["CONTRACT_SPEC"], os.environ["CONTRACT_CARRIER"])

if os.environ.get("CONTRACT_API_KEY"):
    from carriers_contract import wrapper_auth

    wrapper_auth.register()
