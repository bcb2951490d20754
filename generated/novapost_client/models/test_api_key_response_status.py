from typing import Literal

TestApiKeyResponseStatus = Literal["Active", "Expired"]

TEST_API_KEY_RESPONSE_STATUS_VALUES: set[TestApiKeyResponseStatus] = {
    "Active",
    "Expired",
}


def check_test_api_key_response_status(value: str) -> TestApiKeyResponseStatus:
    if value in TEST_API_KEY_RESPONSE_STATUS_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {TEST_API_KEY_RESPONSE_STATUS_VALUES!r}"
    )
