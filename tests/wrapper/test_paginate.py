"""paginate()/apaginate(): every item of every page, and no endless walks.

Served by respx in Nova Post's list shape (``tests/wrapper/paged_api.py``): the
walk's stops (last_page, an empty page, a server that lies about last_page, one
that repeats or rewinds its pages), the deadline per page, and asyncio.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from carriers import errors
from novapost_client.api.authorization import get_clients_authorization

from .conftest import TokenIssuer
from .paged_api import PagedApi, endpoint


def register(n: int) -> dict[str, Any]:
    return {"id": f"r{n}", "number": f"N-{n:03}", "responsiblePerson": n}


def page(current: int, last: int, numbers: list[int], per_page: int = 2) -> dict[str, Any]:
    return {
        "current_page": current,
        "last_page": last,
        "per_page": per_page,
        "total": last * per_page,
        "items": [register(n) for n in numbers],
    }


class Pages:
    """A list route that answers from ``answers`` by the page asked (or in turn)."""

    def __init__(self, answers: dict[int, dict[str, Any]] | list[dict[str, Any]]) -> None:
        self.answers = answers
        self.asked: list[dict[str, str]] = []
        self.delay = 0.0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(dict(request.url.params))
        if self.delay:
            time.sleep(self.delay)
        if isinstance(self.answers, list):
            body = self.answers[min(len(self.asked), len(self.answers)) - 1]
        else:
            body = self.answers[int(request.url.params["page"])]
        return httpx.Response(200, json=body)


THREE = {1: page(1, 3, [1, 2]), 2: page(2, 3, [3, 4]), 3: page(3, 3, [5])}


@pytest.fixture
def registers(paged_router: respx.MockRouter, paged_tokens: TokenIssuer) -> Callable[..., Pages]:
    def serve(answers: Any) -> Pages:
        pages = Pages(answers)
        paged_router.get("/registers").mock(side_effect=pages)
        return pages

    return serve


def numbers(items: list[Any]) -> list[str]:
    return [item.number for item in items]


def test_every_item_of_every_page_up_to_last_page(
    make_paged: Callable[..., PagedApi], registers: Callable[..., Pages]
) -> None:
    served = registers(THREE)
    items = list(make_paged().paginate(endpoint("registers.list_registers"), limit=2, number="N"))
    assert numbers(items) == ["N-001", "N-002", "N-003", "N-004", "N-005"]
    assert [type(item).__name__ for item in items] == ["Register"] * 5
    assert served.asked == [{"page": str(p), "limit": "2", "number": "N"} for p in (1, 2, 3)]


def test_starts_at_the_page_given_and_fetches_lazily(
    make_paged: Callable[..., PagedApi], registers: Callable[..., Pages]
) -> None:
    served = registers(THREE)
    walk = make_paged().paginate(endpoint("registers.list_registers"), page=2)
    assert served.asked == []  # nothing before the first item is asked for
    assert next(walk).number == "N-003"
    assert [a["page"] for a in served.asked] == ["2"]
    assert numbers(list(walk)) == ["N-004", "N-005"]
    assert [a["page"] for a in served.asked] == ["2", "3"]


def test_an_empty_page_ends_the_walk(
    make_paged: Callable[..., PagedApi], registers: Callable[..., Pages]
) -> None:
    served = registers({1: page(1, 1, [])})
    assert list(make_paged().paginate(endpoint("registers.list_registers"))) == []
    assert len(served.asked) == 1


def test_a_server_that_lies_about_last_page_is_walked_to_its_first_empty_page(
    make_paged: Callable[..., PagedApi], registers: Callable[..., Pages]
) -> None:
    served = registers({1: page(1, 50, [1, 2]), 2: page(2, 50, [3]), 3: page(3, 50, [])})
    items = list(make_paged().paginate(endpoint("registers.list_registers")))
    assert numbers(items) == ["N-001", "N-002", "N-003"]
    assert len(served.asked) == 3


def test_a_server_that_repeats_a_page_stops_the_walk_with_one_warning(
    make_paged: Callable[..., PagedApi],
    registers: Callable[..., Pages],
    caplog: pytest.LogCaptureFixture,
) -> None:
    served = registers([page(1, 3, [1, 2])])  # ignores ?page=: always page 1 of 3
    with caplog.at_level(logging.WARNING, logger="carriers"):
        items = list(make_paged().paginate(endpoint("registers.list_registers")))
    assert numbers(items) == ["N-001", "N-002"]  # page 1 once, not again
    assert len(served.asked) == 2
    (record,) = [r for r in caplog.records if r.name == "carriers"]
    assert "list_registers: asked for page 2 after page 1" in record.getMessage()
    assert "current_page 1" in record.getMessage()


@pytest.mark.parametrize(
    "answers",
    [
        [page(1, 3, [1, 2])],  # the same page again
        [page(2, 3, [1, 2]), page(1, 3, [3])],  # a page that goes back
    ],
    ids=["repeated", "rewound"],
)
def test_pages_that_do_not_advance_raise_under_strict_responses(
    make_paged: Callable[..., PagedApi], registers: Callable[..., Pages], answers: Any
) -> None:
    served = registers(answers)
    walk = make_paged(strict_responses=True).paginate(endpoint("registers.list_registers"))
    assert len(numbers([next(walk), next(walk)])) == 2
    with pytest.raises(errors.ResponseValidationError, match="the pages do not advance"):
        next(walk)
    assert len(served.asked) == 2


def test_a_page_without_last_page_ends_the_walk(
    make_paged: Callable[..., PagedApi], registers: Callable[..., Pages]
) -> None:
    body = page(1, 3, [1])
    del body["last_page"]  # the server does not say how far it goes: one page
    served = registers([body, page(2, 3, [2])])
    items = list(make_paged().paginate(endpoint("registers.list_registers")))
    # last_page is required: the model could not be built, the items are the JSON's
    assert items == [register(1)]
    assert len(served.asked) == 1


def test_each_page_has_its_own_deadline(
    make_paged: Callable[..., PagedApi], registers: Callable[..., Pages]
) -> None:
    served = registers(THREE)
    served.delay = 0.25
    np = make_paged(deadline=0.6)
    np.jwt()
    started = time.monotonic()
    assert len(list(np.paginate(endpoint("registers.list_registers")))) == 5
    assert time.monotonic() - started >= 0.75  # longer than one deadline, no page past one
    served.asked.clear()
    served.delay = 0.7
    with pytest.raises(errors.APITimeoutError, match="Deadline reached"):
        list(np.paginate(endpoint("registers.list_registers")))
    assert len(served.asked) == 1


async def test_apaginate_walks_the_same_pages(
    make_paged: Callable[..., PagedApi], registers: Callable[..., Pages]
) -> None:
    served = registers(THREE)
    np = make_paged()
    items = [item async for item in np.apaginate(endpoint("registers.list_registers"), limit=2)]
    assert numbers(items) == ["N-001", "N-002", "N-003", "N-004", "N-005"]
    assert [a["page"] for a in served.asked] == ["1", "2", "3"]
    served.asked.clear()
    served.answers = [page(1, 3, [1])]
    repeated = [item async for item in np.apaginate(endpoint("registers.list_registers"))]
    assert numbers(repeated) == ["N-001"]
    assert len(served.asked) == 2
    await np.aclose()


def test_a_non_paged_endpoint_is_a_type_error_naming_what_is_missing(
    make_paged: Callable[..., PagedApi], paged_router: respx.MockRouter
) -> None:
    np = make_paged()
    with pytest.raises(TypeError) as caught:
        np.paginate(endpoint("registers.get_register"), id="r1")  # type: ignore[arg-type]
    message = str(caught.value)
    assert "pagedapi_client.api.registers.get_register is not a paged list" in message
    assert "'page'" in message and "'limit'" in message
    assert "current_page, last_page, items" in message
    with pytest.raises(TypeError, match="get_clients_authorization is not a paged list"):
        np.apaginate(get_clients_authorization, api_key="k")  # type: ignore[arg-type]
    assert len(paged_router.calls) == 0  # refused before any request
