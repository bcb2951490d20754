"""Nova Post and Shipyo clients with the JWT handled, retries and typed errors.

from carriers import NovaPost, Shipyo

np = NovaPost(api_key="...")          # or NOVAPOST_API_KEY; environment="production"
np.jwt()                              # a valid JWT, minted or cached
np.client                             # novapost_client.AuthenticatedClient, auth installed
sh = Shipyo(api_key="ak_...")         # or SHIPYO_API_KEY; environment="staging"
"""

from . import errors
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
    ResponseValidationError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)
from .keystore import KeyStore, StoredKey
from .novapost import NovaPost
from .redaction import RedactingFilter, install_redaction
from .retries import RetryPolicy
from .shipyo import Shipyo

__all__ = [
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
    "JWTAuth",
    "KeyStore",
    "NotFoundError",
    "NovaPost",
    "NovaPostAuth",
    "PermissionDeniedError",
    "RateLimitError",
    "RedactingFilter",
    "ResponseValidationError",
    "RetryPolicy",
    "ServiceUnavailableError",
    "Shipyo",
    "ShipyoAuth",
    "StoredKey",
    "UnprocessableEntityError",
    "errors",
    "install_redaction",
]
