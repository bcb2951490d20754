from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PostTestApiKeysBody")


@_attrs_define
class PostTestApiKeysBody:
    phone: str
    """ Phone number registered in EBC. Format like 49XXXXXXXXX (no '+'). UA keys generation is currently not
    supported. """

    def to_dict(self) -> dict[str, Any]:
        phone = self.phone

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "phone": phone,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        phone = d.pop("phone")

        post_test_api_keys_body = cls(
            phone=phone,
        )

        return post_test_api_keys_body
