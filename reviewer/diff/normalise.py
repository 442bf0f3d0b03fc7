"""What a body is compared as: the desired state Argo CD's controller diffs, without what the API
server or Argo CD itself write (gitops-engine pkg/diff, argo-cd controller/state.go normalisation).

- `status` is dropped (Argo CD 3.0+ ignores it for every kind: `ignoreResourceStatusField: all`).
- Server-populated metadata (uid, resourceVersion, generation, creationTimestamp, managedFields,
  selfLink, deletionTimestamp, deletionGracePeriodSeconds) is dropped, as are the annotations Argo CD
  and kubectl write themselves: the tracking id and `last-applied-configuration`.
- Labels and annotations maps left empty are dropped (the API server omits empty maps).
- `null` map values are dropped: Kubernetes decodes a null field as absent.
- Map keys become strings, as in the JSON Kubernetes sees (sigs.k8s.io/yaml).
- A v1 Secret's `stringData` is folded into `data` (secrets.fold_string_data), as the API server does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..records import Manifest
from ..redaction import is_secret
from .jsonshape import plain
from .secrets import fold_string_data

SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
TOOL_ANNOTATIONS = ("argocd.argoproj.io/tracking-id", "kubectl.kubernetes.io/last-applied-configuration")


def normalise(body: Manifest) -> dict[str, Any]:
    """The comparable form of a rendered body, shallow: the top level and metadata are new objects, the
    rest is shared with the input (which is never modified). `plain()` of it is the full comparable form;
    the caller makes it only for the pairs whose digests differ."""
    out = dict(body)
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, Mapping):
        meta = plain(meta)
        for name in SERVER_METADATA:
            meta.pop(name, None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            for name in TOOL_ANNOTATIONS:
                annotations.pop(name, None)
        for name in ("annotations", "labels"):
            if meta.get(name) == {}:
                del meta[name]
        out["metadata"] = meta
    if is_secret(out):
        out = fold_string_data(out)
    return out


def digest(body: Mapping[str, Any]) -> str:
    """A hash of the canonical JSON of a normalised body: equal digests mean equal bodies (the fast path;
    unequal ones may still be equal, such as quantities in other units or a null field vs none)."""
    try:
        text = _canonical(body)
    except TypeError:  # keys of mixed types cannot be sorted: hash their JSON (string-keyed) form
        text = _canonical(plain(body))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _canonical(body: Mapping[str, Any]) -> str:
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False, check_circular=False
    )
