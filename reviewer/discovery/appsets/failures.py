"""How a generator says it could not produce parameters; the expander turns each into a sentence."""

from __future__ import annotations


class GeneratorFailure(Exception):
    """A generator could not produce parameters (ACD: GenerateParams returned an error)."""


class NotOffline(Exception):
    """A generator needs something this review does not have (a live API, another repository)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
