"""The `gitops-reviewer` command. One module per subcommand; errors map to exit codes here.

Exit codes: 0 pass, 1 blocking findings or failed renders, 2 usage/config error, 3 internal error.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

import click

from .. import __version__
from ..errors import ReviewerError

# Subcommands by name -> "module:attribute", imported only when that command runs (or when the group's
# help lists them): `gitops-reviewer --help` must not pay for Helm, CEL or the platform clients. Every
# command module keeps its top-level imports light and imports its machinery inside the command.
COMMANDS: dict[str, str] = {
    "apps": "reviewer.cli.apps:apps_command",
    "render": "reviewer.cli.render:render_command",
    "check": "reviewer.cli.check:check_command",
    "diff": "reviewer.cli.check:diff_command",
    "rules": "reviewer.cli.rules:rules_command",
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        module, _, attribute = COMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

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



def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
