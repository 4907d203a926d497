"""The command line: ``topo validate``, ``test``, ``paths``, ``replay``, ``diff``, ``graph``, ...

Takes arguments and files; calls the stages below; hands on what a person or a CI job reads:
diagnostics as text, JSON or SARIF (``rendering``), progress on long work (``progress``) and an
exit code. Entry point: :func:`main` (``commands``), the ``topo`` console script.
"""

from topo.cli.commands import main

__all__ = ["main"]
