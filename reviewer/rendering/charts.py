"""Helm charts from chart repositories and OCI registries, pulled by version and cached.

A chart at one version never changes (repositories publish immutable versions), so the cache key
is repository + chart + version; a version constraint is resolved by the repository and not cached.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from ..cachedir import default_cache_dir
from ..errors import RenderFailure
from ..records import AppSource
from .context import RenderContext

# Pulls run in a worker so that a repository that never answers costs at most the render timeout.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="chart-pull")
_EXACT = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")


def default_chart_cache() -> Path:
    """`charts/` under the cache root (reviewer.cachedir)."""
    return default_cache_dir() / "charts"


def is_exact_version(version: str) -> bool:
    """A published version (`1.2.3`, `v1.2.3-rc.1`), as opposed to a constraint or a branch."""
    return bool(_EXACT.match(version))


def chart_reference(source: AppSource) -> tuple[str, str | None]:
    """(chart_ref, repo_url) for helm_python.pull: OCI refs are `oci://host/path/chart`."""
    assert source.chart
    url = source.repo_url.rstrip("/")
    if url.startswith("oci://"):
        return f"{url}/{source.chart}", None
    if "://" not in url:  # Argo CD treats a scheme-less repoURL with a chart as an OCI registry
        return f"oci://{url}/{source.chart}", None
    return source.chart, url


def pull_chart(source: AppSource, ctx: RenderContext) -> Path:
    """The expanded chart directory for a chart source, from the cache or freshly pulled."""
    import helm_python

    version = source.target_revision if source.target_revision not in ("", "HEAD") else None
    label = f"{source.repo_url} {source.chart}@{version or 'latest'}"
    if ctx.offline:
        raise RenderFailure(f"chart {label} is not in this repository and network fetches are off (--offline)")
    ref, repo_url = chart_reference(source)
    cacheable = bool(version and is_exact_version(version))
    cache_root = ctx.cache_dir or default_chart_cache()
    key = hashlib.sha256(f"{ref}\0{repo_url}\0{version}".encode()).hexdigest()[:24]
    cached = cache_root / key
    if cacheable and (cached / "Chart.yaml").is_file():
        return cached
    tmp = Path(tempfile.mkdtemp(prefix="gitops-reviewer-pull-"))
    try:
        pulling = _POOL.submit(
            helm_python.pull, ref, version=version, repo_url=repo_url, untar=True, untar_dir=tmp, destination=tmp
        )
        try:
            pulling.result(timeout=ctx.config.render_timeout)
        except concurrent.futures.TimeoutError:
            raise RenderFailure(f"cannot pull chart {label}: no answer after {ctx.config.render_timeout:g} s") from None
        except helm_python.HelmError as exc:
            raise RenderFailure(f"cannot pull chart {label}: {exc}") from None
        charts = [p.parent for p in tmp.glob("*/Chart.yaml")]
        if len(charts) != 1:
            raise RenderFailure(f"pulled chart {label} did not unpack to one chart directory")
        if not cacheable:
            holder = tempfile.mkdtemp(prefix="gitops-reviewer-chart-")
            atexit.register(shutil.rmtree, holder, True)
            dest = Path(holder) / charts[0].name
            shutil.move(str(charts[0]), dest)
            return dest
        cache_root.mkdir(parents=True, exist_ok=True)
        staging = cache_root / f".{key}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.move(str(charts[0]), staging)
        try:
            staging.rename(cached)
        except OSError:  # another process cached it first
            shutil.rmtree(staging, ignore_errors=True)
        return cached
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
