"""The ``topo`` command line: parse arguments, call the library, render, return an exit code.

Exit codes (the spec's): 0 when it ran and found no error, 1 when it found errors (or, with
``--strict``, warnings), 2 when it could not run (no such file, bad arguments).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from topo import __version__
from topo.diagnostics import Diagnostic, Severity
from topo.errors import InvalidJourney, UsageError
from topo.model import Journey
from topo.rendering import FORMATS, summary
from topo.validation import find_journeys, load_journey, validate

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"topo: error: {message}\n")


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
    except UsageError as exc:
        print(f"topo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidJourney as exc:
        unreadable = [d for d in exc.diagnostics if d.code == "T100"]
        for d in unreadable:  # no such file, a folder: a usage error, not a finding
            print(f"topo: error: {d.file}: {d.message}", file=sys.stderr)
        if unreadable:
            return EXIT_USAGE
        _print_diagnostics(exc.diagnostics)
        return EXIT_FINDINGS


def _validate(args: argparse.Namespace) -> int:
    files = find_journeys(args.paths)
    diagnostics = validate(files)
    output_format = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") else "text")
    sys.stdout.write(FORMATS[output_format](diagnostics, len(files)))
    print(summary(diagnostics, len(files)), file=sys.stderr)
    failing = {Severity.ERROR, Severity.WARNING} if args.strict else {Severity.ERROR}
    return EXIT_FINDINGS if any(d.severity in failing for d in diagnostics) else EXIT_OK


def _load(path: str, *, analysis: bool = True) -> Journey:
    """A journey for a command that needs one; a bad file raises InvalidJourney."""
    return load_journey(path, analysis=analysis)


def _graph(args: argparse.Namespace) -> int:
    from topo.diagrams import render

    sys.stdout.write(render(_load(args.journey), args.format))
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from topo.schema import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from topo.diffing import diff_journeys

    # An older version may break a rule the analysis has learnt since; it is still comparable.
    difference = diff_journeys(_load(args.old, analysis=False), _load(args.new, analysis=False))
    sys.stdout.write(difference.render(args.format))
    for problem in difference.problems:
        print(f"topo: {problem}", file=sys.stderr)
    return EXIT_FINDINGS if difference.problems else EXIT_OK


def _print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        print(diagnostic.render(), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
