"""Prompt templates (prompts/*.txt, string.Template syntax) and the chat messages.

Templates are checked when loaded, so a typo fails at startup rather than mid-request.
Write ``$$`` for a literal dollar sign.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from types import MappingProxyType

from rag.citations import Source, format_context

PROMPT_DIR = Path(__file__).resolve().parents[1] / "prompts"
# file name -> the placeholders it must use (and the only ones it may use)
PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType({
    "system.txt": frozenset(),
    "answer.txt": frozenset({"context", "question"}),
})
MAX_TURNS = 3
MAX_HISTORY_CHARS = 6000


class PromptError(ValueError):
    """A prompt template is missing or malformed."""


@dataclass(frozen=True)
class Prompts:
    system: str
    answer: Template


def load_prompts(prompt_dir: str | Path = PROMPT_DIR) -> Prompts:
    """Read and validate every template; PromptError names the file and the problem."""
    directory = Path(prompt_dir)
    system = load_template(directory / "system.txt", PLACEHOLDERS["system.txt"])
    answer = load_template(directory / "answer.txt", PLACEHOLDERS["answer.txt"])
    return Prompts(system.substitute().strip(), answer)


def load_template(path: Path, placeholders: frozenset[str]) -> Template:
    """One template, which must use exactly ``placeholders``."""
    try:
        template = Template(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PromptError(f"cannot read prompt template {path}: {exc.strerror}; restore the file") from None
    _check_syntax(path, template)
    _check_names(path, set(template.get_identifiers()), placeholders)
    return template


def _check_syntax(path: Path, template: Template) -> None:
    for match in template.pattern.finditer(template.template):
        if match.group("invalid") is not None:
            line = template.template.count("\n", 0, match.start()) + 1
            found = template.template[match.start():match.start() + 12].split("\n")[0]
            raise PromptError(f"{path}:{line}: bad placeholder {found!r}; write $name, ${{name}} or $$ for '$'")


def _check_names(path: Path, used: set[str], placeholders: frozenset[str]) -> None:
    allowed = ", ".join(f"${name}" for name in sorted(placeholders)) or "none"
    missing, unknown = sorted(placeholders - used), sorted(used - placeholders)
    if missing:
        raise PromptError(f"{path}: missing placeholder ${missing[0]}; add it to the template (needed: {allowed})")
    if unknown:
        raise PromptError(f"{path}: unknown placeholder ${unknown[0]}; use only {allowed}, or $$ for a literal '$'")


def build_messages(prompts: Prompts, question: str, sources: Sequence[Source],
                   history: Sequence[Mapping[str, str]] = (), *, max_turns: int = MAX_TURNS,
                   max_history_chars: int = MAX_HISTORY_CHARS) -> list[dict[str, str]]:
    """System prompt, the recent history, then the question with its numbered sources."""
    user = prompts.answer.substitute(context=format_context(sources), question=question.strip())
    recent = trim_history(history, max_turns, max_history_chars)
    return [{"role": "system", "content": prompts.system}, *recent, {"role": "user", "content": user}]


def trim_history(history: Sequence[Mapping[str, str]], max_turns: int,
                 max_chars: int) -> list[dict[str, str]]:
    """The last ``max_turns`` user/assistant turns that fit in ``max_chars`` characters.

    Other roles (a client-sent "system" message) and non-text contents are dropped,
    and the kept part starts with a user message.
    """
    messages = [_message(m) for m in history if _usable(m)]
    kept = messages[-2 * max_turns:] if max_turns > 0 else []
    while kept and (sum(len(m["content"]) for m in kept) > max_chars or kept[0]["role"] != "user"):
        kept.pop(0)
    return kept


def _usable(message: Mapping[str, str]) -> bool:
    return message.get("role") in ("user", "assistant") and isinstance(message.get("content"), str)


def _message(message: Mapping[str, str]) -> dict[str, str]:
    return {"role": message["role"], "content": message["content"]}
