"""Secret values never leave the process: masked before anything is printed, posted or cached."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "<redacted>"


def is_secret(body: Mapping[str, Any]) -> bool:
    api_version = body.get("apiVersion")
    return body.get("kind") == "Secret" and api_version == "v1"


def mask_secret_values(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """A copy of a v1 Secret with every `data` / `stringData` value masked (keys kept); other objects as is."""
    if not is_secret(body):
        return body
    masked = dict(body)
    for field in ("data", "stringData"):
        values = body.get(field)
        if isinstance(values, Mapping):
            masked[field] = {key: MASK for key in values}
    return masked


# Credentials that are not in a Secret: tokens with a recognisable shape, passwords in URLs, and values
# whose name says they are credentials. Used on everything that leaves for the LLM, and on what comes back.

# Formats documented by their issuers: GitHub (ghp_/gho_/ghu_/ghs_/ghr_, and fine-grained github_pat_),
# GitLab personal/project/group tokens (glpat-), AWS access key ids (AKIA long-term, ASIA temporary), Slack
# (xoxb-/xoxp-/xoxa-/xoxr-/xoxs-, xoxe.), JSON Web Tokens (three base64url parts, the first two JSON
# objects, so `eyJ`), PEM private keys, and OpenAI keys (sk-, sk-proj-, sk-svcacct-, sk-admin-).
# Kept as text, and used through `re`'s functions, which compile a pattern on first use (and remember
# it): most texts never get past `may_hold_credentials`, so most runs compile none of them.
TOKEN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("GitHub token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}"),
    ("GitHub token", r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    ("GitLab token", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    ("AWS access key", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    ("Slack token", r"\bxox(?:[abposr]-|e\.)[A-Za-z0-9.\-]{10,}"),
    ("JWT", r"\beyJ[A-Za-z0-9_\-]{6,}\.eyJ[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]+"),
    ("private key", r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*)"),
    ("OpenAI key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
)
# scheme://user:password@host: the password goes, the user and host stay (they say what is reached).
URL_CREDENTIALS = r"(?P<prefix>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"']*):(?P<password>[^\s/@\"']+)@"

# Names (env vars, map keys) whose value is a credential. Normalised: lower case without `-`, `_`, `.`.
_CREDENTIAL_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|apikey|accesskey|privatekey|credential|authkey|bearer"
    r"|authorization|connectionstring|dsn|sessionkey|signingkey|encryptionkey|masterkey"
)
# ... unless the name says the value only points at one: `secretName`, `tokenFile`, `PASSWORD_PATH`.
_REFERENCE_SUFFIXES = ("name", "names", "ref", "file", "path", "dir", "mount", "volume", "kind", "namespace")


def is_credential_name(name: str) -> bool:
    """Does a variable or key called `name` hold a credential? `DB_PASSWORD`, `apiToken`, `AWS_SECRET_ACCESS_KEY`
    do; `secretName`, `TOKEN_FILE`, `passwordSecretRef` only name where one is."""
    norm = re.sub(r"[-_.]", "", name.lower())
    if not re.search(_CREDENTIAL_WORDS, norm):
        return False
    return not norm.endswith(_REFERENCE_SUFFIXES)


# `...env[name=DB_PASSWORD].value`, `...data.apiToken`: the last step of a field path names the value.
_PAIR_VALUE = r"\[name=(?P<name>[^\]]+)\]\.value$"


def is_credential_path(path: str) -> bool:
    """Is the field at `path` (a diff path) a credential: the value of a credential-named env var or
    `{name, value}` pair, or a key whose name says so?"""
    pair = re.search(_PAIR_VALUE, path)
    if pair is not None:
        return is_credential_name(pair["name"].strip("'\""))
    last = re.split(r"[.\[]", path.rstrip("]"))[-1].strip("'\"")
    return bool(last) and is_credential_name(last)


# A literal that each pattern above needs (in order: GitHub, GitLab, AWS, Slack, JWT, PEM, OpenAI, URL).
# Text with none of them holds nothing to redact: one search instead of nine substitutions per string,
# for the many strings of every manifest a report prints.
_ANY_PATTERN = re.compile(r"gh[pousr]_|github_pat_|glpat-|AKIA|ASIA|xox|eyJ|-----BEGIN |sk-|://")


def may_hold_credentials(text: str) -> bool:
    """Whether `redact_text` may mask anything in `text`: False means it returns `text` as it is. The
    same holds for the strings of a JSON text: escaping a string for JSON (without ensure_ascii) changes
    only quotes, backslashes and control characters, which none of the literals hold, so a JSON text
    with none of them has no string that holds one."""
    return _ANY_PATTERN.search(text) is not None


def redact_text(text: str) -> tuple[str, int]:
    """`text` with known token shapes and URL passwords replaced by MASK, and how many were replaced."""
    if not may_hold_credentials(text):
        return text, 0
    return substituted(text)


def substituted(text: str) -> tuple[str, int]:
    """`redact_text` without its quick check: every substitution tried on `text`."""
    count = 0
    for _, pattern in TOKEN_PATTERNS:
        text, n = re.subn(pattern, MASK, text)
        count += n
    text, n = re.subn(URL_CREDENTIALS, lambda m: f"{m['prefix']}:{MASK}@", text)
    return text, count + n


class Redactor:
    """Redacts credentials out of a JSON-like value and keeps count.

    `originals` holds the values it took out, in memory only, so that text coming back (a model's reply)
    can be checked for them too; it is never written anywhere.
    """

    def __init__(self) -> None:
        self.count = 0
        self.originals: set[str] = set()

    def mask(self, original: Any) -> str:
        """Count one value as redacted and return the mask that replaces it."""
        self.count += 1
        if isinstance(original, str) and len(original) >= 4:
            self.originals.add(original)
        return MASK

    def text(self, text: str) -> str:
        redacted, n = redact_text(text)
        if n:
            self.count += n
            self.originals.update(_removed_parts(text))
        return redacted

    def value(self, value: Any, name: str = "") -> Any:
        """A copy of `value` with credentials masked: strings by shape, values by the name they are under
        (a map key, or the `name` of an `{name, value}` pair such as a container's env entry)."""
        if isinstance(value, Mapping):
            pair_name, path = value.get("name"), value.get("path")
            masked_keys: tuple[str, ...] = ()
            if isinstance(pair_name, str) and is_credential_name(pair_name):
                masked_keys = ("value",)  # a container env entry, or any {name, value} pair
            elif isinstance(path, str) and is_credential_path(path):
                masked_keys = ("before", "after")  # a field delta of such a value
            out: dict[str, Any] = {}
            for key, item in value.items():
                if key in masked_keys and isinstance(item, str) and item and not item.startswith("<redacted"):
                    out[key] = self.mask(item)
                else:
                    out[key] = self.value(item, str(key))
            return out
        if isinstance(value, list | tuple):
            return [self.value(item, name) for item in value]
        if isinstance(value, str):
            if name and is_credential_name(name) and value and not value.startswith("<redacted"):
                return self.mask(value)
            return self.text(value)
        return value

    def scrub(self, text: str) -> str:
        """`text` with token shapes, URL passwords and every value this redactor took out masked."""
        text = self.text(text)
        for original in sorted(self.originals, key=len, reverse=True):
            text = text.replace(original, MASK)
        return text


def _removed_parts(before: str) -> set[str]:
    """The substrings of `before` that redaction replaces (for Redactor.originals)."""
    parts: set[str] = set()
    for _, pattern in TOKEN_PATTERNS:
        parts.update(m.group() for m in re.finditer(pattern, before))
    parts.update(m["password"] for m in re.finditer(URL_CREDENTIALS, before))
    return {p for p in parts if len(p) >= 4}
