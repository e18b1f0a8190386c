"""JSON for other programs: numpy and pandas values made plain, and never a bare NaN.

Strict JSON parsers refuse `NaN` and `Infinity`, which `json.dumps` writes by default; every
JSON the command line prints goes through `strict_json`, so a missing number is `null`.
"""

from __future__ import annotations

import json
import math

import numpy as np


def plain(v):
    """A numpy or pandas scalar as the plain Python value; NaN and pandas' NA as None."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or type(v).__name__ == "NAType":
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v


def _strict(value):
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    value = plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def strict_json(value, indent: int | None = 2) -> str:
    """JSON that strict parsers accept: NaN and infinities become null, never bare NaN."""
    return json.dumps(_strict(value), ensure_ascii=False, indent=indent, allow_nan=False,
                      default=str)  # fmt: skip
