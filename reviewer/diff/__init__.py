"""The diff stage (DESIGN.md, "Diff"): the renders of base and head, paired by resource identity
across all apps, to `added` / `removed` / `modified` / `moved` Changes with field-level deltas.

Modules: `clusters` (destination cluster of an app), `normalise` (what is compared), `pairing`
(which resource is which), `deltas` with `merge_keys` and `quantities` (what differs, and how it is
described), `ignore` (ignoreDifferences), `secrets` (masking), `paths` (how a field is named),
`changes` (the stage itself).
"""

from __future__ import annotations

from .changes import diff_renders
from .clusters import destination_cluster

__all__ = ["destination_cluster", "diff_renders"]
