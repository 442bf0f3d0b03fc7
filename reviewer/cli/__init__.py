"""The `gitops-reviewer` command. One module per subcommand; errors map to exit codes here.

Exit codes: 0 pass, 1 blocking findings or failed renders, 2 usage/config error, 3 internal error.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import click

from .. import __version__
from ..errors import ReviewerError
from .apps import apps_command
from .check import check_command, diff_command
from .github import github_command
from .gitlab import gitlab_command
from .llm_eval import llm_eval_command
from .merge import merge_command
from .render import render_command
from .rules import rules_command


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReviewerError as exc:
            click.echo(f"gitops-reviewer: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: say so, exit 3, and never let it read as a pass
            if os.environ.get("GITOPS_REVIEWER_DEBUG"):
                traceback.print_exc()
            click.echo(
                f"gitops-reviewer: internal error: {type(exc).__name__}: {exc} "
                "(set GITOPS_REVIEWER_DEBUG=1 for the traceback)",
                err=True,
            )
            sys.exit(3)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gitops-reviewer")
def cli() -> None:
    """What will Argo CD do to your clusters when this change merges?"""


cli.add_command(apps_command)
cli.add_command(render_command)
cli.add_command(check_command)
cli.add_command(diff_command)
cli.add_command(merge_command)
cli.add_command(rules_command)
cli.add_command(github_command)
cli.add_command(gitlab_command)
cli.add_command(llm_eval_command)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
