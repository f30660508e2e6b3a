"""The plan against another ref as Markdown, for a pull-request comment."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tools.plan import access
from tools.plan.diff import PlanDiff, PropertyChange, ResourceChange
from tools.plan.model import DISCLAIMER, PlannedItem
from tools.plan.text import shown_path, verdict_line, violation_order

if TYPE_CHECKING:
    from policies.analyzer_client import Violation

COMMENT_MARKER = "<!-- milvus-platform offline plan -->"


def md_code(value: Any) -> str:
    """A value as an inline code span that survives a Markdown table cell."""
    text = value if isinstance(value, str) else json.dumps(value)
    text = text.replace("\n", "\\n").replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(value: Any) -> str:
    """A property's side of a change: absent (`None`: the property is new or gone) or its value."""
    return "*(absent)*" if value is None else md_code(value)


def _is_multiline(change: PropertyChange) -> bool:
    return any(isinstance(v, str) and "\n" in v for v in (change.before, change.after))


def heading(stack: str, items: Sequence[PlannedItem], diff: PlanDiff) -> list[str]:
    """The marker CI finds its comment by, the title, the disclaimer, a note, and the counts."""
    commit = f" (`{diff.base_commit[:12]}`)" if diff.base_commit else ""
    lines = [
        COMMENT_MARKER,
        f"### Offline plan (Pulumi mocks, not `pulumi preview`): stack `{stack}` against `{diff.base}`{commit}",
        "",
        f"> {DISCLAIMER}",
        "",
    ]
    if diff.note:
        lines += [f"**Note:** {diff.note}", ""]
    return [
        *lines,
        f"**{len(diff.added)} to add, {len(diff.removed)} to remove, {len(diff.changed)} to change** "
        f"({len(items)} resources declared).",
        "",
    ]


def added_and_removed(diff: PlanDiff) -> list[str]:
    """One table of whole resources: `+` added, `-` removed (and whether it was protected)."""
    if not diff.added and not diff.removed:
        return []
    return [
        "| | resource | type |",
        "|---|---|---|",
        *(f"| + | `{i.name}` | `{i.type}` |" for i in diff.added),
        *(f"| - | `{i.name}` | `{i.type}` |" + (" **protected**" if i.protect else "") for i in diff.removed),
        "",
    ]


def property_row(change: PropertyChange) -> str:
    """One table row; multi-line values are pointed to the unified diff below the table."""
    if _is_multiline(change):
        before = after = "multi-line, see below"
    else:
        before, after = _cell(change.before), _cell(change.after)
    note = f" ({change.note})" if change.note else ""
    return f"| `{change.path}` | {before} | {after}{note} |"


def unified_diff(change: PropertyChange) -> list[str]:
    """A multi-line value's change as a ```diff block."""
    body = "".join(
        difflib.unified_diff(
            (change.before or "").splitlines(keepends=True),
            (change.after or "").splitlines(keepends=True),
            f"{change.path} (base)",
            f"{change.path} (change)",
        )
    )
    return [f"`{change.path}`:", "", "```diff", body.rstrip("\n"), "```", ""]


def changed_resource(change: ResourceChange) -> list[str]:
    """A resource whose inputs changed: a table of properties, then the multi-line ones as diffs. Access
    resources are told in words instead (tools/plan/access.py), with their table folded away."""
    if change.type.startswith(access.ACCESS_PREFIX):
        return [
            f"<details><summary>~ <code>{change.name}</code>: its properties</summary>",
            "",
            "| property | before | after |",
            "|---|---|---|",
            *(property_row(p) for p in change.changes),
            "",
            "</details>",
            "",
        ]
    return [
        f"#### ~ `{change.name}` (`{change.type}`)",
        "",
        "| property | before | after |",
        "|---|---|---|",
        *(property_row(p) for p in change.changes),
        "",
        *(line for p in change.changes if _is_multiline(p) for line in unified_diff(p)),
    ]


def policy_section(violations: Sequence[Violation] | None, policy_config: str | None) -> list[str]:
    """The pack's verdict, the config it judged with, and its findings, mandatory first."""
    lines = ["#### Policy pack", ""]
    if violations is None:
        return [*lines, "Not run (`--no-policy`).", ""]
    lines += [verdict_line(violations), "", f"Policy config: `{shown_path(policy_config)}`", ""]
    if not violations:
        return lines
    rows = [
        f"| {v.level} | `{v.policy}` | {md_code(v.resource or 'stack')} | "
        + v.message.replace("|", "\\|").replace("\n", " ")
        + " |"
        for v in sorted(violations, key=violation_order)
    ]
    return [*lines, "| level | rule | resource | message |", "|---|---|---|---|", *rows, ""]


def declared_tree(tree_text: str) -> list[str]:
    """The whole text report's tree, folded away."""
    return [
        "<details><summary>Everything the program declares</summary>",
        "",
        "```text",
        tree_text.rstrip(),
        "```",
        "",
        "</details>",
        "",
    ]


def render_markdown(
    stack: str,
    items: Sequence[PlannedItem],
    violations: Sequence[Violation] | None,
    diff: PlanDiff,
    tree_text: str,
    policy_config: str | None = None,
) -> str:
    return "\n".join(
        [
            *heading(stack, items, diff),
            *added_and_removed(diff),
            *access.markdown_section(diff, items),
            *(line for change in diff.changed for line in changed_resource(change)),
            *policy_section(violations, policy_config),
            *declared_tree(tree_text),
        ]
    )
