"""The command line: help, exit codes, where output goes, and what is written."""

from __future__ import annotations

import click
import pytest

from conftest import SOURCE_DIR, files_under, read_manifest, run_cli
from make_materials import cli

COMMANDS = sorted(cli.commands)
SMALL_BUILD = ("--venue", "hotels", "--product", "wallet-card")


def _break_hotels(source_dir) -> int:
    """Make hotels.yaml invalid (its first sign's text becomes a number); return that line's number."""
    path = source_dir / "venues" / "hotels.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("    text: "))
    lines[index] = "    text: 999\n"
    path.write_text("".join(lines), encoding="utf-8")
    return index + 1


# --- help -------------------------------------------------------------------------------

def test_the_expected_commands_exist():
    assert {"build", "check", "list"} <= set(COMMANDS)


def test_every_command_and_option_has_help():
    assert (cli.help or "").strip(), "the command group has no help text"
    for name, command in cli.commands.items():
        assert (command.help or "").strip(), f"command {name!r} has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), f"option {param.opts} of {name!r} has no help text"


@pytest.mark.parametrize("args", [["--help"], ["-h"], *([name, "--help"] for name in COMMANDS)],
                         ids=lambda args: " ".join(args))
def test_help_exits_0(args):
    result = run_cli(*args)
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    if len(args) == 2:
        first_line = cli.commands[args[0]].help.strip().splitlines()[0]
        assert " ".join(first_line.split()[:4]) in " ".join(result.stdout.split())
    else:
        assert all(name in result.stdout for name in COMMANDS)


# --- list -------------------------------------------------------------------------------

def test_list_prints_every_venue_to_stdout(source):
    result = run_cli("list", "--source", SOURCE_DIR)
    assert result.exit_code == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")}
    for venue in source.venues:
        assert venue.id in listed
        assert venue.name in result.stdout


# --- usage errors: exit 2, nothing written ------------------------------------------------

@pytest.mark.parametrize("args, mentioned", [
    (["--product", "nonsense"], "nonsense"),
    (["--venue", "nonsense"], "nonsense"),
    (["--variant", "nonsense"], "nonsense"),
    (["--no-such-option"], "--no-such-option"),
], ids=["unknown-product", "unknown-venue", "unknown-variant", "unknown-option"])
def test_usage_errors_exit_2(tmp_path, args, mentioned):
    out = tmp_path / "out"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, *args)
    assert result.exit_code == 2
    assert mentioned in result.stderr
    assert result.stdout == ""
    assert not out.exists()


def test_unknown_command_exits_2():
    result = run_cli("nonsense")
    assert result.exit_code == 2


# --- a small build ------------------------------------------------------------------------

def test_small_build_writes_only_what_was_asked(tmp_path):
    # the wallet-card product is the card, the sheet of ten to cut out and the print shop's card
    expected = ["hotels/wallet-card.pdf", "hotels/wallet-card-press.pdf", "hotels/wallet-cards-sheet-a4.pdf"]
    out = tmp_path / "X"
    result = run_cli("build", "--source", SOURCE_DIR, "--out", out, *SMALL_BUILD)
    assert result.exit_code == 0, result.stderr
    assert files_under(out) == {*expected, "manifest.json"}
    assert sorted(entry["file"] for entry in read_manifest(out)) == sorted(expected)
    # progress and summary go to stderr; stdout stays clean
    assert result.stdout == ""
    assert all(name in result.stderr for name in expected)
    assert "Built 3 files" in result.stderr


def test_check_no_render_passes_on_the_shipped_source(source):
    result = run_cli("check", "--source", SOURCE_DIR, "--no-render")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert str(len(source.venues)) in result.stderr


def test_check_renders_on_the_worker_pool_with_progress(monkeypatch):
    import materials.pipeline

    asked = []
    render_all = materials.pipeline.render_all
    monkeypatch.setattr(materials.pipeline, "render_all",
                        lambda jobs, source, layouts, workers, **options: asked.append(workers) or render_all(
                            jobs, source, layouts, workers, **options))
    result = run_cli("check", "--source", SOURCE_DIR, "--venue", "hotels", "--product", "wallet-card", "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    assert asked == [2]
    progress = [line.split() for line in result.stderr.splitlines() if line.startswith("[")]
    assert sorted(line[0] for line in progress) == ["[1/3]", "[2/3]", "[3/3]"]  # in the order they finish
    assert {line[1] for line in progress} == {"hotels/wallet-card.pdf", "hotels/wallet-cards-sheet-a4.pdf",
                                              "hotels/wallet-card-press.pdf"}
    assert result.stderr.rstrip().endswith("All 3 files pass preflight. Nothing was written.")


# --- source errors: exit 1, nothing written -------------------------------------------------

def test_nothing_is_written_on_a_source_error(source_copy, tmp_path):
    _break_hotels(source_copy)
    out = tmp_path / "out"
    result = run_cli("build", "--source", "source", "--out", out, *SMALL_BUILD)
    assert result.exit_code == 1
    assert "signs[0].text" in result.stderr
    assert not out.exists()


def test_a_source_error_leaves_an_earlier_build_untouched(source_copy, tmp_path):
    out = tmp_path / "out"
    first = run_cli("build", "--source", "source", "--out", out, "--venue", "parks", "--product", "wallet-card")
    assert first.exit_code == 0, first.stderr
    before = {name: (out / name).read_bytes() for name in files_under(out)}
    _break_hotels(source_copy)
    result = run_cli("build", "--source", "source", "--out", out, "--venue", "parks", "--product", "wallet-card")
    assert result.exit_code == 1
    assert {name: (out / name).read_bytes() for name in files_under(out)} == before


@pytest.mark.parametrize("command", [["check", "--no-render"], ["check"], ["list"]])
def test_other_commands_report_source_errors(source_copy, command):
    line = _break_hotels(source_copy)
    result = run_cli(*command, "--source", "source")
    assert result.exit_code == 1
    assert f"source/venues/hotels.yaml:{line}:" in result.stderr


def test_missing_source_folder_is_a_clear_error(tmp_path):
    out = tmp_path / "out"
    result = run_cli("build", "--source", tmp_path / "nowhere", "--out", out)
    assert result.exit_code == 1
    assert "nowhere" in result.stderr
    assert not out.exists()


def test_unwritable_output_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_cli("build", "--source", SOURCE_DIR, "--out", blocker / "out", *SMALL_BUILD)
    assert result.exit_code == 1
    assert "cannot write" in result.stderr
