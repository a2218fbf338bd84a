"""What counts as a missing value in a row read from the warehouse, without importing pandas.

A value is missing when DuckDB returned NULL (None, or NaN in a double column) or a pandas
frame holds NA or NaT. pandas' two are known by their types' names: a command that never
built a frame (`itip sql`, the report's chart helper) cannot hold them and should not import
pandas to tell.
"""

from __future__ import annotations

import math

#: The types of pandas.NA and pandas.NaT.
_PANDAS_MISSING = frozenset({"NAType", "NaTType"})


def is_missing(value: object) -> bool:
    """NULL as DuckDB returns it (None, or a NaN double), or pandas' NA and NaT."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or type(value).__name__ in _PANDAS_MISSING
