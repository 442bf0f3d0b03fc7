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


_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int:
    """`512M`, `2G`, `1048576`: a size in bytes (binary units, an optional trailing `B` or `iB`)."""
    raw = text.strip().upper().removesuffix("IB").removesuffix("B")
    number, unit = (raw[:-1], raw[-1]) if raw and raw[-1] in _SIZE_UNITS else (raw, "")
    try:
        value = float(number)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size (examples: 512M, 2G)") from None
    if value <= 0:
        raise click.BadParameter("the cache size must be positive")
    return int(value * _SIZE_UNITS[unit])


def render_options(func: F) -> F:
    """--jobs, --cache-dir, --no-cache and --cache-max-size, given to the command as `jobs` (renders at
    a time) and `cache` (a RenderCache, or None with --no-cache)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..cachedir import default_cache_dir
        from ..rendering.cache import RenderCache

        directory = kwargs.pop("cache_dir")
        max_size = kwargs.pop("cache_max_size")
        use_cache = kwargs.pop("use_cache")
        kwargs["cache"] = RenderCache(directory or default_cache_dir(), parse_size(max_size)) if use_cache else None
        return func(*args, **kwargs)

    decorated: Any = wrapper
    decorated = click.option(
        "--cache-max-size",
        default="1G",
        show_default=True,
        envvar="GITOPS_REVIEWER_CACHE_MAX_SIZE",
        metavar="SIZE",
        help="Bound of the render cache (512M, 2G, ...); the least recently used renders go first.",
    )(decorated)
    decorated = click.option(
        "--cache/--no-cache",
        "use_cache",
        default=True,
        help="Reuse renders whose inputs did not change, from the cache directory (default: on).",
    )(decorated)
    decorated = click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        envvar="GITOPS_REVIEWER_CACHE_DIR",
        help="Where renders and pulled charts are cached "
        "(default: $XDG_CACHE_HOME/gitops-reviewer, else ~/.cache/gitops-reviewer).",
    )(decorated)
    decorated = click.option(
        "--jobs",
        "-j",
        type=click.IntRange(min=1),
        default=None,
        help="Renders to run at a time (default: one per CPU core).",
    )(decorated)
    return decorated  # type: ignore[no-any-return]
