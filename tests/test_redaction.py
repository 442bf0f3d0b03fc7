from __future__ import annotations

from reviewer.redaction import MASK, mask_secret_values


def test_secret_values_are_masked_and_keys_kept() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "data": {"a": "c2VjcmV0"}, "stringData": {"b": "secret"}}
    masked = mask_secret_values(secret)
    assert masked["data"] == {"a": MASK}
    assert masked["stringData"] == {"b": MASK}
    assert secret["data"] == {"a": "c2VjcmV0"}, "the input is not modified"


def test_other_objects_are_untouched() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "visible"}}
    assert mask_secret_values(cm) is cm
