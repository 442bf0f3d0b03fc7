"""The report's second guard on Secrets: values are masked again before anything is printed, and
credentials with a recognisable shape are masked in every other resource too.

The diff stage already masks `data` / `stringData` of every v1 Secret (reviewer.redaction). A report is
the last stop before a PR comment, a log or an artifact, so each format masks bodies and field deltas
again rather than trust that every producer of a `Report` did.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, cast

from ..records import Change, FieldDelta, Resource, ResourceKey
from ..redaction import MASK, mask_secret_values, redact_text

SECRET_FIELDS = ("data", "stringData")
# The diff stage marks a changed value the same way (reviewer.diff.secrets), so both read alike.
CHANGED_MASK = "<redacted: changed>"

# `data.tls.crt`, `data[tls.crt]`, `data["tls.crt"]`: Secret data is a flat map, so all that follows
# the field is the key.
_SECRET_PATH = re.compile(r"^(?P<field>data|stringData)(?:\.(?P<dotted>.+)|\[(?P<q>['\"]?)(?P<bracketed>.+)(?P=q)\])?$")


def is_secret_key(key: ResourceKey) -> bool:
    return key.group == "" and key.kind == "Secret"


def _mask_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {key: MASK for key in value}
    return MASK


def secret_path(path: str) -> tuple[str, str | None] | None:
    """(`data` or `stringData`, the key or None for the whole map) when `path` is under a Secret's values."""
    match = _SECRET_PATH.match(path)
    if match is None:
        return None
    return match["field"], match["dotted"] or match["bracketed"]


def redacted_strings(value: Any) -> Any:
    """`value` with credentials of a recognisable shape (GitHub/GitLab/Slack/OpenAI tokens, AWS key ids,
    JWTs, private keys, URL passwords: reviewer.redaction) masked in every string, wherever they sit in
    a manifest that is not a Secret (an env var, a ConfigMap, an annotation). The value itself is returned
    when there is nothing to mask, so unchanged bodies are not copied."""
    if isinstance(value, str):
        text, count = redact_text(value)
        return text if count else value
    if isinstance(value, Mapping):
        items = {key: redacted_strings(item) for key, item in value.items()}
        return items if any(items[key] is not value[key] for key in items) else value
    if isinstance(value, list):
        listed = [redacted_strings(item) for item in value]
        return listed if any(new is not old for new, old in zip(listed, value, strict=True)) else value
    return value


def masked_delta(change: Change, delta: FieldDelta, *, credentials: bool = True) -> FieldDelta:
    """The delta with a Secret's values masked (the key names stay: they say what changed), and, with
    `credentials`, credential-shaped strings masked in any other resource (the LLM payload turns that
    off: its own redactor masks them, and counts them)."""
    if not is_secret_key(change.key):
        if not credentials:
            return delta
        before, after = redacted_strings(delta.before), redacted_strings(delta.after)
        if before is delta.before and after is delta.after:
            return delta
        return FieldDelta(delta.path, before, after, delta.kind, delta.ignored)
    if delta.path in ("", "."):
        before, after = _mask_body_values(delta.before), _mask_body_values(delta.after)
        return FieldDelta(delta.path, before, after, delta.kind, delta.ignored)
    if secret_path(delta.path) is None:
        return delta
    return FieldDelta(delta.path, _mask_value(delta.before), _mask_value(delta.after), delta.kind, delta.ignored)


def _mask_body_values(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    masked = dict(value)
    for field in SECRET_FIELDS:
        if field in masked:
            masked[field] = _mask_value(masked[field])
    return masked


def changed_secret_keys(change: Change) -> frozenset[tuple[str, str]]:
    """(field, key) of every Secret value that differs between base and head: from the deltas, and from
    the bodies in case they were not masked upstream (comparing values prints none of them)."""
    if not is_secret_key(change.key):
        return frozenset()
    keys = set()
    for delta in change.deltas:
        found = secret_path(delta.path)
        if found is not None and found[1] is not None and delta.kind == "changed":
            keys.add((found[0], found[1]))
    if change.base is not None and change.head is not None:
        for field in SECRET_FIELDS:
            before, after = change.base.body.get(field), change.head.body.get(field)
            if isinstance(before, Mapping) and isinstance(after, Mapping):
                keys.update((field, key) for key in before if key in after and before[key] != after[key])
    return frozenset(keys)


def masked_body(
    resource: Resource,
    changed: frozenset[tuple[str, str]] = frozenset(),
    *,
    redact: Callable[[Any], Any] = redacted_strings,
) -> Mapping[str, Any]:
    """The body to print: a Secret's values masked (by reviewer.redaction, and again by the resource's
    key, in case the body lacks `apiVersion`), the values in `changed` marked as changed; any other
    resource with its credential-shaped strings masked by `redact` (`redacted_strings`, or a variant
    that also converts the body in the same walk)."""
    body = mask_secret_values(resource.body)
    if not is_secret_key(resource.key):
        return cast(Mapping[str, Any], redact(body))
    masked = dict(body)
    for field in SECRET_FIELDS:
        values = masked.get(field)
        if isinstance(values, Mapping):
            masked[field] = {key: CHANGED_MASK if (field, key) in changed else MASK for key in values}
        elif values is not None:  # not a map (an invalid Secret): still never printed
            masked[field] = MASK
    return masked
