"""Resource quantities compared by value (`1Gi` == `1024Mi`, `0.5` == `500m`), where Kubernetes types a
field as `resource.Quantity` and nowhere else: an arbitrary string that happens to read `1k` stays a string.

The API server stores a quantity in canonical form, so `1024Mi` in Git and `1Gi` live are the same
value and Argo CD shows no difference; the gate must not either. Values are parsed with the
`kubernetes` package's `parse_quantity`; the delta keeps the strings as written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from .paths import Segment, field_names

if TYPE_CHECKING:
    from decimal import Decimal

# LimitRangeItem: every resource list of it (core/v1 types.go).
_LIMIT_RANGE_LISTS = {"max", "min", "default", "defaultRequest", "maxLimitRequestRatio"}


def is_quantity_field(kind: str, path: Sequence[Segment]) -> bool:
    """Whether the field at `path` of an object of `kind` is a Kubernetes quantity."""
    names = field_names(path)
    # ResourceRequirements of containers, pods (1.32+), PVCs, volumeClaimTemplates, ephemeral volumes.
    if len(names) >= 3 and names[-3] == "resources" and names[-2] in ("requests", "limits"):
        return True
    if names[-2:] == ("emptyDir", "sizeLimit"):
        return True
    # PodSpec.overhead, RuntimeClass.overhead.podFixed
    if len(names) >= 2 and (names[-2] == "overhead" or names[-3:-1] == ("overhead", "podFixed")):
        return True
    if kind == "ResourceQuota":
        return len(names) == 3 and names[:2] == ("spec", "hard")
    if kind == "LimitRange":
        return len(names) == 4 and names[:2] == ("spec", "limits") and names[2] in _LIMIT_RANGE_LISTS
    if kind == "PersistentVolume":
        return len(names) == 3 and names[:2] == ("spec", "capacity")
    if kind == "CSIStorageCapacity":
        return names in (("capacity",), ("maximumVolumeSize",))
    if kind == "HorizontalPodAutoscaler":  # autoscaling/v2 MetricTarget
        return len(names) >= 2 and names[-2] == "target" and names[-1] in ("value", "averageValue")
    return False


@cache
def _parser() -> Callable[[Any], Decimal]:
    # Imported on first use: `kubernetes.utils` pulls in the whole client (most runs never get here).
    from kubernetes.utils.quantity import parse_quantity

    return parse_quantity


def parse(value: Any) -> Decimal | None:
    """The value of a quantity, or None if it is not one."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = _parser()(value)
    except (ValueError, ArithmeticError):
        return None
    return number if number.is_finite() else None


def same_quantity(before: Any, after: Any) -> bool:
    """Both values are quantities of equal value."""
    a, b = parse(before), parse(after)
    return a is not None and b is not None and a == b
