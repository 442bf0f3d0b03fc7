"""Sharding one review across CI jobs, for repos one machine cannot review in time (DESIGN.md, "shard +
merge"; README, "Sharding a very large repo").

`gitops-reviewer check --shard I/N --output part-I.json` reviews a deterministic share of the apps the
change selects (`partition`) and writes a part (`parts`); `gitops-reviewer merge part-*.json` checks
that the parts are every shard of one review and combines them into the report and verdict the
unsharded review gives (`merge`), reviewing again, together, any apps of different shards that
interact (`interactions`).
"""

from __future__ import annotations

from .merge import check_parts, merge_parts
from .partition import ShardSpec, partition
from .parts import ShardPart, format_part, load_part, run_shard

__all__ = ["ShardPart", "ShardSpec", "check_parts", "format_part", "load_part", "merge_parts", "partition", "run_shard"]
