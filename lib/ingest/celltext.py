"""The text of a workbook cell, the same whichever reader gave its value.

calamine gives a cell as a Python value (str, float, int, bool, date, time, timedelta);
openpyxl gives the same kinds. Both become the text openpyxl's values had when they were
first stored: a whole number without ".0", other numbers as Python's `repr`, a date at
midnight. `cell_text` does one cell; `column_text` a whole column at once, which is what
makes a 200,000-row sheet quick: numbers are written by Arrow's shortest round-trip
formatting (the digits `repr` writes) and only the few that Arrow writes another way (with
an exponent, or below 1e-4) go through Python.
"""

from __future__ import annotations

import datetime as dt
from itertools import repeat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):  # a whole day: written as openpyxl reads it, at midnight
        return f"{v.isoformat()} 00:00:00"
    if isinstance(v, dt.time):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        secs = v.total_seconds()
        return f"{int(secs // 3600)}:{int(secs % 3600 // 60):02d}:{secs % 60:02g}"
    if isinstance(v, float):
        return float_text(v)
    return str(v)


def float_text(v: float) -> str:
    return str(int(v)) if v.is_integer() else repr(v)


# The text of the commonest cell types, looked up by exact type (a bool is not an int here).
_FAST_TEXT = {str: str, float: float_text, int: str}


def row_text(values) -> list[str]:
    """`cell_text` of each value in a row."""
    text = _FAST_TEXT.get
    return [text(type(v), cell_text)(v) for v in values]


def column_text(values) -> pa.Array:
    """`cell_text` of each value in a column (a sequence of cell values), as Arrow text."""
    kinds = set(map(type, values))
    if kinds <= {str}:
        return pa.array(values, pa.string())
    if kinds == {float}:
        return float_texts(np.array(values, dtype=np.float64))
    if kinds == {str, float}:  # numbers and blank cells ("")
        is_float = np.fromiter(map(isinstance, values, repeat(float)), bool, len(values))
        cells = np.array(values, dtype=object)
        numbers = cells[is_float].astype(np.float64)
        cells[is_float] = float_texts(numbers).to_numpy(zero_copy_only=False)
        return pa.array(cells, pa.string())
    return pa.array(row_text(values), pa.string())


def float_texts(numbers: np.ndarray) -> pa.Array:
    """`float_text` of each number. Arrow writes the same shortest digits as `repr`, and a
    whole number without a fraction, but switches to an exponent by another rule; numbers it
    writes with one, and those Python writes with one (below 1e-4, from 1e16), zero (-0.0)
    and non-finite ones are written by Python."""
    texts = pc.cast(pa.array(numbers, pa.float64()), pa.string())
    size = np.abs(numbers)
    redo = ~((size >= 1e-4) & (size < 1e16))
    redo |= pc.match_substring(texts, "e").to_numpy(zero_copy_only=False)
    todo = np.flatnonzero(redo)
    if not todo.size:
        return texts
    cells = texts.to_numpy(zero_copy_only=False)
    cells[todo] = [float_text(v) for v in numbers[todo].tolist()]
    return pa.array(cells, pa.string())
