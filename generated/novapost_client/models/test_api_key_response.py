from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.test_api_key_response_status import (
    TestApiKeyResponseStatus,
    check_test_api_key_response_status,
)

T = TypeVar("T", bound="TestApiKeyResponse")


@_attrs_define
class TestApiKeyResponse:
    api_key: str
    """ Test API key for Stage usage only. """
    created_at: datetime.datetime
    exp_date: datetime.datetime
    status: TestApiKeyResponseStatus

    def to_dict(self) -> dict[str, Any]:
        api_key = self.api_key

        created_at = self.created_at.isoformat()

        exp_date = self.exp_date.isoformat()

        status: str = self.status

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "apiKey": api_key,
                "createdAt": created_at,
                "expDate": exp_date,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        api_key = d.pop("apiKey")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        exp_date = datetime.datetime.fromisoformat(d.pop("expDate"))

        status = check_test_api_key_response_status(d.pop("status"))

        test_api_key_response = cls(
            api_key=api_key,
            created_at=created_at,
            exp_date=exp_date,
            status=status,
        )

        return test_api_key_response
