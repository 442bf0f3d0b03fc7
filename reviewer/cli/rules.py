"""`gitops-reviewer rules`: the built-in rules, and `rules explain ID` for one rule's documentation."""

from __future__ import annotations

import inspect
from types import ModuleType

import click

from ..policies import RULE_MODULES, load_rules


def summary(rule: ModuleType) -> str:
    """The first line of the rule's docstring, without its leading `<id>: `."""
    doc = inspect.cleandoc(rule.__doc__ or "")
    first = doc.splitlines()[0] if doc else ""
    prefix = f"{rule.ID}: "
    return first[len(prefix) :] if first.startswith(prefix) else first


def rules_table(rules: list[ModuleType]) -> str:
    rows = [("RULE", "SEVERITY", "WHAT IT FLAGS"), *((r.ID, r.SEVERITY, summary(r)) for r in rules)]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return "\n".join(f"{a.ljust(widths[0])}  {b.ljust(widths[1])}  {c}".rstrip() for a, b, c in rows)


@click.group("rules", invoke_without_command=True)
@click.pass_context
def rules_command(ctx: click.Context) -> None:
    """List the built-in rules: id, default severity, what each flags."""
    if ctx.invoked_subcommand is None:
        click.echo(rules_table(sorted(load_rules(), key=lambda rule: str(rule.ID))))


@rules_command.command("explain")
@click.argument("rule_id", metavar="ID")
def explain_command(rule_id: str) -> None:
    """Print a rule's documentation: what it checks, why it matters, examples, options."""
    if rule_id not in RULE_MODULES:
        raise click.UsageError(f"unknown rule {rule_id!r}; the rules are: {', '.join(sorted(RULE_MODULES))}")
    (rule,) = load_rules([rule_id])
    click.echo(f"{rule.ID} (default severity: {rule.SEVERITY})\n")
    click.echo(inspect.cleandoc(rule.__doc__ or "(no documentation)"))
