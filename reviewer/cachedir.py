"""Where gitops-reviewer keeps its caches (renders, charts, LLM answers) and how it writes them.

One directory, `$GITOPS_REVIEWER_CACHE_DIR`, else `$XDG_CACHE_HOME/gitops-reviewer`, else
`~/.cache/gitops-reviewer`; each cache has its own subdirectory. Entries are written atomically (a
temporary file in the same directory, then `os.replace`), so concurrent runs sharing a cache (CI jobs
restoring the same cache key) never read a half-written entry.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def default_cache_dir() -> Path:
    explicit = os.environ.get("GITOPS_REVIEWER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "gitops-reviewer"


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see either the old content or all of the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
