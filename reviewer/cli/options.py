"""Options shared by the subcommands that open a revision of the config repo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..records import SEVERITIES

F = TypeVar("F", bound=Callable[..., Any])


def revision_options(func: F) -> F:
    """--repo, --config, --offline and --rev: for commands that read one revision."""
    func = repo_options(func)
    return click.option(
        "--rev",
        default="WORKTREE",
        show_default=True,
        help="Git revision to read; WORKTREE means the working tree, uncommitted changes included.",
    )(func)


def repo_options(func: F) -> F:
    """--repo, --config and --offline."""
    func = click.option(
        "--offline/--online",
        default=None,
        help="Refuse (or allow) network fetches of charts from chart repositories. "
        "Default: online unless GITOPS_REVIEWER_OFFLINE=1.",
    )(func)
    func = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Read this config file instead of the revision's .gitops-reviewer.yaml.",
    )(func)
    func = click.option(
        "--repo",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="The config repo (may be a subdirectory of a git repository).",
    )(func)
    return func


def llm_options(func: F) -> F:
    """--llm/--no-llm, --llm-base-url, --llm-model and --llm-api-key-env, packed into one `llm`
    keyword argument (an `LlmOptions`) for the command."""
    import functools

    from ..llm.options import LlmOptions

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["llm"] = LlmOptions(
            enabled=kwargs.pop("llm_enabled"),
            base_url=kwargs.pop("llm_base_url"),
            model=kwargs.pop("llm_model"),
            api_key_env=kwargs.pop("llm_api_key_env"),
        )
        return func(*args, **kwargs)

    decorated: Any = wrapper
    decorated = click.option(
        "--llm-api-key-env",
        default=None,
        metavar="NAME",
        help="Name of the environment variable that holds the LLM API key (default: from the config).",
    )(decorated)
    decorated = click.option("--llm-model", default=None, help="Model name (default: from the config).")(decorated)
    decorated = click.option(
        "--llm-base-url", default=None, help="OpenAI-compatible endpoint (default: from the config)."
    )(decorated)
    decorated = click.option(
        "--llm/--no-llm",
        "llm_enabled",
        default=None,
        help="Add the advisory LLM review (default: as the config's `llm.enabled` says; off when unset).",
    )(decorated)
    return decorated  # type: ignore[no-any-return]


def fail_on_option(func: F) -> F:
    """--fail-on SEVERITY: the lowest finding severity that fails the review."""
    return click.option(
        "--fail-on",
        type=click.Choice(SEVERITIES),
        default="error",
        show_default=True,
        help="Lowest finding severity that fails the check.",
    )(func)
