"""The benchmarks' options answer a bad value in one line, not a traceback."""

from __future__ import annotations

import pytest

from benchmarks import startup
from benchmarks.video import main


@pytest.mark.parametrize("sides", ["5x2", "32", "512,"])
def test_a_bad_sides_value_is_a_usage_error(sides: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv=["--sides", sides])

    assert exit_info.value.code == 2
    assert "argument --sides" in capsys.readouterr().err


@pytest.mark.parametrize("runs", ["0", "-1", "two"])
def test_a_bad_number_of_start_up_runs_is_a_usage_error(
    runs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        startup.main(argv=["--runs", runs])

    assert exit_info.value.code == 2
    assert "argument --runs" in capsys.readouterr().err
