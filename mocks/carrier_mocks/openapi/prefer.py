"""Which documented response a request asks for, in Stoplight Prism's words.

``Prefer: code=404, example=notFound, dynamic=true`` (any separator of ``,`` or
``;``), or when no ``Prefer`` header is sent the query parameters ``__code``,
``__example`` and ``__dynamic``. Unknown preferences are ignored, as RFC 7240
asks; a malformed ``code`` is a request error the caller reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CONTROL_QUERY", "Preference", "PreferenceError", "preference"]

#: The query parameters that select a response; never part of the request checked.
CONTROL_QUERY = frozenset({"__code", "__example", "__dynamic"})

_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(\"[^\"]*\"|[^,;\s]*)\s*")


class PreferenceError(ValueError):
    """A preference the mock cannot read, e.g. ``code=abc``."""


@dataclass(frozen=True)
class Preference:
    code: str | None = None
    example: str | None = None
    dynamic: bool | None = None

    @property
    def empty(self) -> bool:
        return self.code is None and self.example is None and self.dynamic is None


NONE = Preference()


def _parse(pairs: Iterable[tuple[str, str]]) -> Preference:
    code = example = None
    dynamic: bool | None = None
    for name, value in pairs:
        name = name.lower()
        if name == "code":
            if not re.fullmatch(r"[1-5][0-9][0-9]", value):
                raise PreferenceError(f"Prefer code={value[:20]!r} is not an HTTP status code")
            code = value
        elif name == "example":
            example = value or None  # 'example=' selects nothing: the default answer
        elif name == "dynamic":
            if value.lower() not in ("true", "false"):
                raise PreferenceError(f"Prefer dynamic={value[:20]!r} must be true or false")
            dynamic = value.lower() == "true"
    return Preference(code, example, dynamic)


def preference(headers: Iterable[str], query: Iterable[tuple[str, str]]) -> Preference:
    """The preference of a request: its ``Prefer`` header values, else its ``__*`` query."""
    values = list(headers)
    if values:
        pairs = []
        for value in values:
            for part in re.split(r"[,;]", value):
                match = _TOKEN.fullmatch(part)
                if match:
                    pairs.append((match.group(1), match.group(2).strip('"')))
        return _parse(pairs)
    pairs = [(name[2:], value) for name, value in query if name in CONTROL_QUERY]
    return _parse(pairs) if pairs else NONE
