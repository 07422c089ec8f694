"""Markdown and HTML (with bar charts) of an evaluation: candidates side by side."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

# (row label, path into a score dict, n path)
ROWS = (
    ("RADS accuracy", ("rads_accuracy",), "rads_n"),
    ("RADS undercall", ("rads_severity", "undercall"), "rads_n"),
    ("RADS overcall", ("rads_severity", "overcall"), "rads_n"),
    ("RADS missed (no category given)", ("rads_severity", "missed"), "rads_n"),
    ("RADS spurious (category where none applies)", ("rads_severity", "spurious"), "rads_n"),
    ("RADS wrong system", ("rads_severity", "wrong system"), "rads_n"),
    ("TNM exact match", ("tnm_exact",), "tnm_n"),
    ("T accuracy", ("tnm_axis_accuracy", "T"), "tnm_n"),
    ("N accuracy", ("tnm_axis_accuracy", "N"), "tnm_n"),
    ("M accuracy", ("tnm_axis_accuracy", "M"), "tnm_n"),
    ("Entity F1", ("entity", "f1"), "entity_n"),
    ("Impression ROUGE-L", ("impression_rouge_l",), "impression_n"),
)


def _get(scores: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = scores
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    if value is None and path[0] == "rads_severity" and "rads_accuracy" in scores:
        return 0.0
    return value


def table(results: dict[str, Any], scope: str | None = None) -> list[list[str]]:
    """Rows of [metric, n, candidate values...] for the overall or one source's scores."""
    labels = list(results["candidates"])
    rows = []
    for name, path, n_key in ROWS:
        values, n = [], None
        for label in labels:
            candidate = results["candidates"][label]
            scores = (
                candidate["overall"] if scope is None else candidate["by_source"].get(scope, {})
            )
            value = _get(scores, path)
            n = scores.get(n_key, n)
            values.append("" if value is None else f"{value:.3f}")
        if any(values):
            rows.append([name, str(n or ""), *values])
    return rows


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _sources(results: dict[str, Any]) -> list[str]:
    first = next(iter(results["candidates"].values()))
    return sorted(first["by_source"])


def markdown(results: dict[str, Any]) -> str:
    labels = list(results["candidates"])
    header = ["metric", "n", *labels]
    parts = [
        f"# Evaluation on {results['records']} held-out records",
        "",
        "Models: "
        + ", ".join(
            f"{k} = `{v['model']}` ({v['seconds']} s)" for k, v in results["candidates"].items()
        ),
        "",
        "## All sources",
        "",
        _markdown_table(header, table(results)),
    ]
    for source in _sources(results):
        parts += ["", f"## {source}", "", _markdown_table(header, table(results, source))]
    return "\n".join(parts) + "\n"


def _chart(results: dict[str, Any]) -> str:
    """A grouped bar chart of the overall rows, as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table(results)
    labels = list(results["candidates"])
    figure, axis = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.2))
    height = 0.8 / max(1, len(labels))
    for index, label in enumerate(labels):
        values = [float(row[2 + index] or 0) for row in rows]
        positions = [r + index * height for r in range(len(rows))]
        axis.barh(positions, values, height=height, label=label)
    axis.set_yticks([r + 0.4 - height / 2 for r in range(len(rows))])
    axis.set_yticklabels([row[0] for row in rows])
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.legend(loc="lower right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def html_page(results: dict[str, Any]) -> str:
    labels = list(results["candidates"])

    def render(rows: list[list[str]]) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in ["metric", "n", *labels])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        return f"<table><tr>{head}</tr>{body}</table>"

    sections = [f"<h2>{html.escape(s)}</h2>{render(table(results, s))}" for s in _sources(results)]
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>radlite evaluation</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}</style>"
        f"</head><body><h1>Evaluation on {results['records']} held-out records</h1>"
        f"<img alt='overall metrics' src='data:image/png;base64,{_chart(results)}'>"
        f"<h2>All sources</h2>{render(table(results))}{''.join(sections)}</body></html>"
    )


def write_reports(results: dict[str, Any], out: Path) -> None:
    (out / "report.md").write_text(markdown(results), "utf-8")
    (out / "report.html").write_text(html_page(results), "utf-8")
