"""Serving any operation of a vendored spec from the spec alone (see :mod:`.routes`)."""

from carrier_mocks.openapi.routes import CredentialCheck, ErrorBody, SpecRoutes

__all__ = ["CredentialCheck", "ErrorBody", "SpecRoutes"]
