"""render_app: multi-source apps, ref sources, and failure isolation."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepos import make_repo

import reviewer.rendering as rendering
from reviewer.revision import open_revision

REPO = "https://github.com/acme/config.git"


def cm(name: str, value: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: {value}\n"


MULTI = f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: multi, namespace: argocd}}
spec:
  project: default
  destination: {{server: https://kubernetes.default.svc, namespace: team}}
  sources:
  - repoURL: {REPO}
    ref: values
  - repoURL: {REPO}
    path: first
  - repoURL: {REPO}
    path: second
"""

BROKEN_SECOND = MULTI.replace("multi", "half").replace("path: second", "path: missing-dir")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(
        tmp_path_factory.mktemp("r") / "repo",
        {
            "argo/multi.yaml": MULTI,
            "argo/half.yaml": BROKEN_SECOND,
            "first/a.yaml": cm("shared", "from-first") + "---\n" + cm("only-first", "1"),
            "second/kustomization.yaml": "resources:\n- b.yaml\n",
            "second/b.yaml": cm("shared", "from-second"),
        },
    )


def test_sources_are_concatenated_and_the_last_duplicate_wins(repo: Path) -> None:
    with open_revision(repo, "HEAD") as view:
        result = view.render(view.find("multi"))
    assert result.ok
    assert result.source_types == ("ref", "directory", "kustomize")
    by_name = {r.key.name: r for r in result.resources}
    assert set(by_name) == {"shared", "only-first"}
    assert by_name["shared"].body["data"] == {"v": "from-second"}
    assert by_name["shared"].location is not None and by_name["shared"].location.file == "second/b.yaml"
    assert any("rendered more than once" in w for w in result.warnings)


def test_one_failing_source_fails_the_app_and_names_the_source(repo: Path) -> None:
    with open_revision(repo, "HEAD") as view:
        result = view.render(view.find("half"))
    assert not result.ok
    (error,) = result.errors
    assert error.source == 2
    assert "missing-dir" in error.message


def test_a_renderer_crash_is_an_error_of_that_app_only(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> list[object]:
        raise KeyError("unexpected")

    monkeypatch.setitem(rendering.RENDERERS, "kustomize", boom)
    with open_revision(repo, "HEAD") as view:
        result = view.render(view.find("multi"))
    assert not result.ok
    assert "internal error while rendering: KeyError" in result.errors[0].message
