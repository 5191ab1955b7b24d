"""The check's report as plain text: one line per check, then the questions it settled."""

from __future__ import annotations

import json

from .outcome import CheckReport, Status

STATUS_WIDTH = max(len(s.value) for s in Status)


def render(report: CheckReport) -> str:
    lines = [f"Wix live-site check: {report.target}"]
    lines.append(
        "Mode: --write (a test booking is made, paid, plan-charged and undone)"
        if report.write
        else "Mode: read-only (nothing is created; run with --write for the round trip)"
    )
    sections: list[str] = []
    for check in report.checks:
        if check.section not in sections:
            sections.append(check.section)
    for section in sections:
        checks = [c for c in report.checks if c.section == section]
        width = max(len(c.name) for c in checks)
        lines += ["", section]
        for check in checks:
            lines.append(f"  {check.status.value:<{STATUS_WIDTH}}  {check.name:<{width}}  {check.meaning}")
            if check.todo and check.status != Status.OK:
                lines.append(f"  {'':<{STATUS_WIDTH}}  {'':<{width}}  → {check.todo}")
    if report.answers:
        lines += ["", "Open questions settled"]
        for answer in report.answers:
            lines.append(f"  * {answer.question}")
            stored = f"   [stored: {answer.key} = {json.dumps(answer.value)}]" if answer.key in report.stored else ""
            lines.append(f"    {answer.answer}{stored}")
    if report.unsettled:
        lines += ["", "Not settled"]
        lines += [f"  * {item}" for item in report.unsettled]
    if report.leftovers:
        lines += ["", "Could not undo (please fix these by hand)"]
        lines += [f"  * {left.what} — Wix id {left.wix_id}: {left.todo}" for left in report.leftovers]
    if report.notes:
        lines += ["", "Notes"]
        lines += [f"  * {note}" for note in report.notes]
    lines.append("")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def summary(report: CheckReport) -> str:
    problems = len(report.problems)
    left = len(report.leftovers)
    if not problems and not left:
        return f"Result: OK — all {len(report.checks)} checks passed."
    parts = []
    if problems:
        parts.append(f"{problems} check{'s' if problems != 1 else ''} failed (marked above)")
    if left:
        parts.append(f"{left} thing{'s' if left != 1 else ''} could not be undone")
    return "Result: PROBLEMS — " + "; ".join(parts) + "."
