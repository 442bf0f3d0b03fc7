from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.redaction import (
    MASK,
    Redactor,
    is_credential_name,
    is_credential_path,
    mask_secret_values,
    may_hold_credentials,
    redact_text,
    substituted,
)


def test_secret_values_are_masked_and_keys_kept() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "data": {"a": "c2VjcmV0"}, "stringData": {"b": "secret"}}
    masked = mask_secret_values(secret)
    assert masked["data"] == {"a": MASK}
    assert masked["stringData"] == {"b": MASK}
    assert secret["data"] == {"a": "c2VjcmV0"}, "the input is not modified"


def test_other_objects_are_untouched() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "visible"}}
    assert mask_secret_values(cm) is cm


# --- credentials outside Secrets (used for the LLM payload and on the model's reply) ---


@pytest.mark.parametrize(
    "token",
    [
        "ghp_" + "a" * 36,
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "glpat-" + "Ab3" * 7,
        "AKIAIOSFODNN7EXAMPLE",
        "xoxb-123456789012-abcdefghijkl",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "sk-proj-" + "Z" * 40,
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    ],
)
def test_known_token_shapes_are_redacted(token: str) -> None:
    text, count = redact_text(f"before {token} after")
    assert token not in text and text == f"before {MASK} after" and count == 1


def test_url_passwords_go_and_the_rest_of_the_url_stays() -> None:
    text, count = redact_text("DATABASE_URL=postgres://app:s3cret@db.shop:5432/app and https://example.com/x")
    assert text == f"DATABASE_URL=postgres://app:{MASK}@db.shop:5432/app and https://example.com/x" and count == 1


def test_names_that_hold_credentials_and_names_that_only_point_at_one() -> None:
    holds = ["DB_PASSWORD", "apiToken", "AWS_SECRET_ACCESS_KEY", "client-secret", "SENTRY_DSN", "Authorization"]
    points = ["secretName", "TOKEN_FILE", "passwordSecretRef", "tokenPath", "image", "LOG_LEVEL", "name"]
    assert all(is_credential_name(n) for n in holds)
    assert not any(is_credential_name(n) for n in points)
    assert is_credential_path("spec.template.spec.containers[name=api].env[name=DB_PASSWORD].value")
    assert not is_credential_path("spec.template.spec.containers[name=api].env[name=MODE].value")


def test_redactor_masks_by_name_pair_path_and_shape_and_counts() -> None:
    redactor = Redactor()
    value = {
        "env": [{"name": "API_TOKEN", "value": "t0k3n-value"}, {"name": "MODE", "value": "fast"}],
        "config": {"password": "pa55word", "secretName": "db-creds"},
        "fields": [{"path": "data.clientSecret", "before": "old-secret", "after": "new-secret"}],
        "note": "call https://u:hidden-pw@example.com",
    }
    out = redactor.value(value)
    assert out["env"] == [{"name": "API_TOKEN", "value": MASK}, {"name": "MODE", "value": "fast"}]
    assert out["config"] == {"password": MASK, "secretName": "db-creds"}
    assert out["fields"] == [{"path": "data.clientSecret", "before": MASK, "after": MASK}]
    assert out["note"] == f"call https://u:{MASK}@example.com"
    assert redactor.count == 5
    assert value["config"]["password"] == "pa55word", "the input is not modified"
    scrubbed = redactor.scrub("the model guessed pa55word and t0k3n-value and hidden-pw")
    assert scrubbed == f"the model guessed {MASK} and {MASK} and {MASK}"


_FRAGMENTS = [
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "glpat-",
    "AKIA",
    "ASIA",
    "xoxb-",
    "xoxe.",
    "eyJ",
    ".eyJ",
    "sk-",
    "sk-proj-",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "https://",
    "u:p@",
    "://",
    "@",
    ":",
    " ",
    "\n",
    "a" * 12,
    "A1B2C3D4E5F6G7H8",
    "_-",
    "9" * 25,
    "x",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map("".join))
def test_the_quick_check_never_skips_a_credential(text: str) -> None:
    assert redact_text(text) == substituted(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from([*_FRAGMENTS, '"', "\\", "\t", "\x00"]), max_size=8).map("".join), max_size=3))
def test_a_json_text_without_the_literals_holds_no_string_to_redact(strings: list[str]) -> None:
    """The quick check on a whole JSON text (reviewer.report.json_report): what it clears, every string
    of the text would come through redaction unchanged, escaped characters around a token included."""
    text = json.dumps({"values": strings}, indent=2, ensure_ascii=False)
    if not may_hold_credentials(text):
        assert all(substituted(string) == (string, 0) for string in strings)
