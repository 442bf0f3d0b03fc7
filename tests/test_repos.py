from __future__ import annotations

import pytest

from reviewer.discovery.repos import RepoIdentity, normalise_repo_url, source_origin


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/Acme/Config.git",
        "https://github.com/acme/config",
        "https://github.com/acme/config/",
        "git@github.com:acme/config.git",
        "ssh://git@github.com/acme/config",
        "https://user:token@github.com/acme/config.git",
        "https://github.com:443/acme/config.git",
    ],
)
def test_spellings_of_one_repo_are_equal(url: str) -> None:
    assert normalise_repo_url(url) == "github.com/acme/config"


def test_other_repos_differ() -> None:
    identity = RepoIdentity.of(["git@github.com:acme/config.git"])
    assert identity.is_this_repo("https://github.com/acme/config")
    assert not identity.is_this_repo("https://github.com/acme/config-other")
    assert not identity.is_this_repo("https://gitlab.com/acme/config")
    assert not identity.is_this_repo("")


def test_source_origin() -> None:
    identity = RepoIdentity.of(["https://github.com/acme/config"])
    assert source_origin("https://github.com/acme/config.git", None, identity) == "repo"
    assert source_origin("https://charts.example.com", "redis", identity) == "chart"
    assert source_origin("oci://ghcr.io/acme/charts/app", None, identity) == "chart"
    assert source_origin("https://github.com/other/repo", None, identity) == "external"


def test_empty_or_placeholder_repo_urls_are_unresolved() -> None:
    identity = RepoIdentity.of(["https://github.com/acme/config"])
    assert source_origin("", None, identity) == "unresolved"
    assert source_origin("${GIT_BASEURL}/${GIT_ORG}/gitops", None, identity) == "unresolved"
    assert source_origin("{{metadata.annotations.addons_repo_url}}", "chart", identity) == "unresolved"
    # ...unless the config names that literal value as this repository.
    assert source_origin("${GIT_BASEURL}/gitops", None, RepoIdentity.of(["${GIT_BASEURL}/gitops"])) == "repo"
