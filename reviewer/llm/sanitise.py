"""Sanitising, both ways: hidden text out of the data sent to the model, markup out of what comes back.

Going out, the data is untrusted repository content. Zero-width and bidirectional characters can hide
instructions from a human reviewer while the model reads them, and HTML comments are invisible in a
rendered PR but not to the model: all three are removed, and the review notes that they were there.

Coming back, the model's text goes into a PR/MR comment, where markup acts: a link or image can leak data
or mislead, raw HTML renders, `@name` notifies people, and a line starting with `/` is a GitLab quick
action (`/approve`, `/merge`) that GitLab executes from a note. Model text is flattened to one line of
plain text with all of those taken out; the report formats then escape it as they escape everything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..redaction import MASK

ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad]")
# The bidi controls of Unicode TR9 (embeddings, overrides, isolates, marks); "Trojan Source", CVE-2021-42574.
BIDI = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
# C0/C1 controls other than tab and newline: they have no business in a manifest value or a reply.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_HIDDEN = (
    ("zero-width character", ZERO_WIDTH),
    ("bidirectional control character", BIDI),
    ("HTML comment", HTML_COMMENT),
    ("control character", CONTROL),
)


class HiddenTextStripper:
    """Removes hidden text from every string (and map key) of a JSON-like value, counting by kind."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def text(self, text: str) -> str:
        for kind, pattern in _HIDDEN:
            text, n = pattern.subn("", text)
            if n:
                self.counts[kind] = self.counts.get(kind, 0) + n
        return text

    def value(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {self.text(str(key)): self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def notes(self) -> tuple[str, ...]:
        """`3 zero-width characters`, ... in a fixed order."""
        out = []
        for kind, _ in _HIDDEN:
            n = self.counts.get(kind, 0)
            if n:
                out.append(f"{n} {kind}" + ("s" if n > 1 else ""))
        return tuple(out)


# Markdown and HTML constructs that must not reach a comment from the model.
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_INLINE_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_REFERENCE_LINK = re.compile(r"\[([^\]]*)\]\s?\[[^\]]*\]")
_REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S.*$", re.MULTILINE)
_AUTOLINK = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9+.\-]*:|www\.)[^>\s]*>")
_URL = re.compile(r"\b(?:[a-zA-Z][a-zA-Z0-9+.\-]*://|www\.)\S+")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_MENTION = re.compile(r"@(?=[A-Za-z0-9_\-])")
LINK_REMOVED = "(link removed)"


def model_text(text: str, *, limit: int) -> str:
    """Model-written `text` as one line of plain text, at most `limit` characters: no images, links
    (inline, reference-style, autolinks or bare URLs), HTML (tags or comments), @mentions, hidden or
    control characters, and no line (there is only one) that starts with `/`."""
    text = HiddenTextStripper().text(text.replace("\t", " ").replace("\r", "\n"))
    text = _REFERENCE_DEFINITION.sub("", text)
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _INLINE_LINK.sub(lambda m: m.group(1), text)
    text = _REFERENCE_LINK.sub(lambda m: m.group(1), text)
    text = _AUTOLINK.sub(LINK_REMOVED, text)
    text = _URL.sub(LINK_REMOVED, text)
    text = text.replace(MASK, "(redacted)")  # the mask looks like a tag; keep what it says
    text = _TAG.sub("", text)
    text = text.replace("<", "‹").replace(">", "›")  # what is left of a tag cannot become one again
    text = _MENTION.sub("(at)", text)
    text = " ".join(text.split())
    text = text.lstrip("/ ")  # a GitLab quick action needs `/` at the start of a line
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
