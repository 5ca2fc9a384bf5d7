"""Reports: figures, the HTML page, the JSON, the terminal summary."""
from .html import render_html, terminal_summary, write_report

__all__ = ["render_html", "terminal_summary", "write_report"]
