"""replicas-drop: a workload's replicas are cut by half or more (but not to 0).

What it checks
    A Deployment, StatefulSet, ReplicaSet or Argo Rollout whose `spec.replicas` goes from `b` at base to
    `h` at head with `0 < h < b` and `(b - h) / b >= threshold` (default 0.5): 4 -> 2 and 10 -> 3 are
    reported, 4 -> 3 is not. Going to 0 is `replicas-zero`'s; removing the field is `replicas-reset`'s.
    ignoreDifferences on `/spec/replicas` does not hide the cut; the message says what Argo CD does.

Why it matters
    At the next sync Kubernetes terminates the surplus pods: the remaining ones take the whole
    load. A large cut is often a copy from another environment's values, or a typo.

Failing example
    `apps/web/deployment.yaml` goes from `replicas: 4` to `replicas: 2`.

Passing example
    The same Deployment going from `replicas: 4` to `replicas: 3`.

Options
    `threshold` (number, `0 < threshold <= 1`, default 0.5): the fraction of the base count that must
    go for a finding, set under `rules.options.replicas-drop` in `.gitops-reviewer.yaml`::

        rules:
          options:
            replicas-drop: {threshold: 0.3}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..records import Finding
from .context import EvaluationContext
from .example_manifests import application, deployment
from .replica_counts import WORKLOAD_COUNT, WORKLOAD_KINDS, has_count, ignored_note, location_of, read_count

ID = "replicas-drop"
SEVERITY = "warning"
DEFAULT_THRESHOLD = (1, 2)  # numerator, denominator: a half
_UNSET: Any = object()

_APP = application("web", "apps/web", sync_policy="{automated: {prune: true}}")
EXAMPLES = {
    "fails": {
        "base": {"apps/argocd/web.yaml": _APP, "apps/web/deployment.yaml": deployment("api", 4)},
        "head": {"apps/web/deployment.yaml": deployment("api", 2)},
    },
    "passes": {
        "base": {"apps/argocd/web.yaml": _APP, "apps/web/deployment.yaml": deployment("api", 4)},
        "head": {"apps/web/deployment.yaml": deployment("api", 3)},
    },
}


def threshold(ctx: EvaluationContext) -> tuple[int, int]:
    """The `threshold` option as an exact fraction, (numerator, denominator): `0.3` is 3/10; validated."""
    value = ctx.options.get(ID, {}).get("threshold", _UNSET)
    if value is _UNSET:
        return DEFAULT_THRESHOLD
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"rules.options.{ID}.threshold must be a number, got {value!r}")
    from fractions import Fraction  # only for a configured threshold (with decimal, ~4 ms to import)

    fraction = Fraction(str(value))
    if not 0 < fraction <= 1:
        raise ValueError(f"rules.options.{ID}.threshold must be more than 0 and at most 1, got {value}")
    return fraction.numerator, fraction.denominator


def check(ctx: EvaluationContext) -> Iterator[Finding]:
    numerator, denominator = threshold(ctx)
    path = WORKLOAD_COUNT.path
    for change in ctx.changes:
        if change.hook or change.type not in ("modified", "moved") or change.base is None or change.head is None:
            continue
        if (change.key.group, change.key.kind) not in WORKLOAD_KINDS or not has_count(change.head, WORKLOAD_COUNT):
            continue
        before, after = read_count(change.base, WORKLOAD_COUNT), read_count(change.head, WORKLOAD_COUNT)
        # (before - after) / before < numerator / denominator, in integers
        if (
            before is None
            or after is None
            or not 0 < after < before
            or (before - after) * denominator < numerator * before
        ):
            continue
        percent = round(100 * (before - after) / before)
        yield Finding(
            rule=ID,
            severity=SEVERITY,
            title=f"{change.key}: replicas {before} -> {after}",
            message=(
                f"{change.key} goes from {before} to {after} replicas ({percent}% fewer): when Argo CD syncs app "
                f"{change.app}, Kubernetes terminates {before - after} of its pods and the remaining "
                f"{after} take the whole load." + ignored_note(change, path, ctx.app(change.app))
            ),
            app=change.app,
            key=change.key,
            path=path,
            location=location_of(change),
            evidence=f"{path}: {before} -> {after}",
        )
