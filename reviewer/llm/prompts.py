"""The prompts and the output schema: trusted files, never text built in code.

They ship in the package (`reviewer/prompts/`). A config repo may override the system prompt and the user
prompt template with files in the directory its `llm.prompts` names; that directory is read from the base
revision's tree, never from the change under review, so a pull request cannot talk the reviewer out of
anything. The output schema is not overridable: validation and the reports depend on its fields.

Templates use `string.Template` and are rendered with `substitute`, so a template that names a variable
the reviewer does not provide fails loudly instead of sending a prompt with a hole in it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from ..errors import ConfigError

SYSTEM_FILE = "system.txt"
USER_FILE = "user.txt"
SCHEMA_FILE = "findings.schema.json"
OVERRIDABLE = (SYSTEM_FILE, USER_FILE)
MAX_PROMPT_BYTES = 64 * 1024


class PromptError(ConfigError):
    """A prompt file is missing, unreadable, too large, or uses a variable that does not exist."""


@dataclass(frozen=True, slots=True)
class Prompts:
    system: str  # template
    user: str  # template
    schema: Mapping[str, Any]  # the JSON schema of the answer
    schema_name: str
    schema_version: str
    source: str  # `package`, or the override directory (repo-relative)
    digest: str  # sha256 of the three files, 12 hex digits: names the exact prompt in the report

    def render(self, name: str, variables: Mapping[str, object]) -> str:
        """Template `name` (`system` or `user`) with `variables`; an unknown `$name` is a PromptError."""
        template = self.system if name == "system" else self.user
        try:
            return Template(template).substitute({k: str(v) for k, v in variables.items()})
        except KeyError as exc:
            raise PromptError(
                f"the {name} prompt ({self.source}) uses ${exc.args[0]}, which is not a prompt variable "
                f"(variables: {', '.join(sorted(variables))})"
            ) from None
        except ValueError as exc:
            raise PromptError(
                f"the {name} prompt ({self.source}) has a bad placeholder ({exc}); write $$ for $"
            ) from None


def _package_text(name: str) -> str:
    return resources.files("reviewer").joinpath("prompts", name).read_text(encoding="utf-8")


def _override_text(root: Path, directory: str, name: str) -> str | None:
    """`name` from the override directory, if it is there. A directory from the config is relative to
    the base tree and must stay inside it; an absolute one comes from the person running the tool."""
    folder = Path(directory) if Path(directory).is_absolute() else root / directory
    limit = folder.resolve() if Path(directory).is_absolute() else root.resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(limit):
        raise PromptError(f"llm.prompts: {directory}/{name} points outside the config repo")
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_PROMPT_BYTES:
        raise PromptError(f"llm.prompts: {directory}/{name} is larger than {MAX_PROMPT_BYTES // 1024} KiB")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"llm.prompts: cannot read {directory}/{name}: {exc}") from None


def load_prompts(root: Path | None = None, directory: str = "") -> Prompts:
    """The package's prompts, with the files of `directory` (relative to `root`, the base revision's
    tree, or an absolute path given by the person running the tool) taking their place."""
    texts = {name: _package_text(name) for name in (*OVERRIDABLE, SCHEMA_FILE)}
    source = "package"
    if directory:
        if root is None and not Path(directory).is_absolute():
            raise PromptError(f"llm.prompts: {directory} is relative, but no repository tree was given")
        found = {name: _override_text(root or Path.cwd(), directory, name) for name in OVERRIDABLE}
        if not any(found.values()):
            raise PromptError(f"llm.prompts: {directory} has neither {SYSTEM_FILE} nor {USER_FILE}")
        texts.update({name: text for name, text in found.items() if text is not None})
        source = directory
    wrapper = json.loads(texts[SCHEMA_FILE])
    digest = hashlib.sha256("\0".join(texts[name] for name in (*OVERRIDABLE, SCHEMA_FILE)).encode()).hexdigest()
    return Prompts(
        system=texts[SYSTEM_FILE],
        user=texts[USER_FILE],
        schema=wrapper["schema"],
        schema_name=str(wrapper["name"]),
        schema_version=str(wrapper["version"]),
        source=source,
        digest=digest[:12],
    )
