"""Every command the CLI has is shown in the README (sqlite-utils' rule: undocumented features do not exist)."""

from pathlib import Path

import click

from crawler.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def commands(group: click.Group, prefix: str = "trackaudit"):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}"


def test_every_command_appears_in_the_readme():
    missing = [c for c in commands(main) if c not in README]
    assert missing == []


def test_every_command_has_help():
    for name, command in main.commands.items():
        assert command.get_short_help_str(), name
