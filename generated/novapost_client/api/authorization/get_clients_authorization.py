from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.jwt_response import JwtResponse
from ...types import UNSET, Response


def _get_kwargs(
    *,
    api_key: str,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["apiKey"] = api_key

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/clients/authorization",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | JwtResponse | None:
    if response.status_code == 200:
        response_200 = JwtResponse.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | JwtResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def build_request(
    *,
    api_key: str,
) -> dict[str, Any]:
    """The keyword arguments of ``httpx.Client.request`` for this operation (method,
    url relative to the base URL, params, headers, body), for callers that send it
    themselves."""
    return _get_kwargs(
        api_key=api_key,
    )


def parse_response(
    response: httpx.Response, *, raise_on_unexpected_status: bool = False
) -> Response[Error | JwtResponse]:
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
    api_key: str,
) -> Response[Error | JwtResponse]:
    """Generate a temporary JWT-token

     Issues a temporary JWT-token for making authorized API requests.
    A valid apiKey must be provided as a query parameter.

    How to obtain an apiKey:
    - In Sandbox, use POST `/test-api-keys` with a registered phone number
      from the Client Portal (EBC): https://my.novapost.com/
    - In PROD, use your personal apiKey provided by your manager

    Usage:
    - Call GET `/clients/authorization?apiKey={apiKey}`
    - On success, copy the jwt from the response
    - Open the **[Authorize](https://api.novapost.com/developers/index.html#auth)** dialog in this
    documentation, select the `JWT` scheme,
      and paste the jwt
    - All Try-it-out requests will then automatically include
      `Authorization: {jwt}`

    Notes:
    - The jwt is valid for ~1 hour; request a new one after expiry
    - Do not store jwt beyond its TTL
    - The `/test-api-keys` route is not available in PROD</br>

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
        api_key (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | JwtResponse]
    """

    kwargs = _get_kwargs(
        api_key=api_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    api_key: str,
) -> Error | JwtResponse | None:
    """Generate a temporary JWT-token

     Issues a temporary JWT-token for making authorized API requests.
    A valid apiKey must be provided as a query parameter.

    How to obtain an apiKey:
    - In Sandbox, use POST `/test-api-keys` with a registered phone number
      from the Client Portal (EBC): https://my.novapost.com/
    - In PROD, use your personal apiKey provided by your manager

    Usage:
    - Call GET `/clients/authorization?apiKey={apiKey}`
    - On success, copy the jwt from the response
    - Open the **[Authorize](https://api.novapost.com/developers/index.html#auth)** dialog in this
    documentation, select the `JWT` scheme,
      and paste the jwt
    - All Try-it-out requests will then automatically include
      `Authorization: {jwt}`

    Notes:
    - The jwt is valid for ~1 hour; request a new one after expiry
    - Do not store jwt beyond its TTL
    - The `/test-api-keys` route is not available in PROD</br>

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
        api_key (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | JwtResponse
    """

    return sync_detailed(
        client=client,
        api_key=api_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    api_key: str,
) -> Response[Error | JwtResponse]:
    """Generate a temporary JWT-token

     Issues a temporary JWT-token for making authorized API requests.
    A valid apiKey must be provided as a query parameter.

    How to obtain an apiKey:
    - In Sandbox, use POST `/test-api-keys` with a registered phone number
      from the Client Portal (EBC): https://my.novapost.com/
    - In PROD, use your personal apiKey provided by your manager

    Usage:
    - Call GET `/clients/authorization?apiKey={apiKey}`
    - On success, copy the jwt from the response
    - Open the **[Authorize](https://api.novapost.com/developers/index.html#auth)** dialog in this
    documentation, select the `JWT` scheme,
      and paste the jwt
    - All Try-it-out requests will then automatically include
      `Authorization: {jwt}`

    Notes:
    - The jwt is valid for ~1 hour; request a new one after expiry
    - Do not store jwt beyond its TTL
    - The `/test-api-keys` route is not available in PROD</br>

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
        api_key (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | JwtResponse]
    """

    kwargs = _get_kwargs(
        api_key=api_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    api_key: str,
) -> Error | JwtResponse | None:
    """Generate a temporary JWT-token

     Issues a temporary JWT-token for making authorized API requests.
    A valid apiKey must be provided as a query parameter.

    How to obtain an apiKey:
    - In Sandbox, use POST `/test-api-keys` with a registered phone number
      from the Client Portal (EBC): https://my.novapost.com/
    - In PROD, use your personal apiKey provided by your manager

    Usage:
    - Call GET `/clients/authorization?apiKey={apiKey}`
    - On success, copy the jwt from the response
    - Open the **[Authorize](https://api.novapost.com/developers/index.html#auth)** dialog in this
    documentation, select the `JWT` scheme,
      and paste the jwt
    - All Try-it-out requests will then automatically include
      `Authorization: {jwt}`

    Notes:
    - The jwt is valid for ~1 hour; request a new one after expiry
    - Do not store jwt beyond its TTL
    - The `/test-api-keys` route is not available in PROD</br>

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
        api_key (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | JwtResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            api_key=api_key,
        )
    ).parsed


if TYPE_CHECKING:

    def facade_call(
        *,
        api_key: str,
    ) -> JwtResponse:
        """How ``carriers`` types ``facade.call(<this module>, ...)``: the arguments
        without ``client``, the 2xx model as the result (type checkers only)."""
