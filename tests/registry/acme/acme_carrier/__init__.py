"""Acme, a carrier added from outside ``carriers``: its registry entry.

Named by the ``carriers.registry`` entry point of this distribution, so importing
it must stay as light as ``carriers.registry`` itself: the facade and the mock
are only named here.
"""

from carriers.registry import CarrierInfo

DOCS_API_KEY = "acme_test_0123456789"
"""The key of the docs' examples, the only one the mock accepts."""

CARRIER = CarrierInfo(
    name="acme",
    title="Acme",
    package="acme_client",
    spec="openapi.yaml",
    api_key_env="ACME_API_KEY",
    environments={
        "production": "https://api.acme.example",
        "sandbox": "https://sandbox.acme.example",
    },
    default_environment="sandbox",
    test_environment="sandbox",
    token_operation="GET /auth/token",
    jwt_scheme="AcmeJWT",
    api_key_scheme="AcmeKey",
    facade="acme_carrier.facade:Acme",
    mock_app="acme_carrier.mock:create_app",
    docs_api_key=DOCS_API_KEY,
)
