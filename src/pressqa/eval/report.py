"""Eval reports: a terminal table, report.json, report.md, a per-kind chart, and a comparison."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from pressqa.eval.harness import CAUSES, EvalReport

# The measures shown in tables, with how to print them.
SHOWN = [
    ("hit@1", "pct"), ("hit@5", "pct"), ("hit@10", "pct"), ("mrr@10", "num"), ("accuracy", "pct"),
    ("list_recall", "pct"), ("timeline_recall", "pct"), ("timeline_precision", "pct"), ("in_date_order", "pct"),
    ("words_median", "num"), ("words_p90", "num"), ("citation_precision", "pct"),
    ("citation_recall", "pct"), ("support_checker", "pct"), ("support_lexical", "pct"),
    ("abstention_precision", "pct"), ("abstention_recall", "pct"), ("false_abstention", "pct"), ("crag", "num"),
    ("latency_p50", "sec"), ("latency_p95", "sec"), ("judge_correct", "pct"), ("judge_faithful", "pct"),
]  # fmt: skip


def fmt(value: float | None, style: str) -> str:
    if value is None:
        return "-"
    if style == "pct":
        return f"{100 * value:.0f}%"
    if style == "sec":
        return f"{value:.3f}s"
    return f"{value:.2f}" if isinstance(value, float) and not value.is_integer() else f"{value:g}"


def table(report: EvalReport) -> str:
    """Measures (rows) overall and per kind (columns), as a markdown table."""
    kinds = list(report.per_kind)
    head = ["measure", "all", *kinds]
    counts = ["questions", str(report.overall["questions"]), *(str(report.per_kind[k]["questions"]) for k in kinds)]
    rows = [head, ["---"] * len(head), counts]
    for name, style in SHOWN:
        values = [report.overall.get(name), *(report.per_kind[k].get(name) for k in kinds)]
        if all(value is None for value in values):
            continue
        rows.append([name, *(fmt(value, style) for value in values)])
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def to_json(report: EvalReport) -> str:
    return json.dumps(dataclasses.asdict(report), indent=2, ensure_ascii=False)


def to_markdown(report: EvalReport) -> str:
    lines = [
        "# Eval report",
        "",
        f"Questions: `{report.questions_file}`; archive: `{report.archive}`; answers by: {report.generator}; "
        f"{report.created}.",
        "",
        table(report),
        "",
        "judge_* rows, when present, are a language model's verdicts, not measured against the gold answers.",
        "",
        "## Failures by cause",
        "",
    ]
    for cause in CAUSES:
        failed = [result for result in report.results if result.cause == cause]
        if not failed:
            continue
        lines += [f"### {cause} ({len(failed)})", ""]
        for result in failed:
            answer = result.answer.replace("\n", " ")
            lines.append(f"- **{result.id}** ({result.kind}): {result.question} — answer: {answer[:240]}")
        lines.append("")
    return "\n".join(lines)


def write_chart(report: EvalReport, path: Path) -> None:
    """A bar chart (PNG) of accuracy and hit@5 per kind, drawn with Pillow."""
    from PIL import Image, ImageDraw

    kinds = list(report.per_kind)
    series = [("accuracy", (37, 99, 235)), ("hit@5", (245, 158, 11))]
    width, height, left, bottom, top = max(480, 110 * len(kinds) + 80), 360, 50, 60, 40
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    plot_height = height - top - bottom
    draw.line([(left, top), (left, height - bottom), (width - 10, height - bottom)], fill="black")
    for tick in (0, 50, 100):
        y = height - bottom - plot_height * tick / 100
        draw.text((8, y - 6), f"{tick}%", fill="black")
        draw.line([(left - 4, y), (left, y)], fill="black")
    slot = (width - left - 20) / max(1, len(kinds))
    for index, kind in enumerate(kinds):
        x = left + 10 + index * slot
        for offset, (name, colour) in enumerate(series):
            value = report.per_kind[kind].get(name) or 0.0
            bar_top = height - bottom - plot_height * value
            draw.rectangle([x + offset * 34, bar_top, x + offset * 34 + 30, height - bottom], fill=colour)
        draw.text((x, height - bottom + 8), kind, fill="black")
    for offset, (name, colour) in enumerate(series):
        draw.rectangle([left + offset * 120, 12, left + offset * 120 + 12, 24], fill=colour)
        draw.text((left + offset * 120 + 18, 12), name, fill="black")
    image.save(path)


def write(report: EvalReport, folder: Path) -> list[Path]:
    """report.json, report.md and report.png in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "report.json", folder / "report.md", folder / "report.png"]
    paths[0].write_text(to_json(report), encoding="utf-8")
    paths[1].write_text(to_markdown(report), encoding="utf-8")
    write_chart(report, paths[2])
    return paths


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Metric deltas between two report.json files, and the questions whose verdict flipped
    (the deltas compare like with like only when both ran the same questions)."""
    old_results = {result["id"]: result for result in before["results"]}
    new_results = {result["id"]: result for result in after["results"]}
    lines = [f"Questions: {len(old_results)} before, {len(new_results)} after."]
    added, removed = sorted(set(new_results) - set(old_results)), sorted(set(old_results) - set(new_results))
    if added or removed:
        lines.append(f"Warning: the question sets differ (only after: {added}; only before: {removed}).")
    lines += ["", "| measure | before | after | change |", "| --- | --- | --- | --- |"]
    for name, style in SHOWN:
        old, new = before["overall"].get(name), after["overall"].get(name)
        if old is None and new is None:
            continue
        change = "" if old is None or new is None else ("+" if new - old > 0 else "") + fmt(new - old, style)
        lines.append(f"| {name} | {fmt(old, style)} | {fmt(new, style)} | {change} |")
    flipped = [
        f"- {key}: {_verdict(old_results[key])} -> {_verdict(result)}"
        for key, result in new_results.items()
        if key in old_results and _verdict(old_results[key]) != _verdict(result)
    ]
    lines += ["", f"Questions that flipped: {len(flipped)}", *flipped]
    return "\n".join(lines)


def _verdict(result: dict[str, Any]) -> str:
    return "right" if result["cause"] is None else result["cause"]
