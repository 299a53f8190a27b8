"""Every command and option of `blend` has help text; the README mentions every command."""

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from blender.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"


def _click_group():
    return typer.main.get_command(app)


COMMANDS = sorted(_click_group().commands)


def test_the_issue_2_commands_exist():
    assert {"vote", "average", "rank-average", "corr"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name):
    command = _click_group().commands[name]
    assert command.help and command.help.strip(), f"blend {name} has no docstring"
    assert f"blend {name}" in command.help, f"blend {name} --help shows no example call"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_help_text(name):
    command = _click_group().commands[name]
    for parameter in command.params:
        if parameter.param_type_name == "option":
            assert getattr(parameter, "help", None), f"blend {name} {parameter.opts[0]} has no help text"
        else:
            assert getattr(parameter, "help", None), f"blend {name} argument {parameter.name} has no help text"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_help_runs(name):
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_top_level_help_lists_every_command():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.skipif(not README.exists(), reason="no README.md yet")
@pytest.mark.parametrize("name", COMMANDS)
def test_readme_mentions_every_command(name):
    assert f"blend {name}" in README.read_text()


@pytest.mark.skipif(not README.exists(), reason="no README.md yet")
def test_the_readmes_notebook_example_runs_as_a_doctest():
    import doctest
    import re

    blocks = re.findall(r"```pycon\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no pycon example"
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for number, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README block {number}", "README.md", 0))
    assert runner.failures == 0
