"""The one adapter to the CEL library (common-expression-language, Rust's cel-interpreter underneath).

User policies use the variable names Kubernetes users write in ValidatingAdmissionPolicy: `object`,
`oldObject`, `operation`, plus `app` and `change`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class CelError(ValueError):
    """An expression does not compile or does not evaluate; the message says why."""


class Expression:
    def __init__(self, source: str, where: str) -> None:
        self.source = source
        self.where = where
        import cel  # ~0.3 s to import: paid only by a review that has user policies

        try:
            self._program = cel.compile(source)
        except ValueError as exc:
            raise CelError(f"{where}: invalid CEL expression: {str(exc).splitlines()[0]}") from None

    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        try:
            return self._program.execute(dict(variables))
        except Exception as exc:  # the library raises KeyError, TypeError, ValueError, RuntimeError...
            raise CelError(f"{self.where}: {type(exc).__name__}: {exc}") from None
