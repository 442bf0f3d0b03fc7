"""The `gitops-reviewer` command. One module per subcommand; errors map to exit codes here.

Exit codes: 0 pass, 1 blocking findings or failed renders, 2 usage/config error, 3 internal error.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from .. import __version__
from ..collector import exit_now, tune_collector
from ..errors import ReviewerError

# Subcommands by name -> ("module:attribute", one-line help). A command's module is imported only when
# that command runs: `gitops-reviewer --help` lists the commands from this table alone, so it pays for
# none of Helm, CEL, the review pipeline or the platform and LLM clients. The one-line help must equal
# the command's own (a test keeps them in step).
COMMANDS: dict[str, tuple[str, str]] = {
    "apps": ("reviewer.cli.apps:apps_command", "List every Argo CD Application of the config repo at a revision."),
    "check": (
        "reviewer.cli.check:check_command",
        "Review the change before you push: what will Argo CD do when it merges?",
    ),
    "diff": (
        "reviewer.cli.check:diff_command",
        "Print what Argo CD would change, app by app, without judging it (`argocd app diff` for the repo).",
    ),
    "github": (
        "reviewer.cli.github:github_command",
        "Review a pull request in GitHub Actions; post a comment, a check run and the job summary.",
    ),
    "gitlab": (
        "reviewer.cli.gitlab:gitlab_command",
        "Review a GitLab merge request in its pipeline and post the result to it.",
    ),
    "llm-eval": (
        "reviewer.cli.llm_eval:llm_eval_command",
        "Score the advisory LLM review on labelled change sets: recall, precision, noise.",
    ),
    "merge": (
        "reviewer.cli.merge:merge_command",
        "Merge the parts of a sharded review (`check --shard I/N --output part-I.json`) into one report.",
    ),
    "render": ("reviewer.cli.render:render_command", "Render Applications the way Argo CD's repo-server would."),
    "rules": ("reviewer.cli.rules:rules_command", "List the built-in rules: id, default severity, what each flags."),
}
SHORT_HELP_LIMIT = 150


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        module, _, attribute = COMMANDS[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `--help`, from the table: no command module is imported for it."""
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
                import traceback

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
    tune_collector()
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
    except SystemExit as done:  # how every command ends (click's standalone mode)
        if done.code is None or isinstance(done.code, int):
            exit_now(done.code)
        raise
