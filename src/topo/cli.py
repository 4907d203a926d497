"""The ``topo`` command line: parse arguments, call the library, render, return an exit code.

Exit codes (the spec's): 0 when it ran and found no error, 1 when it found errors (or, with
``--strict``, warnings), 2 when it could not run (no such file, bad arguments).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from topo import __version__
from topo.diagnostics import Severity
from topo.errors import UsageError
from topo.rendering import FORMATS, summary
from topo.validation import find_journeys, validate

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


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
        "--format", choices=sorted(FORMATS), default="text", help="output format (default: text)"
    )
    check.add_argument("--strict", action="store_true", help="fail (exit 1) on warnings too")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return _validate(args)


def _validate(args: argparse.Namespace) -> int:
    try:
        files = find_journeys(args.paths)
    except UsageError as exc:
        print(f"topo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    diagnostics = validate(files)
    sys.stdout.write(FORMATS[args.format](diagnostics, len(files)))
    print(summary(diagnostics, len(files)), file=sys.stderr)
    failing = {Severity.ERROR, Severity.WARNING} if args.strict else {Severity.ERROR}
    return EXIT_FINDINGS if any(d.severity in failing for d in diagnostics) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
