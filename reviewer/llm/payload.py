"""The payload: the change as a structured JSON document the model reviews, redacted, sanitised and
fitted to the input budget.

Not a raw text diff: per resource, its id, app, change type, changed fields (before and after) or, for an
added or removed resource, its manifest; per app, its sync policy; the rule findings; and, for a removed
resource, the resources that still refer to it. Every string is stripped of hidden text
(reviewer.llm.sanitise) and redacted (reviewer.redaction) before the document is serialised, and Secrets
show only their key names and whether each changed.

When the budget is short, resources are taken in priority order: those with rule findings, then
deletions and moves, then scaling, immutable-field, privilege, RBAC and network changes, then the rest.
A resource that does not fit with its field values is sent without them ("brief"); one that does not
fit at all is named in the report as not reviewed by the LLM. Deletions are never what is dropped:
room for every deletion is reserved first, and when even that does not fit there is no review.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..policies.immutable_table import builtin_table, violations
from ..records import AppStatus, Change, FieldDelta, Finding, Location, Resource, ResourceKey, SyncPolicy
from ..redaction import Redactor
from ..report.masking import changed_secret_keys, is_secret_key, masked_body, masked_delta
from ..report.summary import hook_phases, plural, source_location
from .sanitise import HiddenTextStripper

MAX_STRING = 1_500  # characters of one value; longer ones are cut (evidence can still quote the start)
MAX_MESSAGE = 400
CHARS_PER_TOKEN = 3  # over-counts English and JSON for common tokenizers, so the real count stays under the cap

RBAC_GROUP = "rbac.authorization.k8s.io"
NETWORK_KINDS = frozenset({"Service", "Ingress", "NetworkPolicy", "IngressClass", "Gateway", "HTTPRoute", "GRPCRoute"})
NETWORK_GROUPS = frozenset(
    {"networking.k8s.io", "gateway.networking.k8s.io", "cilium.io", "crd.projectcalico.org", "networking.istio.io"}
)
SCALING_FIELDS = ("replicas", "minReplicas", "maxReplicas", "parallelism", "suspend")
PRIVILEGE_WORDS = ("securityContext", "hostNetwork", "hostPID", "hostIPC", "hostPath", "capabilities", "privileged")
TIER_NAMES = (
    "resources with rule findings",
    "deletions and moves",
    "scaling, immutable-field, privilege, RBAC and network changes",
    "other changes",
)

# Fields that name another object of the same namespace, by the kind they point at: (parent key, field).
# A container's env/envFrom/volumes (core/v1 PodSpec), Ingress backends (networking/v1), StatefulSet
# serviceName, and a pod's service account.
REFERENCE_FIELDS: Mapping[str, frozenset[tuple[str, str]]] = {
    "ConfigMap": frozenset({("configMapKeyRef", "name"), ("configMapRef", "name"), ("configMap", "name")}),
    "Secret": frozenset(
        {
            ("secretKeyRef", "name"),
            ("secretRef", "name"),
            ("secret", "secretName"),
            ("imagePullSecrets", "name"),
            ("tls", "secretName"),
        }
    ),
    "PersistentVolumeClaim": frozenset({("persistentVolumeClaim", "claimName")}),
    "ServiceAccount": frozenset({("spec", "serviceAccountName"), ("spec", "serviceAccount")}),
    "Service": frozenset({("service", "name"), ("backend", "serviceName"), ("spec", "serviceName")}),
}
_NOISE_METADATA = ("managedFields", "creationTimestamp", "uid", "resourceVersion", "generation", "selfLink")
_NOISE_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


def estimate_tokens(text: str) -> int:
    """A cautious token count: one token per CHARS_PER_TOKEN characters, rounded up."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def resource_id(app: str, key: ResourceKey) -> str:
    """How the payload names a resource, and how a finding must cite it: `argocd/web apps/Deployment web/web`."""
    return f"{app} {key}"


@dataclass(frozen=True, slots=True)
class PayloadResource:
    """What a resource id in the payload stands for."""

    app: str
    key: ResourceKey
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Payload:
    text: str  # the data block, exactly as sent
    resources: Mapping[str, PayloadResource]  # every id the data mentions
    not_reviewed: tuple[str, ...] = ()  # ids (with change type) left out to fit the budget
    brief: tuple[str, ...] = ()  # ids sent without their field values
    redacted_values: int = 0
    stripped: tuple[str, ...] = ()  # hidden text removed: `2 zero-width characters`, ...
    tokens: int = 0
    change_count: int = 0
    unavailable: str = ""  # why there can be no review (the deletions alone exceed the budget)
    # Holds the values it redacted, to scrub them from the reply: never printed, never compared.
    redactor: Redactor = field(default_factory=Redactor, repr=False, compare=False)


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_STRING:
        return value[:MAX_STRING] + f"…[{len(value) - MAX_STRING} more characters]"
    if isinstance(value, Mapping):
        return {str(k): _clip(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clip(v) for v in value]
    return value


def _manifest(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body without what the API server adds and tools stamp on (noise, and a place secrets hide)."""
    out = {k: v for k, v in body.items() if k != "status"}
    metadata = out.get("metadata")
    if isinstance(metadata, Mapping):
        meta = {k: v for k, v in metadata.items() if k not in _NOISE_METADATA}
        annotations = meta.get("annotations")
        if isinstance(annotations, Mapping):
            meta["annotations"] = {k: v for k, v in annotations.items() if k not in _NOISE_ANNOTATIONS}
            if not meta["annotations"]:
                del meta["annotations"]
        out["metadata"] = meta
    return out


def _sync_policy(policy: SyncPolicy) -> dict[str, Any]:
    return {
        "automated": policy.automated,
        "prune": policy.prune,
        "selfHeal": policy.self_heal,
        "allowEmpty": policy.allow_empty,
    }


def _app_entry(status: AppStatus) -> dict[str, Any]:
    app = status.head or status.base
    entry: dict[str, Any] = {"app": status.app, "state": status.state}
    if app is not None:
        entry["syncPolicy"] = _sync_policy(app.sync_policy)
        if app.sync_policy.sync_options:
            entry["syncOptions"] = list(app.sync_policy.sync_options)
        entry["destination"] = {k: v for k, v in _destination(app.destination).items() if v}
        entry["project"] = app.project
    if status.base is not None and status.head is not None and status.base.sync_policy != status.head.sync_policy:
        entry["syncPolicyAtBase"] = _sync_policy(status.base.sync_policy)
    return entry


def _destination(destination: Any) -> dict[str, str]:
    return {"server": destination.server, "name": destination.name, "namespace": destination.namespace}


def _secret_keys(change: Change) -> list[dict[str, str]]:
    """Each key of a Secret's values and what happened to it (`added`, `removed`, `changed`,
    `unchanged`): the names, never the values."""
    changed = {key for _, key in changed_secret_keys(change)}
    base_keys = _keys(change.base)
    head_keys = _keys(change.head)
    out = []
    for key in sorted(base_keys | head_keys):
        if key in base_keys and key in head_keys:
            what = "changed" if key in changed else "unchanged"
        else:
            what = "added" if key in head_keys else "removed"
        out.append({"key": key, "change": what})
    return out


def _keys(resource: Resource | None) -> set[str]:
    if resource is None:
        return set()
    return {
        str(key)
        for field_name in ("data", "stringData")
        if isinstance(resource.body.get(field_name), Mapping)
        for key in resource.body[field_name]
    }


def _delta_entry(change: Change, delta: FieldDelta, *, values: bool) -> dict[str, Any]:
    delta = masked_delta(change, delta, credentials=False)  # the Redactor below masks and counts them
    entry: dict[str, Any] = {"path": delta.path, "change": delta.kind}
    if values and delta.kind != "reordered":
        entry["before"] = delta.before
        entry["after"] = delta.after
    if delta.ignored:
        entry["ignoredByArgoCD"] = True
    return entry


def _change_entry(change: Change, rid: str, rules: Sequence[str], *, brief: bool) -> dict[str, Any]:
    resource = change.head or change.base
    assert resource is not None
    entry: dict[str, Any] = {
        "id": rid,
        "change": change.type,
        "apiVersion": resource.api_version,
        "kind": change.key.kind,
        "namespace": change.key.namespace,
        "name": change.key.name,
    }
    location = source_location(change)
    if location is not None:
        entry["source"] = location.file
    if change.hook:
        entry["hook"] = list(hook_phases(change)) or True
    if change.type == "moved":
        entry["fromApp"] = change.from_app
    if change.ignored:
        entry["ignoredByArgoCD"] = True
    if rules:
        entry["ruleFindings"] = list(rules)
    if is_secret_key(change.key):
        entry["secretKeys"] = _secret_keys(change)
    if change.deltas:
        entry["fields"] = [_delta_entry(change, delta, values=not brief) for delta in change.deltas]
    if change.type in ("added", "removed") and not brief:
        side = change.head if change.type == "added" else change.base
        assert side is not None
        body = masked_body(side) if is_secret_key(change.key) else side.body
        entry["manifest"] = _manifest(body)
    if brief:
        entry["detail"] = "field values and manifest left out to fit the input budget"
    return entry


def _secret_value_count(change: Change) -> int:
    """How many Secret values a change holds (each one is masked)."""
    return len(_secret_keys(change)) if is_secret_key(change.key) else 0


def _is_notable(change: Change) -> bool:
    """Scaling, immutable-field, privilege, RBAC and network changes (priority tier 2)."""
    key = change.key
    if key.group == RBAC_GROUP or key.kind == "ServiceAccount":
        return True
    if key.kind in NETWORK_KINDS or key.group in NETWORK_GROUPS or key.kind == "HorizontalPodAutoscaler":
        return True
    for delta in change.deltas:
        last = delta.path.rsplit(".", 1)[-1]
        if last in SCALING_FIELDS or any(word in delta.path for word in PRIVILEGE_WORDS):
            return True
    if change.type == "added" and change.head is not None:
        text = json.dumps(change.head.body, default=str)
        if any(f'"{word}"' in text for word in PRIVILEGE_WORDS):
            return True
    return bool(change.type in ("modified", "moved") and violations(change, _IMMUTABLE, skip_ignored=False))


_IMMUTABLE = builtin_table()


def change_tier(change: Change, flagged: set[tuple[str, ResourceKey]]) -> int:
    """0 rule findings, 1 deletions and moves, 2 scaling/immutable/privilege/RBAC/network, 3 the rest."""
    if (change.app, change.key) in flagged or (change.from_app, change.key) in flagged:
        return 0
    if change.type in ("removed", "moved"):
        return 1
    return 2 if _is_notable(change) else 3


def _walk_refs(
    value: Any, path: str, parent: str, wanted: Mapping[str, frozenset[tuple[str, str]]]
) -> Iterable[tuple[str, str, str]]:
    """(path, kind, name) of every reference `value` holds to an object of a kind in `wanted`."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            child = f"{path}.{k}" if path else str(k)
            if isinstance(v, str):
                for kind, fields in wanted.items():
                    if (parent, k) in fields:
                        yield child, kind, v
            else:
                yield from _walk_refs(v, child, str(k), wanted)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk_refs(item, f"{path}[{i}]", parent, wanted)


def _references(
    removed: Sequence[tuple[str, Change]], head_resources: Mapping[str, Sequence[Resource]]
) -> list[tuple[str, PayloadResource, str, str]]:
    """(referrer id, referrer, path, removed id) for every head resource that still names a removed one."""
    targets = {
        (c.key.kind, c.key.namespace, c.key.name): rid
        for rid, c in removed
        if c.key.group == "" and c.key.kind in REFERENCE_FIELDS
    }
    if not targets:
        return []
    wanted = {kind: fields for kind, fields in REFERENCE_FIELDS.items() if any(t[0] == kind for t in targets)}
    found = []
    for app, resources in sorted(head_resources.items()):
        for resource in resources:
            for path, kind, name in _walk_refs(resource.body, "", "", wanted):
                target = targets.get((kind, resource.key.namespace, name))
                if target is not None:
                    rid = resource_id(app, resource.key)
                    found.append((rid, PayloadResource(app, resource.key, resource.location), path, target))
    return found[:50]


def _lines(name: str, items: Sequence[str], last: bool = False) -> str:
    """One JSON array member per line: readable, and the model quotes evidence from single lines."""
    body = ",\n".join(items)
    return f'"{name}": [\n{body}\n]' + ("" if last else ",")


@dataclass(slots=True)
class _Cleaner:
    """Strips hidden text and redacts, entry by entry, so that only what is sent is counted."""

    redactor: Redactor = field(default_factory=Redactor)
    stripped: dict[str, int] = field(default_factory=dict)

    def entry(self, value: Any) -> tuple[str, int, dict[str, int]]:
        """`value` as one JSON line, with the values it redacted and the hidden text it stripped."""
        stripper = HiddenTextStripper()
        before = self.redactor.count
        # Hidden text first: a token split by zero-width characters must be whole when redaction looks.
        cleaned = self.redactor.value(stripper.value(_clip(value)))
        text = json.dumps(cleaned, ensure_ascii=False, default=str)
        return text, self.redactor.count - before, dict(stripper.counts)


@dataclass(slots=True)
class _Tally:
    redacted: int = 0
    stripped: dict[str, int] = field(default_factory=dict)

    def add(self, redacted: int, stripped: Mapping[str, int]) -> None:
        self.redacted += redacted
        for kind, n in stripped.items():
            self.stripped[kind] = self.stripped.get(kind, 0) + n

    def notes(self) -> tuple[str, ...]:
        stripper = HiddenTextStripper()
        stripper.counts = dict(self.stripped)
        return stripper.notes()


def _sections(apps: list[str], findings: list[str], references: list[str], changes: list[str]) -> str:
    return (
        "{\n"
        + _lines("apps", apps)
        + "\n"
        + _lines("ruleFindings", findings)
        + "\n"
        + _lines("references", references)
        + "\n"
        + _lines("changes", changes, last=True)
        + "\n}"
    )


def build_payload(
    changes: Sequence[Change],
    statuses: Mapping[str, AppStatus],
    rule_findings: Sequence[Finding],
    *,
    budget_tokens: int,
    head_resources: Mapping[str, Sequence[Resource]] | None = None,
) -> Payload:
    """The data block for `changes` within `budget_tokens` (see the module docstring)."""
    cleaner = _Cleaner()
    tally = _Tally()

    def line(value: Any) -> str:
        text, redacted, stripped = cleaner.entry(value)
        tally.add(redacted, stripped)
        return text

    rule_only = [f for f in rule_findings if f.origin != "llm"]
    flagged = {(f.app, f.key) for f in rule_only if f.key is not None}
    rules_by_resource: dict[tuple[str, ResourceKey], list[str]] = {}
    for finding in rule_only:
        if finding.key is not None:
            rules_by_resource.setdefault((finding.app, finding.key), []).append(finding.rule)
    ordered = [c for _, c in sorted(enumerate(changes), key=lambda item: (change_tier(item[1], flagged), item[0]))]
    ids = [resource_id(c.app, c.key) for c in ordered]
    resources = {rid: PayloadResource(c.app, c.key, source_location(c)) for rid, c in zip(ids, ordered, strict=True)}

    apps_in_play = {c.app for c in changes} | {c.from_app for c in changes if c.from_app}
    apps_in_play |= {s.app for s in statuses.values() if s.state in ("added", "removed")}
    app_lines = [line(_app_entry(statuses[a])) for a in sorted(apps_in_play) if a in statuses]
    finding_lines = [
        line(
            {
                "rule": f.rule,
                "severity": f.severity,
                "app": f.app,
                "resource": resource_id(f.app, f.key) if f.key else None,
                "field": f.path,
                "title": f.title,
                "message": f.message[:MAX_MESSAGE],
                **({"waived": True} if f.waived else {}),
            }
        )
        for f in rule_only
    ]
    removed = [(rid, c) for rid, c in zip(ids, ordered, strict=True) if c.type == "removed"]
    reference_lines = []
    for rid, referrer, path, target in _references(removed, head_resources or {}):
        unchanged = rid not in resources
        resources.setdefault(rid, referrer)
        reference_lines.append(line({"from": rid, "field": path, "to": target, "fromIsUnchanged": unchanged}))

    fixed = _sections(app_lines, finding_lines, reference_lines, [])
    remaining = budget_tokens - estimate_tokens(fixed)
    entries = []
    for rid, change in zip(ids, ordered, strict=True):
        rules = rules_by_resource.get((change.app, change.key), [])
        full = cleaner.entry(_change_entry(change, rid, rules, brief=False))
        brief = cleaner.entry(_change_entry(change, rid, rules, brief=True))
        entries.append((rid, change, full, brief))
    deletions = [brief for _, change, _, brief in entries if change.type == "removed"]
    reserved = sum(estimate_tokens(text + ",\n") for text, _, _ in deletions)
    if reserved > remaining:
        return Payload(
            text="",
            resources={},
            tokens=estimate_tokens(fixed) + reserved,
            change_count=len(changes),
            unavailable=(
                f"the {plural(len(deletions), 'deletion')} alone need about {estimate_tokens(fixed) + reserved} "
                f"tokens, more than the {budget_tokens} the input budget leaves for the data; raise "
                "llm.maxInputTokens"
            ),
            redactor=cleaner.redactor,
        )
    remaining -= reserved
    chosen: list[str] = []
    brief_ids: list[str] = []
    dropped: list[str] = []
    for rid, change, full, brief in entries:
        full_cost, brief_cost = estimate_tokens(full[0] + ",\n"), estimate_tokens(brief[0] + ",\n")
        if change.type == "removed":
            pick = full if full_cost - brief_cost <= remaining else brief
            remaining -= full_cost - brief_cost if pick is full else 0
        elif full_cost <= remaining:
            pick, remaining = full, remaining - full_cost
        elif brief_cost <= remaining:
            pick, remaining = brief, remaining - brief_cost
        else:
            dropped.append(f"{rid} ({change.type})")
            del resources[rid]
            continue
        if pick is brief:
            brief_ids.append(rid)
        chosen.append(pick[0])
        tally.add(pick[1] + _secret_value_count(change), pick[2])
    text = _sections(app_lines, finding_lines, reference_lines, chosen)
    return Payload(
        text=text,
        resources=resources,
        not_reviewed=tuple(dropped),
        brief=tuple(brief_ids),
        redacted_values=tally.redacted,
        stripped=tally.notes(),
        tokens=estimate_tokens(text),
        change_count=len(changes),
        redactor=cleaner.redactor,
    )
