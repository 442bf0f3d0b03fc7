"""Discovery: every Argo CD Application of a config repo at one revision (DESIGN.md, "Discover")."""
