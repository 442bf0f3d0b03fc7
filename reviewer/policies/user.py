"""User policies: YAML files with CEL conditions, named in `.gitops-reviewer.yaml` (`policies:`).

```yaml
- name: no-latest-tag
  match:
    kinds: [apps/Deployment, StatefulSet]   # `group/Kind`, or `Kind` for any group
    namespaces: [shop]                      # glob patterns
    apps: ["argocd/*"]                      # glob patterns on the app id
    labels: {team: web}                     # on the head object (the base object for a deletion)
    operations: [CREATE, UPDATE]            # default: all three
  condition: >-
    object.spec.template.spec.containers.exists(c, c.image.endsWith(':latest'))
  severity: error
  message: an image is tagged latest
  messageExpression: "'image tagged latest in ' + object.metadata.name"   # optional, wins over message
```

Variables, as in ValidatingAdmissionPolicy: `object` (head, null on delete), `oldObject` (base, null on
create), `operation` (CREATE | UPDATE | DELETE), plus `app` (name, id, project, destination, syncPolicy)
and `change` (type, paths). Secret values are masked before a policy sees them. A policy that fails to
evaluate is an `error` finding naming it, never a silent pass.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ManifestError
from ..records import SEVERITIES, App, Change, Finding
from ..redaction import mask_secret_values
from ..yamlio import load_yaml_stream
from .cel_adapter import CelError, Expression
from .context import EvaluationContext

_KEYS = {"name", "match", "condition", "severity", "message", "messageExpression", "description"}
_MATCH_KEYS = {"kinds", "namespaces", "apps", "labels", "operations"}
_OPERATIONS = {"added": "CREATE", "removed": "DELETE", "modified": "UPDATE", "moved": "UPDATE"}


@dataclass(frozen=True)
class UserPolicy:
    """One policy of a policy file: what it matches, its CEL condition, and the finding it makes."""

    name: str
    condition: Expression
    severity: str
    message: str
    message_expression: Expression | None
    kinds: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    labels: Mapping[str, str] | None = None
    operations: tuple[str, ...] = ("CREATE", "UPDATE", "DELETE")
    source: str = ""

    @property
    def rule_id(self) -> str:
        return f"policy:{self.name}"


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def parse_policy(data: Any, where: str) -> UserPolicy:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: a policy must be a mapping")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: a policy needs a name")
    where = f"{where} ({name})"
    if not isinstance(data.get("condition"), str):
        raise ConfigError(f"{where}: `condition` (a CEL expression) is required")
    severity = data.get("severity", "error")
    if severity not in SEVERITIES:
        raise ConfigError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    if not data.get("message") and not data.get("messageExpression"):
        raise ConfigError(f"{where}: `message` or `messageExpression` is required")
    match = data.get("match") or {}
    if not isinstance(match, Mapping) or set(match) - _MATCH_KEYS:
        raise ConfigError(f"{where}: `match` takes {', '.join(sorted(_MATCH_KEYS))}")
    operations = _strings(match.get("operations"), f"{where}: match.operations") or ("CREATE", "UPDATE", "DELETE")
    if set(operations) - {"CREATE", "UPDATE", "DELETE"}:
        raise ConfigError(f"{where}: match.operations are CREATE, UPDATE and DELETE")
    labels = match.get("labels")
    if labels is not None and not isinstance(labels, Mapping):
        raise ConfigError(f"{where}: match.labels must be a mapping")
    try:
        return UserPolicy(
            name=name,
            condition=Expression(data["condition"], f"{where} condition"),
            severity=severity,
            message=str(data.get("message") or ""),
            message_expression=Expression(data["messageExpression"], f"{where} messageExpression")
            if data.get("messageExpression")
            else None,
            kinds=_strings(match.get("kinds"), f"{where}: match.kinds"),
            namespaces=_strings(match.get("namespaces"), f"{where}: match.namespaces"),
            apps=_strings(match.get("apps"), f"{where}: match.apps"),
            labels={str(k): str(v) for k, v in labels.items()} if labels else None,
            operations=operations,
            source=where,
        )
    except CelError as exc:
        raise ConfigError(str(exc)) from None


def load_user_policies(root: Path, paths: tuple[str, ...]) -> tuple[UserPolicy, ...]:
    """Every policy in the files `paths` (relative to the config repo `root`, read from the base revision)."""
    policies: list[UserPolicy] = []
    for rel in paths:
        path = root / rel
        try:
            text = path.read_text(encoding="utf-8")
            docs = load_yaml_stream(text, file=rel)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read policy file {rel}: {exc}") from None
        except ManifestError as exc:
            raise ConfigError(f"policy file {rel}: {exc}") from None
        for doc in docs:
            entries = doc.data if isinstance(doc.data, list) else [doc.data]
            for i, entry in enumerate(entries):
                policies.append(parse_policy(entry, f"{rel}:{doc.line} policy #{i + 1}"))
    names = [p.name for p in policies]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"policy names must be unique: {', '.join(duplicates)}")
    return tuple(policies)


def _app_view(app: App | None) -> dict[str, Any] | None:
    if app is None:
        return None
    policy = app.sync_policy
    return {
        "id": app.id,
        "name": app.name,
        "namespace": app.namespace,
        "project": app.project,
        "destination": {
            "server": app.destination.server,
            "name": app.destination.name,
            "namespace": app.destination.namespace,
        },
        "syncPolicy": {
            "automated": policy.automated,
            "prune": policy.prune,
            "selfHeal": policy.self_heal,
            "allowEmpty": policy.allow_empty,
            "syncOptions": list(policy.sync_options),
        },
    }


def _matches(policy: UserPolicy, change: Change, operation: str) -> bool:
    if operation not in policy.operations:
        return False
    key = change.key
    if policy.kinds and not any(
        k == key.kind or k == f"{key.group}/{key.kind}" or (k.startswith("/") and k == f"/{key.kind}" and not key.group)
        for k in policy.kinds
    ):
        return False
    if policy.namespaces and not any(fnmatch.fnmatchcase(key.namespace, p) for p in policy.namespaces):
        return False
    if policy.apps and not any(fnmatch.fnmatchcase(change.app, p) for p in policy.apps):
        return False
    if policy.labels:
        resource = change.head or change.base
        meta = resource.body.get("metadata") if resource is not None else None
        labels = meta.get("labels") if isinstance(meta, Mapping) else None
        if not isinstance(labels, Mapping) or any(labels.get(k) != v for k, v in policy.labels.items()):
            return False
    return True


def evaluate_user_policies(ctx: EvaluationContext, policies: tuple[UserPolicy, ...]) -> Iterator[Finding]:
    if not policies:
        return
    for change in ctx.changes:
        if change.hook or change.ignored:
            continue
        operation = _OPERATIONS[change.type]
        variables: dict[str, Any] | None = None  # made for the first policy that matches the change
        resource = change.head or change.base
        for policy in policies:
            if not _matches(policy, change, operation):
                continue
            if variables is None:
                variables = _variables(ctx, change, operation)
            try:
                fired = policy.condition.evaluate(variables)
                if fired is not True:
                    continue
                message = (
                    str(policy.message_expression.evaluate(variables)) if policy.message_expression else policy.message
                )
            except CelError as exc:
                yield Finding(
                    rule=policy.rule_id,
                    severity="error",
                    title=f"policy {policy.name} could not be evaluated",
                    message=str(exc),
                    app=change.app,
                    key=change.key,
                    location=resource.location if resource else None,
                    origin="policy",
                )
                continue
            yield Finding(
                rule=policy.rule_id,
                severity=policy.severity,
                title=policy.name,
                message=message,
                app=change.app,
                key=change.key,
                location=resource.location if resource else None,
                origin="policy",
            )


def _variables(ctx: EvaluationContext, change: Change, operation: str) -> dict[str, Any]:
    """The CEL variables of one change (see the module doc)."""
    return {
        "object": dict(mask_secret_values(change.head.body)) if change.head else None,
        "oldObject": dict(mask_secret_values(change.base.body)) if change.base else None,
        "operation": operation,
        "app": _app_view(ctx.app(change.app) or ctx.app(change.app, base=True)),
        "change": {"type": change.type, "paths": [d.path for d in change.deltas]},
    }
