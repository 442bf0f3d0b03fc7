"""The `gitops-reviewer` command. One module per subcommand; errors map to exit codes here.

Exit codes: 0 pass, 1 blocking findings or failed renders, 2 usage/config error, 3 internal error.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .. import __version__
from ..errors import ReviewerError
from .apps import apps_command
from .render import render_command


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReviewerError as exc:
            click.echo(f"gitops-reviewer: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gitops-reviewer")
def cli() -> None:
    """What will Argo CD do to your clusters when this change merges?"""


cli.add_command(apps_command)
cli.add_command(render_command)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
