"""The error hierarchy. Every error reaching the user is a sentence; the CLI maps classes to exit codes."""

from __future__ import annotations


class ReviewerError(Exception):
    """Base of every error gitops-reviewer raises on purpose."""

    exit_code = 3


class UsageError(ReviewerError):
    """The user asked for something that cannot be done (bad flag, unknown app, bad revision)."""

    exit_code = 2


class ConfigError(UsageError):
    """`.gitops-reviewer.yaml` (or another configuration input) is invalid."""


class GitError(UsageError):
    """A git command failed: not a repository, unknown revision, ..."""


class ManifestError(ReviewerError):
    """A YAML/JSON document could not be read (syntax, size limit, alias bomb)."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(f"{where}{message}")
        self.file = file
        self.line = line


class ToolError(ReviewerError):
    """An external tool (git, kustomize, helm) failed, timed out or could not be started."""

    def __init__(self, message: str, *, command: str, exit_code: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.command = command
        self.returncode = exit_code
        self.stderr = stderr


class RenderFailure(ReviewerError):
    """One source of one app could not be rendered. Caught per app and recorded as data."""

    def __init__(self, message: str, *, command: str = "", exit_code: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.command = command
        self.returncode = exit_code
        self.stderr = stderr
