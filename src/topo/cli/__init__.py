"""The command line: ``topo validate``, ``test``, ``paths``, ``replay``, ``diff``, ``graph``, ...

Takes arguments; calls the stages below; renders diagnostics (text, JSON, SARIF) and shows
progress on long work. Entry point: :func:`main` (``main``), the ``topo`` console script.
Nothing imports it but ``python -m topo``.
"""

from topo.cli.main import main

__all__ = ["main"]
