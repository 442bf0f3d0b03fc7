"""Expand an Argo CD ApplicationSet offline into the Applications its controller would generate.

This reproduces the ApplicationSet controller of Argo CD (ACD = github.com/argoproj/argo-cd), stage
by stage, one module each:

- `expander`: reads the AppSet's spec and runs each entry of `spec.generators`;
- `generation`: what generators share (ACD `generators.Transform`): per-generator `template`
  overrides, post-`selector`s (`selectors`), values, the children of `matrix` and `merge`;
- one module per generator family (`applicationset/generators/`): `list_generator`,
  `cluster_generator` (the clusters of the configuration, plus the local `in-cluster`),
  `git_generator` (directories and files of the tree under review, `tree_listing`, when the
  generator points at this repository), `matrix_generator`, `merge_generator`;
- `templates`: every string of the template, map keys included, rendered on its own with
  fasttemplate or, with `goTemplate: true`, Go text/template + sprig (`gotemplate`);
  `parameters` writes parameter values as Go prints them, `mergo` merges maps as Argo CD does;
- `generated_applications`: one Application per parameter set, `templatePatch` applied
  (`template_patch`), the namespace and resources finalizer added, the spec normalized, refused
  names and duplicates reported.

Generators that need a live system (`scmProvider`, `pullRequest`, `clusterDecisionResource`,
`plugin`), a git generator on another repository, and unknown generators are never skipped
silently: each is reported as `Unrendered`, and a `matrix`/`merge` containing one is unrendered as
a whole. Bad input never raises: every problem is a sentence in `errors`.

Known approximations: the cluster generator and the merge generator iterate Go maps in Argo CD
(random order); here their output keeps the configuration's and the first generator's order. The
git file generator uses Argo CD's default ("old") globbing, `git ls-files` pathspecs where `*`
also matches `/`; `--enable-new-git-file-globbing` is not modelled. A controller with
`cluster.inClusterEnabled: false` is not modelled either.
"""

from __future__ import annotations

from .expander import AppSetExpansion, expand_appset
from .generated_applications import RESOURCES_FINALIZER
from .parameters import go_format, sanitize_name
from .templates import fasttemplate

__all__ = [
    "RESOURCES_FINALIZER",
    "AppSetExpansion",
    "expand_appset",
    "fasttemplate",
    "go_format",
    "sanitize_name",
]
