"""The ``topo`` command line: parse arguments, call the library, render, return an exit code.

Exit codes (the spec's): 0 when it ran and found no error, 1 when it found errors (or, with
``--strict``, warnings), 2 when it could not run (no such file, bad arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from topo._version import __version__
from topo.cli.rendering import FORMATS, summary
from topo.cli.spark_runs import spark_failure
from topo.diagnostics import Diagnostic, Severity
from topo.engine.stores import MemoryStore
from topo.engine.triggers import Trigger
from topo.errors import InvalidJourney, StoreError, UsageError
from topo.journey.model import Journey
from topo.lines import json_line, reject_line, withheld_line
from topo.store.sqlite import SqliteStore
from topo.validation import (
    cannot_run,
    draft_report,
    find_journeys,
    findings_of,
    load_journey,
    validate,
)
from topo.workers import default_workers, worker_count

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # as shells report a process stopped by Ctrl-C

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """A usage mistake is one line (``--help`` shows the usage)."""
        self.exit(EXIT_USAGE, f"topo: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="topo", description="Rule engine for TOPO customer journeys.")
    parser.add_argument("--version", action="version", version=f"topo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser(
        "validate",
        help="check journey files and print every problem with its file position",
        description="Check journey files (folders are searched for *.yaml and *.yml).",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="journey files or folders")
    check.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default=None,
        help="output format (default: github under GitHub Actions, else text)",
    )
    check.add_argument("--strict", action="store_true", help="fail (exit 1) on warnings too")
    check.set_defaults(run=_validate)

    play = commands.add_parser(
        "replay",
        help="replay events through a journey: triggers, states, rejects and the funnel",
        description="Process events in the order given (each member's in time order), then "
        "advance the clock to --until. A summary and the funnel go to stderr.",
    )
    play.add_argument("journey", metavar="JOURNEY", help="a journey file")
    play.add_argument(
        "events",
        metavar="EVENTS",
        help=".jsonl or .csv (gzipped or not), .parquet, or - for JSON lines on stdin",
    )
    play.add_argument(
        "--triggers", metavar="OUT", help="write the triggers here, one a line (- for stdout)"
    )
    play.add_argument("--states", metavar="OUT", help="write each member's state here (-: stdout)")
    play.add_argument("--rejects", metavar="OUT", help="write rejected events and why (-: stdout)")
    play.add_argument(
        "--withheld", metavar="OUT", help="write each grant a cap withheld, and which (-: stdout)"
    )
    _report_options(play)
    play.add_argument(
        "--store",
        metavar="URL",
        default="memory",
        help="where states live: memory (the default) or sqlite:PATH, which keeps them and "
        "resumes an interrupted replay",
    )
    play.add_argument("--until", metavar="TIMESTAMP", help="then fire timers due by this time")
    play.add_argument("--backfill", action="store_true", help="record grants, write no triggers")
    play.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="split the members over N processes (default 1; the outputs are the same for "
        "any N; not with --store sqlite: or events from stdin)",
    )
    _engine_options(play)
    play.add_argument("--strict", action="store_true", help=_STRICT_HELP)
    play.set_defaults(run=_replay)

    sim = commands.add_parser(
        "simulate",
        help="rehearse a whole population: personas' events through a journey, and a report",
        description="Simulate members (personas) sending events over a span of days; each "
        "event goes through the real engine, and the triggers change what members do next. "
        "A summary goes to stderr.",
    )
    sim.add_argument("journey", metavar="JOURNEY", help="a journey file")
    sim.add_argument(
        "--personas", metavar="FILE", help="a personas file (default: derived from the journey)"
    )
    sim.add_argument("--members", type=int, default=10_000, metavar="N", help="default 10000")
    sim.add_argument("--days", type=int, default=365, metavar="D", help="default 365")
    sim.add_argument(
        "--start",
        metavar="TIMESTAMP",
        default="2026-01-01T00:00:00+00:00",
        help="default "
        "2026-01-01T00:00:00+00:00 (fixed, so a run never depends on the day it is made)",
    )
    sim.add_argument("--seed", type=int, default=0, metavar="S", help="default 0")
    sim.add_argument(
        "--runs",
        type=int,
        default=1,
        metavar="K",
        help="K runs (seeds S, S+1, ...): the summary gives each figure's mean and 90%% interval",
    )
    _report_options(sim)
    sim.add_argument("--triggers", metavar="OUT", help="write the triggers here (- for stdout)")
    sim.add_argument("--states", metavar="OUT", help="write each member's state here (-: stdout)")
    sim.add_argument(
        "--events", metavar="OUT", help="write the events here, as topo replay reads them"
    )
    sim.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="split the members over N processes (default: one per core, at most one per "
        "5,000 members; the outputs are the same for any N)",
    )
    _engine_options(sim)
    sim.add_argument("--strict", action="store_true", help=_STRICT_HELP)
    sim.set_defaults(run=_simulate)

    fit = commands.add_parser(
        "calibrate",
        help="fit personas to a real event history: a personas file topo simulate reads",
        description="Read events as replay does and fit one persona to them: joining, once "
        "events, BG/NBD for repeat events, Gamma-Gamma for spend, shares for categories. "
        "What was fitted goes to stderr and into the file's comments.",
    )
    fit.add_argument(
        "events",
        metavar="EVENTS",
        help=".jsonl or .csv (gzipped or not), .parquet, or - for JSON lines on stdin",
    )
    fit.add_argument("--journey", metavar="J", required=True, help="the journey of the events")
    fit.add_argument("--until", metavar="TIMESTAMP", help="read the events before this time")
    fit.add_argument(
        "--holdout-from",
        metavar="TIMESTAMP",
        help="fit on the events before this time, and compare what the fit predicts after it "
        "with what happened",
    )
    fit.add_argument("--seed", type=int, default=0, metavar="S", help="of the hold-out's run")
    fit.add_argument(
        "--segments",
        type=int,
        default=1,
        metavar="N",
        help="fit N personas, on groups of members by how often they came back (default 1)",
    )
    _report_options(fit)
    fit.add_argument("--out", metavar="FILE", help="write the personas file here (default stdout)")
    fit.add_argument("--strict", action="store_true", help=_STRICT_HELP)
    fit.set_defaults(run=_calibrate)

    outbox = commands.add_parser(
        "outbox",
        help="print a durable store's pending triggers as JSON lines; --ack marks them sent",
    )
    outbox.add_argument("store", metavar="STORE", help="a store: sqlite:PATH or PATH")
    outbox.add_argument("--ack", action="store_true", help="mark the printed triggers sent")
    outbox.set_defaults(run=_outbox)

    export = commands.add_parser(
        "export", help="print every member's whole state as JSON lines (a backup)"
    )
    export.add_argument("store", metavar="STORE", help="a store: sqlite:PATH or PATH")
    export.set_defaults(run=_export)

    load = commands.add_parser("import", help="load states written by topo export into a new store")
    load.add_argument("store", metavar="STORE", help="a new store: sqlite:PATH or PATH")
    load.add_argument("file", metavar="FILE", help="an export (- for stdin)")
    load.set_defaults(run=_import)

    rehearse = commands.add_parser(
        "test",
        help="run scenario files (*.scenarios.yaml) through their journeys",
        description="Run scenario files: each scenario's events through the real engine, "
        "checking its expectations. Folders are searched for *.scenarios.yaml.",
    )
    rehearse.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default .)")
    rehearse.add_argument(
        "--coverage",
        action="store_true",
        help="report the nodes, moves, incentives and reminders the scenarios exercised",
    )
    rehearse.add_argument(
        "--fail-under",
        type=float,
        metavar="N",
        help="fail (exit 1) when a journey's move coverage is below N percent",
    )
    rehearse.add_argument("--strict", action="store_true", help=_STRICT_HELP)
    rehearse.set_defaults(run=_test)

    paths = commands.add_parser(
        "paths",
        help="find a short event sequence to every node and move of a journey",
        description="Search, through the real engine, for a shortest way to reach every node "
        "and take every move; print them as a scenario file (stdout) and report what was not "
        "found within the limits (stderr).",
    )
    paths.add_argument("journey", metavar="JOURNEY", help="a journey file")
    paths.add_argument("--max-steps", type=int, metavar="N", help="steps per path at most")
    paths.add_argument(
        "--budget", type=int, default=20_000, metavar="N", help="situations explored at most"
    )
    paths.add_argument(
        "--out", metavar="FILE", help="write the scenario file here instead of stdout"
    )
    paths.add_argument("--strict", action="store_true", help=_STRICT_HELP)
    paths.set_defaults(run=_paths)

    graph = commands.add_parser("graph", help="draw a journey as a Mermaid or Graphviz diagram")
    graph.add_argument("journey", metavar="JOURNEY", help="a journey file")
    graph.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")
    graph.set_defaults(run=_graph)

    schema = commands.add_parser("schema", help="print the JSON Schema of the journey format")
    schema.set_defaults(run=_schema)

    diff = commands.add_parser(
        "diff", help="compare two versions of a journey; fail on unmigrated removed nodes"
    )
    diff.add_argument("old", metavar="OLD", help="the journey as it was")
    diff.add_argument("new", metavar="NEW", help="the journey as it is now")
    diff.add_argument("--format", choices=["text", "json"], default="text")
    diff.set_defaults(run=_diff)
    return parser


def _engine_options(command: argparse.ArgumentParser) -> None:
    """``--engine`` and ``--partitions``: where the members are run (see docs/spark.md)."""
    command.add_argument(
        "--engine",
        metavar="ENGINE",
        default="local",
        help="local (the default: this machine's processes), or spark[:MASTER] to run on "
        "Apache Spark (topo[spark]; MASTER like local[4], yarn; default local[*])",
    )
    command.add_argument(
        "--partitions",
        type=int,
        metavar="N",
        help="with --engine spark: the Spark tasks the members are spread over (default: "
        "Spark's own); the outputs are the same for any N",
    )


def _report_options(command: argparse.ArgumentParser) -> None:
    """``--report`` and ``--summary``, as ``replay`` and ``simulate`` take them."""
    command.add_argument(
        "--report", metavar="OUT.html", help="write the report here (topo[report]; - for stdout)"
    )
    command.add_argument(
        "--summary", metavar="OUT.json", help="write the report's figures here (- for stdout)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    run: Command = args.run
    try:
        return run(args)
    except (UsageError, StoreError) as exc:
        print(f"topo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader of stdout stopped early (| head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FINDINGS
    except KeyboardInterrupt:  # a durable store has committed what was applied: run again
        print("\ntopo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # the machine's, not the input's: a full disk, a file size limit
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"topo: error: {where}{exc.strerror or exc}", file=sys.stderr)
        try:
            sys.stdout.flush()
        except OSError:  # stdout is what failed: drop what it holds, or exiting fails again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_USAGE
    except InvalidJourney as exc:
        unreadable = [d for d in exc.diagnostics if d.code == "T100"]
        for d in unreadable:  # no such file, a folder: a usage error, not a finding
            print(f"topo: error: {d.file}: {d.message}", file=sys.stderr)
        if unreadable:
            return EXIT_USAGE
        _print_diagnostics(exc.diagnostics)
        return EXIT_FINDINGS
    except Exception as exc:
        said = spark_failure(exc)
        if said is None:
            raise
        print(f"topo: error: {said}", file=sys.stderr)
        return EXIT_USAGE


def _validate(args: argparse.Namespace) -> int:
    files = find_journeys(args.paths)
    diagnostics = validate(files)
    output_format = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") else "text")
    sys.stdout.write(FORMATS[output_format](diagnostics, len(files)))
    print(summary(diagnostics, len(files)), file=sys.stderr)
    failing = {Severity.ERROR, Severity.WARNING} if args.strict else {Severity.ERROR}
    return EXIT_FINDINGS if any(d.severity in failing for d in diagnostics) else EXIT_OK


_STRICT_HELP = (
    "refuse (exit 1) a journey with findings or warnings, as topo validate --strict does; "
    "without it, a draft runs and its findings are printed as warnings"
)


def _load(path: str, *, analysis: bool = True, strict: bool = False) -> Journey:
    """A journey for a command that needs one; a bad file (with ``strict``, a draft too)
    raises InvalidJourney. A draft's findings go to stderr as warnings."""
    try:
        journey = load_journey(path, analysis=analysis, strict=strict)
    except InvalidJourney as exc:
        if not any(cannot_run(d) for d in exc.diagnostics):  # a draft, refused by --strict
            print(f"topo: {path} has findings, which --strict refuses:", file=sys.stderr)
        raise
    _print_lines(draft_report(path, findings_of(journey) or ()))
    return journey


def _replay(args: argparse.Namespace) -> int:
    from topo.cli.progress import ProgressBar
    from topo.engine.engine import Engine
    from topo.replay.readers import Reading, read_events
    from topo.replay.runner import replay, state_line

    if args.withheld and args.backfill:
        raise UsageError(
            "--withheld lists the grants a cap held back, and --backfill makes no triggers to hold "
            "back: run the backfill first, then --withheld on the events after it"
        )
    until = _timestamp(args.until) if args.until else None
    master = _spark_master(args)
    if master is not None:
        if args.store != "memory" or args.workers != 1:
            raise UsageError(
                "--engine spark keeps members in Spark's tasks: leave out --store and --workers"
            )
        return _replay_on_spark(args, _load(args.journey, strict=args.strict), until, master)
    workers = worker_count(args.workers, "--workers")
    if workers > 1 and args.store != "memory":
        raise UsageError(
            f"--store {args.store} resumes one ordered replay, which {workers} workers cannot "
            "share: use --workers 1 with a durable store, or the memory store with --workers"
        )
    journey = _load(args.journey, strict=args.strict)
    if workers > 1:
        return _replay_in_workers(args, journey, until, workers)
    store = _store(args.store)
    try:
        engine = Engine(
            journey, store, backfill=args.backfill, explain=False, withheld=bool(args.withheld)
        )
        reading = Reading()
        bar = ProgressBar(sys.stderr, reading.done) if sys.stderr.isatty() else None
        stages = _stages_progress(bar) if bar is not None else None
        with _Outputs(args, ("triggers", "states", "rejects", "withheld")) as out:
            report = replay(
                engine,
                read_events(args.events, engine.compiled.journey, reading),
                until=until,
                on_trigger=None if args.backfill else out.trigger,
                on_reject=out.reject,
                on_withheld=out.withheld if args.withheld else None,
                progress=bar,
                stages=stages,
            )
            out.states(engine, until, state_line)
        if args.summary or args.report:
            summary = _replay_summary(engine, until)
            if args.summary:
                _write_summary(summary, args.summary)
            if args.report:
                _write_report(summary, args.report)
        if bar is not None:
            bar.clear()
    except BaseException:
        if isinstance(store, SqliteStore):  # a change may be cut off halfway: keep none of it
            store.close(commit=False)
        raise
    if isinstance(store, SqliteStore):
        store.close()
    print(report.summary(), file=sys.stderr)
    return EXIT_OK


def _replay_in_workers(
    args: argparse.Namespace, journey: Journey, until: datetime | None, workers: int
) -> int:
    """``topo replay --workers N`` (N > 1): see :mod:`topo.replay.parallel`."""
    from topo.cli.progress import ProgressBar
    from topo.replay.parallel import Outputs, replay_in_workers
    from topo.report.summary import summarise_walks

    if args.events == "-":
        raise UsageError(
            f"--workers {workers}: each worker reads the events itself, which stdin cannot give "
            "twice: write them to a file, or use --workers 1"
        )
    fraction: list[float | None] = [None]
    bar = ProgressBar(sys.stderr, lambda: fraction[0]) if sys.stderr.isatty() else None

    def progress(done: float, read: int) -> None:
        fraction[0] = done
        if bar is not None:
            bar(read)

    with _Outputs(args, ("triggers", "states", "rejects", "withheld")) as out:
        outputs = Outputs(
            trigger=None if args.backfill else out.writer("triggers"),
            reject=out.writer("rejects"),
            withheld=out.writer("withheld"),
            state=out.writer("states"),
            walks=bool(args.summary or args.report),
        )
        replayed = replay_in_workers(
            journey,
            args.events,
            workers=workers,
            outputs=outputs,
            until=until,
            backfill=args.backfill,
            progress=progress,
        )
    if args.summary or args.report:
        end = _summary_end(replayed.latest, until)
        summary = summarise_walks(journey, replayed.walks, end=end, source="replay")
        if args.summary:
            _write_summary(summary, args.summary)
        if args.report:
            _write_report(summary, args.report)
    if bar is not None:
        bar.clear()
    print(replayed.report.summary(), file=sys.stderr)
    return EXIT_OK


def _spark_master(args: argparse.Namespace) -> str | None:
    """The Spark master of ``--engine`` (None: run here), with ``--partitions`` checked."""
    from topo.cli.spark_runs import engine_master

    master = engine_master(args.engine)
    if args.partitions is not None:
        if master is None:
            raise UsageError("--partitions spreads members over Spark's tasks: add --engine spark")
        if args.partitions < 1:
            raise UsageError(f"--partitions is a whole number from 1, not {args.partitions}")
    return master


def _replay_on_spark(
    args: argparse.Namespace, journey: Journey, until: datetime | None, master: str
) -> int:
    """``topo replay --engine spark``: see :mod:`topo.cli.spark_runs`."""
    from topo.cli.spark_runs import replay_on_spark

    if args.withheld and args.backfill:
        raise UsageError("a backfill withholds no trigger: ask for --withheld without it")
    with _Outputs(args, ("triggers", "states", "rejects", "withheld")) as out:
        writers = {name: out.writer(name) for name in ("triggers", "states", "rejects", "withheld")}
        if args.backfill:
            writers["triggers"] = None
        result = replay_on_spark(args, journey, until, master, writers)
    try:
        if args.summary or args.report:
            summary = result.summary(_summary_end(result.latest(), until))
            if args.summary:
                _write_summary(summary, args.summary)
            if args.report:
                _write_report(summary, args.report)
        print(result.report().summary(), file=sys.stderr)
    finally:
        result.unpersist()
    return EXIT_OK


def _calibrate(args: argparse.Namespace) -> int:
    from topo.calibration.calibrate import calibrate

    journey = _load(args.journey, strict=args.strict)
    until = _timestamp(args.until, "--until") if args.until else None
    holdout = _timestamp(args.holdout_from, "--holdout-from") if args.holdout_from else None
    if args.seed < 0:
        raise UsageError(f"--seed is a whole number from 0, not {args.seed}")
    if args.out not in (None, "-"):
        _writable("--out", args.out)
    elif "-" in (args.summary, args.report):
        raise UsageError("the personas file goes to stdout without --out: give --out FILE")
    with _Outputs(args, ()):  # --summary and --report checked before the fit
        fitted = calibrate(args.events, journey, until=until, holdout_from=holdout,
                           seed=args.seed, segments=args.segments)  # fmt: skip
    text = fitted.text(journey.journey)
    if args.out in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
    if args.summary or args.report:
        from topo.calibration.summary import report_summary

        summary = report_summary(fitted, journey, seed=args.seed)
        if args.summary:
            _write_summary(summary, args.summary)
        if args.report:
            _write_report(summary, args.report)
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        print(line[2:], file=sys.stderr)
    return EXIT_OK


def _simulate(args: argparse.Namespace) -> int:
    from topo.cli.progress import ProgressBar
    from topo.replay.runner import state_line
    from topo.simulation.personas import InvalidPersonas, load_personas
    from topo.simulation.simulation import simulate

    journey = _load(args.journey, strict=args.strict)
    for option, value, least in (("members", args.members, 0), ("days", args.days, 0),
                                 ("runs", args.runs, 1), ("seed", args.seed, 0)):  # fmt: skip
        if value < least:
            raise UsageError(f"--{option} is a whole number from {least}, not {value}")
    start = _timestamp(args.start, "--start")
    personas = None
    if args.personas:
        try:
            personas = load_personas(args.personas, journey)
        except InvalidPersonas as exc:
            unreadable = [d for d in exc.diagnostics if d.code == "T100"]
            if unreadable:  # no such file, a folder: a usage error, not a finding
                raise UsageError(
                    f"--personas {unreadable[0].file}: {unreadable[0].message}"
                ) from None
            _print_diagnostics(exc.diagnostics)
            return EXIT_FINDINGS
    master = _spark_master(args)
    if master is not None:
        return _simulate_on_spark(args, journey, personas, start, master)
    workers = _simulation_workers(args.workers, args.members)
    day = [0, max(args.days, 1)]
    sent = [0]
    bar = ProgressBar(sys.stderr, lambda: day[0] / day[1]) if sys.stderr.isatty() else None
    if workers > 1:
        return _simulate_in_workers(args, journey, personas, start, workers, bar)

    def progress(today: int, days: int) -> None:
        day[0] = today
        if bar is not None:
            bar(sent[0])

    with _Outputs(args, ("triggers", "states", "events")) as out:

        def on_event(event: dict[str, Any]) -> None:
            sent[0] += 1
            out.event(event)

        simulation = simulate(
            journey,
            personas,
            members=args.members,
            days=args.days,
            start=start,
            seed=args.seed,
            runs=args.runs,
            keep_events=False,
            on_event=on_event,
            on_trigger=out.trigger,
            progress=progress,
        )
        out.states(simulation.first.engine, simulation.first.end, state_line)
    if bar is not None:
        bar.clear()
    if args.summary:
        _write_summary(simulation.summary, args.summary)
    if args.report:
        _write_report(simulation.summary, args.report)
    first = simulation.first
    runs = f" (the first of {args.runs} runs)" if args.runs > 1 else ""
    joined = sum(1 for _ in first.engine.store.members())
    print(
        f"{_count(first.members, 'member')} over {_count(args.days, 'day')} ({joined:,} "
        f"joined): {_count(first.sent, 'event')}, {_count(len(first.triggers), 'trigger')}{runs}",
        file=sys.stderr,
    )
    if first.rejected:
        _print_rejected(first.rejected)
    return EXIT_OK


def _print_rejected(rejected: dict[str, int]) -> None:
    """The simulated events rejected, the five commonest reasons (ties: by reason)."""
    print(f"topo: {sum(rejected.values()):,} simulated events were rejected:", file=sys.stderr)
    for reason, count in sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0]))[:5]:
        print(f"  {count:,} x {reason}", file=sys.stderr)


MEMBERS_PER_WORKER = 5_000
"""Members a worker process should have at least, by default: starting one costs about a second
of CPU (a Python with topo, numpy and scipy), which a smaller share would not pay back."""


def _simulation_workers(value: int | None, members: int) -> int:
    """``--workers``, or by default one per core, but at most one per 5,000 members."""
    if value is not None:
        return worker_count(value, "--workers")
    return max(1, min(default_workers(), members // MEMBERS_PER_WORKER))


def _simulate_in_workers(
    args: argparse.Namespace,
    journey: Journey,
    personas: Any,
    start: datetime,
    workers: int,
    bar: Any,
) -> int:
    """``topo simulate --workers N`` (N > 1): see :mod:`topo.simulation.parallel`."""
    from topo.simulation.parallel import Outputs, simulate_in_workers

    day = [0, max(args.days, 1)]

    def progress(today: int, sent: int) -> None:
        day[0] = today
        if bar is not None:
            bar(sent)

    if bar is not None:
        bar.done = lambda: day[0] / day[1]
    with _Outputs(args, ("triggers", "states", "events")) as out:
        outputs = Outputs(
            event=out.writer("events"),
            trigger=out.writer("triggers"),
            state=out.writer("states"),
            summary=bool(args.summary or args.report),
        )
        done = simulate_in_workers(
            journey,
            personas,
            workers=workers,
            outputs=outputs,
            members=args.members,
            days=args.days,
            start=start,
            seed=args.seed,
            runs=args.runs,
            progress=progress,
        )
    if bar is not None:
        bar.clear()
    if done.summary is not None and args.summary:
        _write_summary(done.summary, args.summary)
    if done.summary is not None and args.report:
        _write_report(done.summary, args.report)
    _print_simulated(args, done)
    return EXIT_OK


def _simulate_on_spark(
    args: argparse.Namespace, journey: Journey, personas: Any, start: datetime, master: str
) -> int:
    """``topo simulate --engine spark``: see :mod:`topo.cli.spark_runs`."""
    from topo.cli.spark_runs import simulate_on_spark

    if args.workers is not None:
        raise UsageError("--engine spark spreads members over Spark's tasks: leave out --workers")
    with _Outputs(args, ("triggers", "states", "events")) as out:
        writers = {name: out.writer(name) for name in ("events", "triggers", "states")}
        done = simulate_on_spark(args, journey, personas, start, master, writers)
    try:
        if args.summary:
            _write_summary(done.summary, args.summary)
        if args.report:
            _write_report(done.summary, args.report)
    finally:
        done.unpersist()
    _print_simulated(args, done.counts)
    return EXIT_OK


def _print_simulated(args: argparse.Namespace, done: Any) -> None:
    """The counts of a simulation split over workers or Spark tasks (a
    :class:`topo.simulation.parallel.Simulated`), as one process prints them."""
    runs = f" (the first of {args.runs} runs)" if args.runs > 1 else ""
    print(
        f"{_count(args.members, 'member')} over {_count(args.days, 'day')} ({done.joined:,} "
        f"joined): {_count(done.sent, 'event')}, {_count(done.triggers, 'trigger')}{runs}",
        file=sys.stderr,
    )
    if done.rejected:
        _print_rejected(done.rejected)


def _write_summary(summary: dict[str, Any], path: str) -> None:
    from topo.report.html import write_summary

    if path == "-":
        sys.stdout.write(json.dumps(summary, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
        return
    try:
        write_summary(summary, path)
    except OSError as exc:
        raise UsageError(f"--summary {path}: {exc.strerror or exc}") from None


def _write_report(summary: dict[str, Any], path: str) -> None:
    from topo.report.html import write_report

    if path == "-":
        with tempfile.TemporaryDirectory() as folder:
            page = Path(folder) / "report.html"
            write_report(summary, page)
            sys.stdout.write(page.read_text(encoding="utf-8"))
        return
    try:
        write_report(summary, path)
    except OSError as exc:
        raise UsageError(f"--report {path}: {exc.strerror or exc}") from None


def _replay_summary(engine: Any, until: datetime | None) -> dict[str, Any]:
    """The report's figures for a replay's members, as of ``until`` or the latest event."""
    from topo.engine.member_state import clock_time
    from topo.report.summary import summarise

    store = engine.store
    states = [s for s in (store.get(m) for m in sorted(store.members())) if s is not None]
    latest = max((clock_time(s) for s in states), default=None)
    return summarise(
        engine.compiled.journey, states, end=_summary_end(latest, until), source="replay"
    )


def _summary_end(latest: datetime | None, until: datetime | None) -> datetime:
    """When a replay's summary is as of: ``until``, or the latest member clock if later."""
    end = until if until is not None and (latest is None or until >= latest) else latest
    if end is None:  # no member: the report of nothing, as of now
        end = datetime.now().astimezone()
    return end


def _stages_progress(bar: Any) -> Callable[[str, int, int | None], None]:
    """The stages after the reading (the advance to ``--until``, a durable store's triggers
    written out), each on the reading's progress line once the one before is done."""
    fraction: list[float | None] = [None]

    def stage(name: str, done: int, total: int | None) -> None:
        if bar.noun != name:
            bar.restart(lambda: fraction[0], name, counted=done)
        fraction[0] = None if total is None else done / total
        bar(done)

    return stage


def _store(url: str) -> MemoryStore | SqliteStore:
    """The store ``--store`` names: ``memory``, or ``sqlite:PATH`` with an optional
    ``?batch=N`` (member changes per transaction)."""
    if url == "memory":
        return MemoryStore()
    path, _, query = url.removeprefix("sqlite:").partition("?")
    if not url.startswith("sqlite:") or not path:
        raise UsageError(f"--store {url}: a store is memory (the default) or sqlite:PATH")
    path = _store_path(path, url)
    if not query:
        return SqliteStore(path)
    name, _, value = query.partition("=")
    if name != "batch" or not value.isdigit() or int(value) < 1:
        raise UsageError(
            f"--store {url}: after ? comes batch=N, how many member changes to commit at "
            "once (a whole number, at least 1)"
        )
    return SqliteStore(path, batch_size=int(value))


def _durable(url: str, *, create: bool = False) -> SqliteStore:
    """The durable store a STORE argument names: ``sqlite:PATH``, or just PATH."""
    path = url[len("sqlite:") :] if url.startswith("sqlite:") else url
    if not path:
        raise UsageError(f"{url!r}: a store is sqlite:PATH or PATH")
    return SqliteStore(_store_path(path, url), create=create)


def _store_path(path: str, url: str) -> str:
    """The file a store URL names (``~`` expanded); ``sqlite://...`` is refused, since
    readers of other tools' URLs would guess its meaning differently."""
    if path.startswith("//"):
        raise UsageError(
            f"{url}: write sqlite:PATH with one colon and no slashes before the path, as "
            "sqlite:members.db or sqlite:/var/lib/topo/members.db"
        )
    return os.path.expanduser(path)


def _outbox(args: argparse.Namespace) -> int:
    store = _durable(args.store)
    try:
        pending = store.outbox.pending()
        for trigger in pending:
            sys.stdout.write(json_line(trigger.to_dict()))
        sys.stdout.flush()
        if args.ack:
            sent = store.outbox.ack(t.id for t in pending)
            print(f"{_count(sent, 'trigger')} marked sent", file=sys.stderr)
        else:
            print(f"{_count(len(pending), 'trigger')} pending", file=sys.stderr)
    finally:
        store.close()
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from topo.store.exports import export_lines

    store = _durable(args.store)
    count = -1  # the header line
    try:
        for line in export_lines(store):
            sys.stdout.write(line + "\n")
            count += 1
    finally:
        store.close()
    print(f"{_count(count, 'member')} exported", file=sys.stderr)
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from topo.store.exports import import_lines

    if args.file != "-" and not os.path.isfile(args.file):
        what = "is a folder" if os.path.isdir(args.file) else "no such file"
        raise UsageError(f"{args.file}: {what}; FILE is an export (or - for stdin)")
    store = _durable(args.store, create=True)
    try:
        if args.file == "-":
            count = import_lines(store, sys.stdin, "stdin")
        else:
            with open(args.file, encoding="utf-8") as source:
                count = import_lines(store, source, args.file)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{args.file}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise UsageError(f"{args.file}: {exc.strerror}") from None
    finally:
        store.close()
    print(f"{_count(count, 'member')} imported into {args.store}", file=sys.stderr)
    return EXIT_OK


def _test(args: argparse.Namespace) -> int:
    from topo.rehearsal.runner import Coverage, rehearse
    from topo.rehearsal.scenarios import InvalidScenarios, find_scenarios, load_scenarios

    files = find_scenarios(args.paths or ["."])
    coverages: dict[str, Coverage] = {}
    broken = passed = failed = 0
    for path in files:
        try:
            scenario_file = load_scenarios(path)
            results, coverage = rehearse(scenario_file, strict=args.strict)
        except InvalidScenarios as exc:
            _print_lines([p.render() for p in exc.problems])
            broken += 1
            continue
        except InvalidJourney as exc:
            line, column = scenario_file.journey_at
            why = ("cannot be loaded" if any(cannot_run(d) for d in exc.diagnostics)
                   else "has findings, which --strict refuses")  # fmt: skip
            print(f"{path}:{line}:{column}: error its journey {scenario_file.journey} {why}:",
                  file=sys.stderr)  # fmt: skip
            _print_diagnostics(exc.diagnostics)
            broken += 1
            continue
        journey = str(scenario_file.journey)
        if journey not in coverages:  # a draft's findings, once per journey
            _print_lines(draft_report(journey, findings_of(coverage.compiled.journey) or ()))
        coverages.setdefault(journey, coverage).merge(coverage)
        for scenario, failure in results:
            if failure is None:
                passed += 1
                print(f"PASS {path}: {scenario.name}")
            else:
                failed += 1
                print(f"FAIL {failure.render()}")
    if args.coverage or args.fail_under is not None:
        for journey, coverage in coverages.items():
            print(f"coverage of {journey}:")
            for kind, (done, total, missing) in coverage.parts().items():
                share = 100.0 if total == 0 else 100.0 * done / total
                left = f"  (not exercised: {', '.join(missing)})" if missing else ""
                print(f"  {kind:<11}{done:>4}/{total:<4}{share:>6.1f}%{left}")
    print(
        f"{_count(passed + failed, 'scenario')}: {passed:,} passed, {failed:,} failed"
        + (f"; {_count(broken, 'file')} could not run" if broken else ""),
        file=sys.stderr,
    )
    if broken:
        return EXIT_USAGE
    under = args.fail_under is not None and any(
        c.percent("moves") < args.fail_under for c in coverages.values()
    )
    if under:
        print(f"topo: move coverage below {args.fail_under:g}%", file=sys.stderr)
    return EXIT_FINDINGS if failed or under else EXIT_OK


def _paths(args: argparse.Namespace) -> int:
    from topo.cli.progress import ProgressBar
    from topo.rehearsal.paths import find_paths, paths_text

    journey = _load(args.journey, strict=args.strict)
    if args.out and not os.path.isdir(os.path.dirname(args.out) or "."):
        raise UsageError(f"--out {args.out}: its folder does not exist")
    terminal = sys.stderr.isatty()
    bar = ProgressBar(sys.stderr, noun="situations", limit=args.budget) if terminal else None
    try:
        found = find_paths(journey, max_steps=args.max_steps, budget=args.budget, progress=bar)
    finally:
        if bar is not None:
            bar.clear()
    if args.out:  # the journey as the scenario file will find it
        text = paths_text(found, os.path.relpath(args.journey, os.path.dirname(args.out) or "."))
        try:
            with open(args.out, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            raise UsageError(f"--out {args.out}: {exc.strerror}") from None
    else:
        sys.stdout.write(paths_text(found, args.journey))
    nodes, moves = found.missing()
    labels = {m.id or f"moves[{i}]": m for i, m in enumerate(journey.moves)}
    explored = _count(found.explored, "situation")
    print(f"paths to {found.reached()} ({explored} explored)", file=sys.stderr)
    for node in nodes:
        print(f"  no path found to node {node!r}", file=sys.stderr)
    for label in moves:
        move = labels[label]
        print(
            f"  no path found to take {label} ({', '.join(move.from_)} -> {move.to}): it may "
            "need more steps (--max-steps) or situations (--budget), or be too hard a step",
            file=sys.stderr,
        )
    return EXIT_FINDINGS if nodes or moves else EXIT_OK


def _print_lines(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _timestamp(text: str, option: str = "--until") -> datetime:
    from topo.engine.field_values import Refusal, timestamp

    try:
        return timestamp(text, option, False)
    except Refusal as refusal:
        raise UsageError(refusal.reason) from None


def _writable(option: str, path: str) -> None:
    """Refuse ``path`` for ``option`` if it could not be written (nothing is made yet)."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: is a folder; give a file")
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: No such file or directory")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {path}: Permission denied")


class _Outputs:
    """The output files (--triggers, --states, --rejects, --events, ...), opened together and
    closed together."""

    def __init__(
        self, args: argparse.Namespace, names: Sequence[str] = ("triggers", "states", "rejects")
    ) -> None:
        self.paths = {name: getattr(args, name, None) for name in names}
        self.later = {name: getattr(args, name, None) for name in ("summary", "report")}
        self.files: dict[str, IO[str]] = {}

    def __enter__(self) -> _Outputs:
        dashes = [f"--{name}" for name, path in self.paths.items() if path == "-"]
        dashes += [f"--{name}" for name in ("summary", "report") if self.later.get(name) == "-"]
        if len(dashes) > 1:
            raise UsageError(f"{' and '.join(dashes)}: only one output can go to stdout (-)")
        for name, path in self.later.items():  # written after the run: checked before it
            if path and path != "-":
                _writable(f"--{name}", path)
        if self.later.get("report"):
            from topo.report.html import plotly_figures

            plotly_figures()
        for name, path in self.paths.items():
            if path == "-":
                self.files[name] = sys.stdout
            elif path:
                try:
                    self.files[name] = open(path, "w", encoding="utf-8")
                except OSError as exc:
                    self.__exit__()
                    raise UsageError(f"--{name} {path}: {exc.strerror}") from None
        return self

    def __exit__(self, kind: object = None, *rest: object) -> None:
        failed: UsageError | None = None
        for name, file in self.files.items():
            try:
                if file is sys.stdout:
                    file.flush()
                else:
                    file.close()
            except OSError as exc:  # what was buffered could not be written: say which file
                failed = failed or self._failed(name, exc)
        if failed is not None and kind is None:  # (an error already on its way says more)
            raise failed

    def _write(self, name: str, value: object) -> None:
        if name in self.files:
            self._line(name, json_line(value))

    def _line(self, name: str, line: str) -> None:
        try:
            self.files[name].write(line)
        except OSError as exc:
            raise self._failed(name, exc) from None

    def _failed(self, name: str, exc: OSError) -> UsageError:
        """A write that failed (a full disk, a file size limit), as a sentence naming it."""
        path = self.paths[name]
        shown = "stdout" if path == "-" else path
        return UsageError(
            f"--{name} {shown}: {exc.strerror or exc}; the file is incomplete (a durable "
            "store keeps what it committed: free some space and run again)"
        )

    def trigger(self, trigger: Trigger) -> None:
        self._write("triggers", trigger.to_dict())

    def withheld(self, trigger: Trigger, cap: str) -> None:
        self._line("withheld", withheld_line(trigger.to_dict(), cap))

    def writer(self, name: str) -> Callable[[str], None] | None:
        """What writes a JSON line (:func:`topo.lines.json_line`) to output ``name``, as it is
        (None when it was not asked for)."""
        if name not in self.files:
            return None
        return lambda line: self._line(name, line)

    def event(self, event: dict[str, Any]) -> None:
        self._write("events", event)

    def reject(self, event: object, reason: str, line: int) -> None:
        if "rejects" in self.files:
            self._line("rejects", reject_line(event, reason, line))

    def states(
        self, engine: Any, until: datetime | None, line: Callable[..., dict[str, Any]]
    ) -> None:
        if "states" in self.files:
            for member in sorted(engine.store.members()):
                self._write("states", line(engine, member, until))


def _graph(args: argparse.Namespace) -> int:
    from topo.analysis.diagrams import render

    sys.stdout.write(render(_load(args.journey), args.format))
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from topo.journey.schema import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from topo.analysis.diffing import diff_journeys

    # An older version may break a rule the analysis has learnt since; it is still comparable.
    difference = diff_journeys(_load(args.old, analysis=False), _load(args.new, analysis=False))
    sys.stdout.write(difference.render(args.format))
    for problem in difference.problems:
        print(f"topo: {problem}", file=sys.stderr)
    return EXIT_FINDINGS if difference.problems else EXIT_OK


def _print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        print(diagnostic.render(), file=sys.stderr)
