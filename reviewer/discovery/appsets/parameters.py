"""Parameter values as Argo CD's generators write them: Go's `%v`, flattened keys, sanitized names."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any


def sanitize_name(name: str) -> str:
    """ACD `utils.SanitizeName` (the `normalize` function and the *Normalized parameters)."""
    name = re.sub(r"[^-a-z0-9.]", "-", name.lower())[:253]
    return name.strip("-.")


def go_format(value: Any) -> str:
    """`fmt.Sprintf("%v", v)` of a value decoded from JSON/YAML by Go (numbers are float64)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, (int, float)):
        return _go_float(float(value))
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{go_format(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    return str(value)


def _go_float(number: float) -> str:
    """Go's %v of a float64 (strconv 'g', shortest): exponent form below 1e-4 and from 1e+06.

    This is why Argo CD and Helm print a JSON/YAML number 1234567 as `1.234567e+06`.
    """
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "+Inf" if number > 0 else "-Inf"
    if number == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(number)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    exponent += len("".join(map(str, digit_tuple))) - len(digits)
    point = len(digits) + exponent  # position of the decimal point in `digits`
    exp10 = point - 1
    minus = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{'+' if exp10 >= 0 else '-'}{abs(exp10):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{minus}{digits}{'0' * (point - len(digits))}"
    return f"{minus}{digits[:point]}.{digits[point:]}"


def flatten(value: Any, prefix: str) -> dict[str, Any]:
    """github.com/jeremywohl/flatten with DotStyle: nested keys joined by dots, list indexes too."""
    out: dict[str, Any] = {}
    items: Iterator[tuple[str, Any]]
    if isinstance(value, Mapping):
        items = ((str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return out
    for key, item in items:
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(item, (Mapping, list)):
            out.update(flatten(item, name))
        else:
            out[name] = item
    return out
