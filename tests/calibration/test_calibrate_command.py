"""``topo calibrate``: a personas file that simulate reads, and one sentence for every input
it cannot fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CDNOW, ROOT
from topo.cli.commands import main

EVENTS = ROOT / "data" / "cdnow" / "events.jsonl.gz"


class Done:
    def __init__(self, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
        self.returncode = main(argv)
        captured = capsys.readouterr()
        self.stdout, self.stderr = captured.out, captured.err


def purchase(member: str, day: int, n: int = 1) -> dict[str, object]:
    return {"id": f"{member}-{n}", "member": member, "type": "purchase",
            "at": f"1997-01-{day:02d}T00:00:00+00:00", "amount": 10.0 + day, "cds": 1}  # fmt: skip


def test_writes_a_personas_file_that_simulate_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cdnow.calibrated.yaml"
    done = Done(["calibrate", str(EVENTS), "--journey", CDNOW,
                 "--until", "1997-04-01T00:00:00+00:00", "--out", str(out)], capsys)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "BG/NBD on customer-days" in done.stderr and "23,570 members" in done.stderr
    assert out.read_text(encoding="utf-8").startswith("# Personas calibrated by topo calibrate")
    simulated = Done(["simulate", CDNOW, "--personas", str(out), "--members", "200",
                      "--days", "30"], capsys)  # fmt: skip
    assert simulated.returncode == 0, simulated.stderr


def test_prints_the_file_without_out(capsys: pytest.CaptureFixture[str]) -> None:
    until = "1997-02-01T00:00:00+00:00"
    done = Done(["calibrate", str(EVENTS), "--journey", CDNOW, "--until", until], capsys)
    assert done.returncode == 0 and done.stdout.startswith("# Personas calibrated")
    assert "personas: 1" in done.stdout


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        ([], "no event to fit: the log is empty"),
        ([purchase("a", 1), purchase("a", 5, 2)], "the events hold 1 member"),
        (
            [{"id": "x", "member": "a", "type": "visit", "at": "1997-01-01T00:00:00+00:00"}] * 2,
            "2 refused by the journey (visit: 2;",
        ),
        (["not json"], "1 lines that are not events"),
    ],
)
def test_input_it_cannot_fit_is_one_sentence(
    tmp_path: Path, lines: list[object], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("".join(
        (line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines
    ), encoding="utf-8")  # fmt: skip
    done = Done(["calibrate", str(events), "--journey", CDNOW], capsys)
    assert done.returncode == 2
    assert said in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("until", "said"),
    [
        ("1997-01-01", "a date without a time"),
        ("1990-01-01T00:00:00+00:00", "at or after 1990-01-01T00:00:00+00:00"),
        ("soon", "--until"),
    ],
)
def test_a_bad_until_is_one_sentence(
    until: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    done = Done(["calibrate", str(EVENTS), "--journey", CDNOW, "--until", until], capsys)
    assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr


def test_a_missing_journey_option_is_a_usage_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["calibrate", str(EVENTS)])
    assert stopped.value.code == 2
    assert "the following arguments are required: --journey" in capsys.readouterr().err


def test_holdout_from_fits_before_and_compares_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import gzip

    members = set((ROOT / "data" / "cdnow" / "sample-members.txt").read_text().split())
    sample = tmp_path / "sample.jsonl"
    with gzip.open(EVENTS, "rt", encoding="utf-8") as lines:
        sample.write_text("".join(line for line in lines if json.loads(line)["member"] in members),
                          encoding="utf-8")  # fmt: skip
    out = tmp_path / "sample.calibrated.yaml"
    done = Done(["calibrate", str(sample), "--journey", CDNOW, "--out", str(out),
                 "--holdout-from", "1997-10-01T00:00:00+00:00"], capsys)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Hold-out 1997-10-01 to 1998-07-01, 2,357 members" in done.stderr
    assert "log-likelihood -9582.4" in done.stderr  # fitted on the weeks before only
    assert "# Hold-out 1997-10-01" in out.read_text(encoding="utf-8")
    late = Done(["calibrate", str(sample), "--journey", CDNOW,
                 "--holdout-from", "1999-01-01T00:00:00+00:00"], capsys)  # fmt: skip
    assert late.returncode == 2 and "outside the events' span" in late.stderr
