"""Nova Post and Shipyo clients with the JWT handled, retries and typed errors.

from carriers import NovaPost, Shipyo

np = NovaPost(api_key="...")          # or NOVAPOST_API_KEY; environment="production"
np.jwt()                              # a valid JWT, minted or cached
np.call(endpoint, **arguments)        # a generated endpoint: its 2xx model, or a typed error
np.request("GET", "/path")            # any other request, sent the same way
np.client                             # novapost_client.AuthenticatedClient, auth installed
sh = Shipyo(api_key="ak_...")         # or SHIPYO_API_KEY; environment="staging"

Names are imported on first use, so ``import carriers`` (and ``carriers --version``,
``carriers.registry``) does not load httpx or the generated clients.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from . import errors, registry
    from ._base import Carrier
    from ._raw import RawResponse
    from .aiohttp_transport import AiohttpTransport
    from .auth import JWTAuth, NovaPostAuth, ShipyoAuth
    from .errors import (
        APIConnectionError,
        APIError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        CarrierError,
        ConfigurationError,
        ConflictError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        ResponseTooLargeError,
        ResponseValidationError,
        ServiceUnavailableError,
        UnprocessableEntityError,
    )
    from .keystore import KeyStore, KeyStoreError, StoredKey
    from .novapost import NovaPost
    from .options import Options
    from .redaction import RedactingFilter, install_redaction
    from .registry import CarrierInfo
    from .retries import RetryPolicy
    from .shipyo import Shipyo

_ERRORS = (
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CarrierError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ServiceUnavailableError",
    "UnprocessableEntityError",
)
_WHERE: dict[str, str] = {
    **dict.fromkeys(_ERRORS, "errors"),
    "Carrier": "_base",
    "AiohttpTransport": "aiohttp_transport",
    "JWTAuth": "auth",
    "NovaPostAuth": "auth",
    "ShipyoAuth": "auth",
    "KeyStore": "keystore",
    "KeyStoreError": "keystore",
    "StoredKey": "keystore",
    "NovaPost": "novapost",
    "Options": "options",
    "RawResponse": "_raw",
    "RedactingFilter": "redaction",
    "install_redaction": "redaction",
    "CarrierInfo": "registry",
    "RetryPolicy": "retries",
    "Shipyo": "shipyo",
}
_SUBMODULES = ("errors", "registry")

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AiohttpTransport",
    "AuthenticationError",
    "BadRequestError",
    "Carrier",
    "CarrierError",
    "CarrierInfo",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "JWTAuth",
    "KeyStore",
    "KeyStoreError",
    "NotFoundError",
    "NovaPost",
    "NovaPostAuth",
    "Options",
    "PermissionDeniedError",
    "RateLimitError",
    "RawResponse",
    "RedactingFilter",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RetryPolicy",
    "ServiceUnavailableError",
    "Shipyo",
    "ShipyoAuth",
    "StoredKey",
    "UnprocessableEntityError",
    "__version__",
    "errors",
    "install_redaction",
    "registry",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'carriers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
