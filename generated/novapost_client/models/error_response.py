from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="ErrorResponse")


@_attrs_define
class ErrorResponse:
    success: bool
    errors: list[str]

    def to_dict(self) -> dict[str, Any]:
        success = self.success

        errors = self.errors

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "success": success,
                "errors": errors,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        success = d.pop("success")

        errors = cast(list[str], d.pop("errors"))

        error_response = cls(
            success=success,
            errors=errors,
        )

        return error_response
