"""How deep a JSON document nests, found without parsing it (the json module recurses once per level)."""

import re

JSON_MAX_DEPTH = 32  # no eHealth payload is more than a few levels deep
_JSON_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]")
_SQUARE = bytes.maketrans(b"{}", b"[]")


def json_too_deep(body: bytes, max_depth: int = JSON_MAX_DEPTH) -> bool:
    """Whether JSON nests deeper than `max_depth`, found without parsing it.

    The json module recurses once per level: a body of a few thousand `[` ends in a RecursionError.
    """
    # Brackets inside strings do not nest: drop the strings, keep the brackets, all as [ and ].
    brackets = _NOT_BRACKETS.sub(b"", _JSON_STRINGS.sub(b"", body)).translate(_SQUARE)
    for _level in range(max_depth):  # each pass removes the innermost level
        brackets = brackets.replace(b"[]", b"")
    # Left: a deeper structure, or more unclosed brackets than the limit (json would recurse into them).
    return b"[]" in brackets or brackets.count(b"[") > max_depth
