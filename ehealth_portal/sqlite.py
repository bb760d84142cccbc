"""SQLite (the development default) compares case only for ASCII letters: `icontains` would miss
"Клініка" when searching "клініка". Registering a Unicode-aware LIKE makes searches behave as on
PostgreSQL. SQLite also lacks PostgreSQL's `percentile_cont`; an aggregate with the same arithmetic
is registered for the quality figures. Nothing changes on PostgreSQL."""

import math
import re
from functools import lru_cache


@lru_cache(maxsize=256)
def _like_regex(pattern: str, escape: str | None) -> re.Pattern:
    parts, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if escape and char == escape and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def unicode_like(pattern: str | None, value: str | None, escape: str | None = None) -> bool | None:
    if pattern is None or value is None:
        return None
    return _like_regex(pattern, escape).fullmatch(str(value)) is not None


class PercentileCont:
    """`portal_percentile_cont(value, fraction)`: PostgreSQL's `percentile_cont(fraction) WITHIN GROUP
    (ORDER BY value)`, with its interpolation between the two nearest rows, so both give the same number.
    NULL values are skipped; no values give NULL."""

    SQL_NAME = "portal_percentile_cont"

    def __init__(self):
        self.values = []
        self.fraction = None

    def step(self, value, fraction):
        self.fraction = fraction
        if value is not None:
            self.values.append(float(value))

    def finalize(self):
        if not self.values:
            return None
        values = sorted(self.values)
        position = self.fraction * (len(values) - 1)
        lower, upper = math.floor(position), math.ceil(position)
        return values[lower] + (values[upper] - values[lower]) * (position - lower)


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: registers the portal's SQLite functions (LIKE, percentile)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("like", 2, unicode_like, deterministic=True)
        connection.connection.create_function("like", 3, unicode_like, deterministic=True)
        connection.connection.create_aggregate(PercentileCont.SQL_NAME, 2, PercentileCont)
