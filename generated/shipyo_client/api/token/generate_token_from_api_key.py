from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.token_envelope import TokenEnvelope
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/Token/generate-from-apikey",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | TokenEnvelope | None:
    if response.status_code == 200:
        response_200 = TokenEnvelope.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorEnvelope.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = ErrorEnvelope.from_dict(response.json())

        return response_422

    if response.status_code == 500:
        response_500 = ErrorEnvelope.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorEnvelope | TokenEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def build_request() -> dict[str, Any]:
    """The keyword arguments of ``httpx.Client.request`` for this operation (method,
    url relative to the base URL, params, headers, body), for callers that send it
    themselves."""
    return _get_kwargs()


def parse_response(
    response: httpx.Response, *, raise_on_unexpected_status: bool = False
) -> Response[ErrorEnvelope | TokenEnvelope]:
    """The typed response for a received ``response`` (its body read): the model of
    its status, or ``parsed=None`` for a status the spec does not document (with
    ``raise_on_unexpected_status``, ``errors.UnexpectedStatus`` instead)."""
    return _build_response(
        client=_PARSERS[raise_on_unexpected_status], response=response
    )


# what _build_response reads of a client: only raise_on_unexpected_status
_PARSERS = {
    flag: Client(base_url="", raise_on_unexpected_status=flag) for flag in (False, True)
}


def sync_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[ErrorEnvelope | TokenEnvelope]:
    """Generate Token from API Key

     Generates a JWT token based on a validated API key. Only the `x-api-key`
    header is required ("API Key Only" authentication). The API key must be
    active and not expired. The returned JWT is used for subsequent
    authenticated requests; this is meant for server-to-server authentication.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | TokenEnvelope]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
) -> ErrorEnvelope | TokenEnvelope | None:
    """Generate Token from API Key

     Generates a JWT token based on a validated API key. Only the `x-api-key`
    header is required ("API Key Only" authentication). The API key must be
    active and not expired. The returned JWT is used for subsequent
    authenticated requests; this is meant for server-to-server authentication.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | TokenEnvelope
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[ErrorEnvelope | TokenEnvelope]:
    """Generate Token from API Key

     Generates a JWT token based on a validated API key. Only the `x-api-key`
    header is required ("API Key Only" authentication). The API key must be
    active and not expired. The returned JWT is used for subsequent
    authenticated requests; this is meant for server-to-server authentication.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | TokenEnvelope]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
) -> ErrorEnvelope | TokenEnvelope | None:
    """Generate Token from API Key

     Generates a JWT token based on a validated API key. Only the `x-api-key`
    header is required ("API Key Only" authentication). The API key must be
    active and not expired. The returned JWT is used for subsequent
    authenticated requests; this is meant for server-to-server authentication.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | TokenEnvelope
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed


if TYPE_CHECKING:

    def facade_call() -> TokenEnvelope:
        """How ``carriers`` types ``facade.call(<this module>, ...)``: the arguments
        without ``client``, the 2xx model as the result (type checkers only)."""
