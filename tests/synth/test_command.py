from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from joinedup.synth.command import synth


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("synth")(synth)
    app.command("other")(lambda: None)  # two commands, so `synth` is addressed by name as under `joinedup`
    return app


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--people", "0"], "--people must be between"),
        (["--index-date", "2025-06-30"], "must be at least a year before --end"),
        (["--start", "2026-01-01"], "must be before --end"),
        (["--duplicate-rate", "1.5"], "--duplicate-rate must be between 0 and 1"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path: Path, arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(_app(), ["synth", "--out", str(tmp_path / "place"), *arguments])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output


def test_the_command_writes_a_place_and_the_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["synth", "--out", str(tmp_path / "place"), "--people", "150", "--report", str(tmp_path / "report")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "place" / "manifest.json").is_file()
    table = (tmp_path / "report" / "calibration.md").read_text()
    assert "| People | adults 18+ (% of residents) | 77 |" in table
