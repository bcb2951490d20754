"""Contains all the data models used in inputs/outputs"""

from .error import Error
from .error_errors import ErrorErrors
from .error_response import ErrorResponse
from .jwt_response import JwtResponse
from .post_test_api_keys_body import PostTestApiKeysBody
from .test_api_key_response import TestApiKeyResponse
from .test_api_key_response_status import TestApiKeyResponseStatus

__all__ = (
    "Error",
    "ErrorErrors",
    "ErrorResponse",
    "JwtResponse",
    "PostTestApiKeysBody",
    "TestApiKeyResponse",
    "TestApiKeyResponseStatus",
)
