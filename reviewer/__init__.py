"""gitops-reviewer: a pull-request gate for Argo CD config repositories."""

from __future__ import annotations

__version__ = "0.1.0"
