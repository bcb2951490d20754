from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.error_response import ErrorResponse
from ...models.post_test_api_keys_body import PostTestApiKeysBody
from ...models.test_api_key_response import TestApiKeyResponse
from ...types import Response


def _get_kwargs(
    *,
    body: PostTestApiKeysBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/test-api-keys",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | ErrorResponse | TestApiKeyResponse | None:
    if response.status_code == 200:
        response_200 = TestApiKeyResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())

        return response_409

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | ErrorResponse | TestApiKeyResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def build_request(
    *,
    body: PostTestApiKeysBody,
) -> dict[str, Any]:
    """The keyword arguments of ``httpx.Client.request`` for this operation (method,
    url relative to the base URL, params, headers, body), for callers that send it
    themselves."""
    return _get_kwargs(
        body=body,
    )


def parse_response(
    response: httpx.Response, *, raise_on_unexpected_status: bool = False
) -> Response[Error | ErrorResponse | TestApiKeyResponse]:
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
    client: AuthenticatedClient | Client,
    body: PostTestApiKeysBody,
) -> Response[Error | ErrorResponse | TestApiKeyResponse]:
    """Create or renew a test API key (Sandbox only)

     Public endpoint available only in non-production environments (Sandbox)
    to create or renew a test API key for a client identified by phone.

    Requirements:
    - The phone number must be registered in the Client Portal (EBC): https://my.novapost.com/
    - UA key generation is currently not supported

    Behavior:
    - If a key already exists and is Active, a repeated call within the same day
      will return the same key
    - If expired, the key will be reactivated with a new expiration date
    - If deleted by cleanup, a new key will be created
    - Only one active key is allowed per phone, limited to one request per day

    Next step:
    After receiving the apiKey, you must generate a temporary JWT by calling
    [GET /clients/authorization](https://api-portal.novapost.com/novaposhta-docs/integration-guide/how-
    to-generate-a-jwt-token). The JWT is required for all authorized requests.
    Paste the jwt into the **[Authorize](https://api.novapost.com/developers/index.html#auth)** dialog
    under the `JWT` scheme
    in this documentation to enable Try-it-out.</br>

    🔹**Description of control elements:**

    **SCHEMA**</br>
    Displays the full technical structure of the request or response, including field names, data types,
    required fields, allowed values, and validation rules.
    - **Single line description**</br>
      A description that fits into a single line; any text that does not fit remains hidden.
    - **Multiline description**</br>
      An expanded description that displays more than one line of text.

    **EXAMPLE**</br>
    Shows a ready-made sample JSON with correctly formatted values to demonstrate how a valid request or
    response should look.

    Args:
        body (PostTestApiKeysBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ErrorResponse | TestApiKeyResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: PostTestApiKeysBody,
) -> Error | ErrorResponse | TestApiKeyResponse | None:
    """Create or renew a test API key (Sandbox only)

     Public endpoint available only in non-production environments (Sandbox)
    to create or renew a test API key for a client identified by phone.

    Requirements:
    - The phone number must be registered in the Client Portal (EBC): https://my.novapost.com/
    - UA key generation is currently not supported

    Behavior:
    - If a key already exists and is Active, a repeated call within the same day
      will return the same key
    - If expired, the key will be reactivated with a new expiration date
    - If deleted by cleanup, a new key will be created
    - Only one active key is allowed per phone, limited to one request per day

    Next step:
    After receiving the apiKey, you must generate a temporary JWT by calling
    [GET /clients/authorization](https://api-portal.novapost.com/novaposhta-docs/integration-guide/how-
    to-generate-a-jwt-token). The JWT is required for all authorized requests.
    Paste the jwt into the **[Authorize](https://api.novapost.com/developers/index.html#auth)** dialog
    under the `JWT` scheme
    in this documentation to enable Try-it-out.</br>

    🔹**Description of control elements:**

    **SCHEMA**</br>
    Displays the full technical structure of the request or response, including field names, data types,
    required fields, allowed values, and validation rules.
    - **Single line description**</br>
      A description that fits into a single line; any text that does not fit remains hidden.
    - **Multiline description**</br>
      An expanded description that displays more than one line of text.

    **EXAMPLE**</br>
    Shows a ready-made sample JSON with correctly formatted values to demonstrate how a valid request or
    response should look.

    Args:
        body (PostTestApiKeysBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ErrorResponse | TestApiKeyResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: PostTestApiKeysBody,
) -> Response[Error | ErrorResponse | TestApiKeyResponse]:
    """Create or renew a test API key (Sandbox only)

     Public endpoint available only in non-production environments (Sandbox)
    to create or renew a test API key for a client identified by phone.

    Requirements:
    - The phone number must be registered in the Client Portal (EBC): https://my.novapost.com/
    - UA key generation is currently not supported

    Behavior:
    - If a key already exists and is Active, a repeated call within the same day
      will return the same key
    - If expired, the key will be reactivated with a new expiration date
    - If deleted by cleanup, a new key will be created
    - Only one active key is allowed per phone, limited to one request per day

    Next step:
    After receiving the apiKey, you must generate a temporary JWT by calling
    [GET /clients/authorization](https://api-portal.novapost.com/novaposhta-docs/integration-guide/how-
    to-generate-a-jwt-token). The JWT is required for all authorized requests.
    Paste the jwt into the **[Authorize](https://api.novapost.com/developers/index.html#auth)** dialog
    under the `JWT` scheme
    in this documentation to enable Try-it-out.</br>

    🔹**Description of control elements:**

    **SCHEMA**</br>
    Displays the full technical structure of the request or response, including field names, data types,
    required fields, allowed values, and validation rules.
    - **Single line description**</br>
      A description that fits into a single line; any text that does not fit remains hidden.
    - **Multiline description**</br>
      An expanded description that displays more than one line of text.

    **EXAMPLE**</br>
    Shows a ready-made sample JSON with correctly formatted values to demonstrate how a valid request or
    response should look.

    Args:
        body (PostTestApiKeysBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ErrorResponse | TestApiKeyResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: PostTestApiKeysBody,
) -> Error | ErrorResponse | TestApiKeyResponse | None:
    """Create or renew a test API key (Sandbox only)

     Public endpoint available only in non-production environments (Sandbox)
    to create or renew a test API key for a client identified by phone.

    Requirements:
    - The phone number must be registered in the Client Portal (EBC): https://my.novapost.com/
    - UA key generation is currently not supported

    Behavior:
    - If a key already exists and is Active, a repeated call within the same day
      will return the same key
    - If expired, the key will be reactivated with a new expiration date
    - If deleted by cleanup, a new key will be created
    - Only one active key is allowed per phone, limited to one request per day

    Next step:
    After receiving the apiKey, you must generate a temporary JWT by calling
    [GET /clients/authorization](https://api-portal.novapost.com/novaposhta-docs/integration-guide/how-
    to-generate-a-jwt-token). The JWT is required for all authorized requests.
    Paste the jwt into the **[Authorize](https://api.novapost.com/developers/index.html#auth)** dialog
    under the `JWT` scheme
    in this documentation to enable Try-it-out.</br>

    🔹**Description of control elements:**

    **SCHEMA**</br>
    Displays the full technical structure of the request or response, including field names, data types,
    required fields, allowed values, and validation rules.
    - **Single line description**</br>
      A description that fits into a single line; any text that does not fit remains hidden.
    - **Multiline description**</br>
      An expanded description that displays more than one line of text.

    **EXAMPLE**</br>
    Shows a ready-made sample JSON with correctly formatted values to demonstrate how a valid request or
    response should look.

    Args:
        body (PostTestApiKeysBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ErrorResponse | TestApiKeyResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed


if TYPE_CHECKING:

    def facade_call(
        *,
        body: PostTestApiKeysBody,
    ) -> TestApiKeyResponse:
        """How ``carriers`` types ``facade.call(<this module>, ...)``: the arguments
        without ``client``, the 2xx model as the result (type checkers only)."""
