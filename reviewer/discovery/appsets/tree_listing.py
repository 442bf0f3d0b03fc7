"""The directories and files of the tree under review, as the git generators see them.

Each list is read once per ApplicationSet, on first use.
"""

from __future__ import annotations

import os
from pathlib import Path


class TreeListing:
    def __init__(self, tree_root: Path) -> None:
        self.tree_root = tree_root
        self._dirs: list[str] | None = None
        self._files: list[str] | None = None

    def directories(self) -> list[str]:
        """Every directory of the tree, pre-order and sorted, without hidden ones.

        ACD `reposerver/repository/repository.go` GetGitDirectories: a directory whose name starts
        with "." is skipped with everything under it; symbolic links are not directories.
        """
        if self._dirs is None:
            self._dirs = []
            for top, dirnames, _ in os.walk(self.tree_root):
                keep = sorted(d for d in dirnames if not d.startswith(".") and not os.path.islink(os.path.join(top, d)))
                dirnames[:] = keep
                rel_top = os.path.relpath(top, self.tree_root)
                for name in keep:
                    self._dirs.append(name if rel_top == "." else f"{rel_top}/{name}".replace(os.sep, "/"))
            self._dirs.sort(key=lambda p: p.split("/"))
        return self._dirs

    def files(self) -> list[str]:
        """Every file of the tree (what `git ls-files` lists), as paths relative to its root."""
        if self._files is None:
            self._files = []
            root = self.tree_root.resolve()
            for top, dirnames, filenames in os.walk(self.tree_root):
                dirnames[:] = sorted(d for d in dirnames if d != ".git")
                rel_top = os.path.relpath(top, self.tree_root)
                for name in sorted(filenames):
                    full = os.path.join(top, name)
                    if os.path.islink(full) and not Path(full).resolve().is_relative_to(root):
                        continue  # a link out of the repository is never read
                    self._files.append(name if rel_top == "." else f"{rel_top}/{name}".replace(os.sep, "/"))
        return self._files
