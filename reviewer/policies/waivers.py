"""Waivers: explicit, reasoned and visible. A waived finding stays in the report, marked waived.

In `.gitops-reviewer.yaml` (read from the base revision):

```yaml
waivers:
  - fingerprint: 3f2a9c0d1e4b5a6f        # a finding's fingerprint, as the report shows it
    reason: the old PVC was migrated by hand (TICKET-123)
    expires: 2026-12-31                  # optional; an expired waiver no longer applies
  - rule: replicas-zero                  # or a match: rule, app (glob), kind, namespace, name
    app: "argocd/batch-*"
    reason: batch workers are scaled to zero outside business hours
```

Or on the resource itself: `metadata.annotations["gitops-reviewer.io/waive"]: "<rule>=<reason>"`
(several separated by `;`). An annotation can only be added by the change under review, so a waiver by
annotation is visible in that same diff.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ConfigError
from ..records import Finding, Resource
from .context import EvaluationContext

WAIVE_ANNOTATION = "gitops-reviewer.io/waive"
_KEYS = {"fingerprint", "rule", "app", "kind", "namespace", "name", "reason", "expires"}


@dataclass(frozen=True, slots=True)
class Waiver:
    """A `waivers:` entry of the config: the findings it covers (by fingerprint or by fields) and why."""

    reason: str
    fingerprint: str | None = None
    rule: str | None = None
    app: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    expires: dt.date | None = None

    def matches(self, finding: Finding) -> bool:
        if self.fingerprint is not None:
            return finding.fingerprint == self.fingerprint
        key = finding.key
        checks = (
            (self.rule, finding.rule),
            (self.app, finding.app),
            (self.kind, key.kind if key else ""),
            (self.namespace, key.namespace if key else ""),
            (self.name, key.name if key else ""),
        )
        return all(pattern is None or fnmatch.fnmatchcase(value, pattern) for pattern, value in checks)


def parse_waivers(value: Any, where: str) -> tuple[Waiver, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list")
    waivers = []
    for i, raw in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{at} must be a mapping")
        unknown = sorted(set(raw) - _KEYS)
        if unknown:
            raise ConfigError(f"{at}: unknown key(s) {', '.join(unknown)}")
        if not raw.get("reason"):
            raise ConfigError(f"{at}: a waiver needs a reason")
        if not raw.get("fingerprint") and not raw.get("rule"):
            raise ConfigError(f"{at}: a waiver names a finding's `fingerprint`, or at least a `rule`")
        expires = raw.get("expires")
        if expires is not None:
            try:
                expires = expires if isinstance(expires, dt.date) else dt.date.fromisoformat(str(expires))
            except ValueError:
                raise ConfigError(f"{at}: expires must be a date (YYYY-MM-DD)") from None
        waivers.append(
            Waiver(
                reason=str(raw["reason"]),
                expires=expires,
                **{k: str(raw[k]) for k in ("fingerprint", "rule", "app", "kind", "namespace", "name") if raw.get(k)},
            )
        )
    return tuple(waivers)


def _annotation_waivers(resource: Resource | None) -> dict[str, str]:
    if resource is None:
        return {}
    meta = resource.body.get("metadata")
    ann = meta.get("annotations") if isinstance(meta, Mapping) else None
    text = ann.get(WAIVE_ANNOTATION) if isinstance(ann, Mapping) else None
    out: dict[str, str] = {}
    for part in str(text or "").split(";"):
        rule, sep, reason = part.partition("=")
        if sep and rule.strip() and reason.strip():
            out[rule.strip()] = reason.strip()
    return out


def _resource(ctx: EvaluationContext, finding: Finding) -> Resource | None:
    for renders in (ctx.head_renders, ctx.base_renders):
        result = renders.get(finding.app)
        if result is None or finding.key is None:
            continue
        for resource in (*result.resources, *result.hooks):
            if resource.key == finding.key:
                return resource
    return None


def apply_waivers(
    findings: Iterable[Finding], waivers: tuple[Waiver, ...], ctx: EvaluationContext, today: dt.date
) -> tuple[Finding, ...]:
    """Mark the findings a live waiver covers (the reason goes into the message); an expired waiver
    does not apply, and the finding says it expired."""
    out = []
    for finding in findings:
        reason = _annotation_waivers(_resource(ctx, finding)).get(finding.rule)
        expired = None
        if reason is None:
            for waiver in waivers:
                if waiver.matches(finding):
                    if waiver.expires is not None and waiver.expires < today:
                        expired = waiver
                        continue
                    reason = waiver.reason
                    break
        if reason is not None:
            finding = replace(finding, waived=True, message=f"{finding.message} (waived: {reason})")
        elif expired is not None:
            finding = replace(finding, message=f"{finding.message} (a waiver expired on {expired.expires})")
        out.append(finding)
    return tuple(out)
