"""The README's shell blocks, command by command, for the tests that run them as printed."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import click

from crawler.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


@dataclass(frozen=True)
class Command:
    section: str  # the "## " heading the block is under
    block: int  # which ```sh block of the README, from 0
    line: str  # as printed, comment included
    words: tuple[str, ...]  # one command of the line (split at &&), comment dropped


def readme_commands(text: str | None = None) -> list[Command]:
    """Every command of every ```sh block, in order."""
    text = README.read_text(encoding="utf-8") if text is None else text
    commands, section, in_block, block = [], "", False, -1
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if not in_block and line.strip() == "```sh":
            in_block, block = True, block + 1
        elif in_block and line.strip() == "```":
            in_block = False
        elif in_block and line.strip():
            words = shlex.split(line, comments=True)
            while words:
                end = words.index("&&") if "&&" in words else len(words)
                commands.append(Command(section, block, line, tuple(words[:end])))
                words = words[end + 1 :]
    return commands


def trackaudit_args(command: Command) -> list[str] | None:
    """The trackaudit arguments of a `./run trackaudit ...` or `./run fixtures ...` command, else None."""
    words = list(command.words)
    if words[:2] == ["./run", "trackaudit"]:
        return words[2:]
    if words[:2] == ["./run", "fixtures"]:
        return ["fixtures", "serve", *words[2:]]
    return None


def parse_only(args: list[str]) -> None:
    """Parse a trackaudit command line as the CLI would, without running it: an unknown command or option, a
    bad value or a missing required option raises click's UsageError (what would exit 2)."""
    context = click.Context(main, info_name="trackaudit")
    command: click.Command = main
    rest = list(args)
    while isinstance(command, click.Group):
        name, resolved, rest = command.resolve_command(context, rest)
        assert resolved is not None  # an unknown command raised UsageError
        command = resolved
        if isinstance(command, click.Group):
            context = click.Context(command, info_name=name, parent=context)
    command.make_context(name, rest, parent=context)
