"""Stage 4b, the report: what a population did on a journey, as figures a CRM team reads.

Takes a journey, its members' states (from a replay or a simulation) and the time the run
ended; hands on a summary (funnel, moves, times, stuck members, costs, pressure, control groups,
owners) as JSON-ready data and as one self-contained HTML file. Entry points:
:func:`topo.report.summary.summarise`, :func:`topo.report.html.write_report` and
:func:`topo.report.aggregate.combine` (several runs); docs/report.md describes every figure.
"""
