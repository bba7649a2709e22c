"""Every command the CLI has is shown in the README and explains itself in --help (sqlite-utils' rule: undocumented
features do not exist). Subcommands of groups (``lists update``) are walked too."""

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crawler.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def commands(group: click.Group, prefix: str = "trackaudit"):
    for name, command in group.commands.items():
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")


ALL = dict(commands(main))


def test_the_walk_reaches_the_subcommands_of_groups():
    assert {"trackaudit lists", "trackaudit lists update", "trackaudit lists show"} <= set(ALL)


def test_every_command_appears_in_the_readme():
    missing = [name for name, command in ALL.items() if not isinstance(command, click.Group) and name not in README]
    assert missing == []


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_command_has_help(name):
    assert ALL[name].get_short_help_str(), f"{name} has no help: a docstring (not an f-string) or help="


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_option_has_help(name):
    assert [o.opts[0] for o in ALL[name].params if isinstance(o, click.Option) and not o.help] == []


def test_a_group_lists_each_subcommand_with_its_help():
    result = CliRunner().invoke(main, ["lists", "--help"])
    listed = dict(line.split(None, 1) for line in result.output.split("Commands:")[1].strip().splitlines())
    assert set(listed) == {"update", "show"} and all(text.strip() for text in listed.values())
