"""A string that a regular expression matches, for schemas with a ``pattern``.

Walks the parsed expression (``re``'s own parser): literals, classes, ranges,
repeats, groups, alternatives, anchors and ``\\d \\w \\s``. Anything else (look-
arounds, back-references) gives up with ``None``; the caller then falls back.
The result is checked with ``re.search``, as JSON Schema applies ``pattern``.
"""

from __future__ import annotations

import functools
import random
import re
from typing import Any

try:  # Python 3.11+
    from re import _constants as C
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - older layouts
    import sre_constants as C
    import sre_parse

__all__ = ["from_pattern"]

_MAX_REPEAT = 8
_CATEGORIES = {
    C.CATEGORY_DIGIT: "0123456789",
    C.CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
    C.CATEGORY_SPACE: " ",
    C.CATEGORY_NOT_DIGIT: "a",
    C.CATEGORY_NOT_WORD: "-",
    C.CATEGORY_NOT_SPACE: "a",
}


class _GiveUp(Exception):
    pass


@functools.lru_cache(maxsize=256)
def _parsed(pattern: str) -> tuple[re.Pattern[str], Any] | None:
    """The compiled and the parsed expression, once per pattern (ids are made per create)."""
    try:
        return re.compile(pattern), sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None


def from_pattern(
    pattern: str, rng: random.Random | None, min_length: int = 0, max_length: int | None = None
) -> str | None:
    """A string matching ``pattern`` within the length bounds, or ``None`` if none is found."""
    read = _parsed(pattern)
    if read is None:
        return None
    compiled, parsed = read
    for attempt in range(12):
        chooser = rng if rng is not None else (random.Random(attempt) if attempt else None)
        try:
            text = _emit(parsed, chooser, 0)
        except (_GiveUp, RecursionError):
            return None
        if len(text) < min_length and compiled.fullmatch(text + "a" * (min_length - len(text))):
            text += "a" * (min_length - len(text))
        if (
            compiled.search(text)
            and len(text) >= min_length
            and (max_length is None or len(text) <= max_length)
        ):
            return text
    return None


def _emit(parsed: Any, rng: random.Random | None, depth: int) -> str:
    if depth > 40:
        raise _GiveUp
    out: list[str] = []
    for op, arg in parsed:
        out.append(_one(op, arg, rng, depth))
    return "".join(out)


def _one(op: Any, arg: Any, rng: random.Random | None, depth: int) -> str:
    if op is C.LITERAL:
        return chr(arg)
    if op is C.NOT_LITERAL:
        return "a" if arg != ord("a") else "b"
    if op is C.ANY:
        return "a"
    if op is C.AT:
        return ""
    if op is C.IN:
        return _class(arg, rng)
    if op is C.SUBPATTERN:
        return _emit(arg[-1], rng, depth + 1)
    if op is C.BRANCH:
        branches = arg[1]
        chosen = rng.choice(branches) if rng else branches[0]
        return _emit(chosen, rng, depth + 1)
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
        low, high, item = arg
        high = low + _MAX_REPEAT if high is C.MAXREPEAT else min(high, low + _MAX_REPEAT)
        count = rng.randint(low, high) if rng else low
        return "".join(_emit(item, rng, depth + 1) for _ in range(count))
    if hasattr(C, "ATOMIC_GROUP") and op is C.ATOMIC_GROUP:
        return _emit(arg, rng, depth + 1)
    raise _GiveUp


def _class(items: Any, rng: random.Random | None) -> str:
    chars: list[str] = []
    negate = False
    for op, arg in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            chars.append(chr(arg))
        elif op is C.RANGE:
            low, high = arg
            chars.extend(chr(c) for c in range(low, min(high, low + 64) + 1))
        elif op is C.CATEGORY:
            chars.extend(_CATEGORIES.get(arg, "a"))
        else:
            raise _GiveUp
    if negate:
        allowed = [c for c in "abcdefghijklmnopqrstuvwxyz0123456789" if c not in chars]
        if not allowed:
            raise _GiveUp
        chars = allowed
    if not chars:
        raise _GiveUp
    return rng.choice(chars) if rng else chars[0]
