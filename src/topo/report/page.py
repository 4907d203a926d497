"""A report page being written: headings, sentences, charts and tables, and numbers as a
person reads them. plotly.js goes into the page once, with its first chart."""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["Page", "mean", "text"]

_CONFIG = {"displaylogo": False, "responsive": True}
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f5f5f5; } td:first-child, th:first-child { text-align: left; }
p.what { color: #444; font-style: italic; } .meta td { text-align: left; }
"""


class Page:
    """The parts of the page in order; the first chart carries plotly.js."""

    def __init__(self, go: Any) -> None:
        self.go = go
        self.parts: list[str] = []
        self.charts = 0

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{escape(text)}</h2>")

    def say(self, text: str) -> None:
        self.parts.append(f'<p class="what">{escape(text)}</p>')

    def chart(self, figure: Any, name: str, height: int = 420) -> None:
        figure.update_layout(template="plotly_white", height=height, margin={"t": 40})
        self.parts.append(
            figure.to_html(
                full_html=False,
                include_plotlyjs=self.charts == 0,
                div_id=f"chart-{name}",
                config=_CONFIG,
            )
        )
        self.charts += 1

    def table(self, head: list[str], rows: list[list[Any]]) -> None:
        cells = "".join(f"<th>{escape(h)}</th>" for h in head)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
        )
        self.parts.append(f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>")

    def render(self, title: str) -> str:
        body = "\n".join(self.parts)
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
        )


def mean(value: Any) -> float | None:
    """The number to draw: the value, or the mean of a combined figure."""
    if isinstance(value, dict):
        return float(value["mean"])
    return None if value is None else float(value)


def text(value: Any, kind: str = "count") -> str:
    """A figure as text; a combined one as ``mean (low to high)``."""
    if isinstance(value, dict):
        low, high = text(value["low"], kind), text(value["high"], kind)
        return f"{text(value['mean'], kind)} ({low} to {high})"
    if value is None:
        return "n/a"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "points":
        return f"{100 * value:+.1f} pp"
    if kind == "days":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "p":
        return "< 0.001" if value < 0.001 else f"{value:.3f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"
