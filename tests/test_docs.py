"""The README stays in step with the command it documents."""

import re

import pytest

from pipeline.cli import cli

from .conftest import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_set_up_commands_are_documented():
    assert "make demo" in README and "make test" in README
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_documented(name):
    assert f"`archive {name}" in README


@pytest.mark.parametrize(
    "name, option",
    [
        (name, option)
        for name, command in sorted(cli.commands.items())
        for param in command.params
        for option in param.opts
        if option.startswith("--")
    ],
)
def test_every_option_is_documented(name, option):
    if option == "--db":
        assert "--db PATH" in README
        return
    row = next(line for line in README.splitlines() if line.startswith(f"| `archive {name}"))
    assert re.search(re.escape(option) + r"\b", row), f"{option} missing from the {name} row"
