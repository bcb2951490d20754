"""Contains all the data models used in inputs/outputs"""

from .error_envelope import ErrorEnvelope
from .token_envelope import TokenEnvelope

__all__ = (
    "ErrorEnvelope",
    "TokenEnvelope",
)
