"""The plain-text report, for people: the resource tree, the containers, the policy verdicts."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools._cli import REPO_ROOT
from tools.plan import access
from tools.plan.model import CONTAINER, DISCLAIMER, PlannedItem, summarize_container

if TYPE_CHECKING:
    from policies.analyzer_client import Violation


@dataclass(frozen=True)
class TreeRow:
    prefix: str  # the tree drawing before the name
    item: PlannedItem


def tree_rows(items: Sequence[PlannedItem]) -> list[TreeRow]:
    """Depth-first, in declaration order; a resource whose parent is not declared (the stack) is a root."""
    urns = {i.urn for i in items}
    children: dict[str, list[PlannedItem]] = {}
    roots = []
    # Registration order depends on when outputs resolve; type then name is stable across runs.
    for item in sorted(items, key=lambda i: (i.type, i.name)):
        if item.parent in urns:
            children.setdefault(item.parent, []).append(item)
        else:
            roots.append(item)
    rows: list[TreeRow] = []

    def walk(item: PlannedItem, lead: str, branch: str) -> None:
        rows.append(TreeRow(lead + branch, item))
        kids = children.get(item.urn, [])
        deeper = lead + ("" if not branch else ("│ " if branch == "├ " else "  "))
        for index, kid in enumerate(kids):
            walk(kid, deeper, "└ " if index == len(kids) - 1 else "├ ")

    for root in roots:
        walk(root, "", "")
    return rows


def details(item: PlannedItem) -> str:
    """The one line a reviewer needs per resource; containers get their own table."""
    props = item.properties
    flags = [
        word
        for word, on in (("protected", item.protect), ("retained on delete", item.retain_on_delete))
        if on
    ]
    words = access.details(item)
    if words is not None:
        text = words
    elif item.type == CONTAINER:
        summary = summarize_container(props)
        text = f"{summary.name}  {summary.image}"
    elif item.type in ("docker:index/remoteImage:RemoteImage", "docker:index/volume:Volume"):
        text = str(props.get("name", ""))
    elif item.type == "pulumi:providers:docker":
        text = f"host {props.get('host', 'local engine (DOCKER_HOST or the default socket)')}"
    else:
        text = str(props["name"]) if isinstance(props.get("name"), str) else ""
    return "  ".join([t for t in (text, ", ".join(flags)) if t])


def _memory(value: Any) -> str:
    return f"{value} MB" if isinstance(value, int) else str(value)


def render_text(
    stack: str,
    items: Sequence[PlannedItem],
    violations: Sequence[Violation] | None,
    disclaimer: bool = True,
    policy_config: str | None = None,
) -> str:
    """The plain-text report: disclaimer, resource tree, containers, policy verdicts."""
    from rich.console import Console
    from rich.table import Table

    out = io.StringIO()
    # A fixed wide console: CI logs are not terminals, and wrapped image names would be unreadable.
    console = Console(file=out, width=240, color_system=None, highlight=False, emoji=False, markup=False)
    if disclaimer:
        console.print(DISCLAIMER, soft_wrap=True)
        console.print()
    console.print(f"Stack {stack}: {len(items)} resources", soft_wrap=True)
    tree = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for column in ("RESOURCE", "TYPE", "DETAILS"):
        tree.add_column(column, no_wrap=True)
    for row in tree_rows(items):
        tree.add_row(row.prefix + row.item.name, row.item.type, details(row.item))
    console.print(tree)

    containers = sorted((s for s in (i.container() for i in items) if s is not None), key=lambda c: c.name)
    console.print()
    console.print(f"Containers: {len(containers)}", soft_wrap=True)
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for column in ("CONTAINER", "IMAGE", "MEMORY", "PORTS", "VOLUMES"):
        table.add_column(column, no_wrap=True)
    for c in containers:
        table.add_row(
            c.name, c.image, _memory(c.memory_mb), ", ".join(c.ports) or "-", ", ".join(c.volumes) or "-"
        )
    console.print(table)

    access_lines = access.summary_lines(items)
    if access_lines:
        console.print()
        for line in access_lines:
            console.print(line, soft_wrap=True)

    console.print()
    if violations is None:
        console.print("Policy pack: not run (--no-policy).", soft_wrap=True)
    else:
        console.print(f"Policy config: {shown_path(policy_config)}", soft_wrap=True)
        console.print(verdict_line(violations), soft_wrap=True)
        for v in sorted(violations, key=violation_order):
            where = v.resource or "stack"
            console.print(f"  {v.level.upper():<9} {v.policy} [{where}]: {v.message}", soft_wrap=True)
    # Table cells are padded to the column width; trailing blanks are noise in logs and diffs.
    return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())


def violation_order(v: Violation) -> tuple[int, str, str, str]:
    return (0 if v.level == "mandatory" else 1, v.policy, v.resource, v.message)


def verdict_line(violations: Sequence[Violation]) -> str:
    mandatory = sum(1 for v in violations if v.level == "mandatory")
    advisory = len(violations) - mandatory
    if mandatory:
        return f"Policy pack: FAILED, {mandatory} mandatory and {advisory} advisory violation(s)."
    return f"Policy pack: passed, no mandatory violation ({advisory} advisory)."


def shown_path(path: str | None) -> str:
    """How reports name a policy config: relative to the repository when it is inside it."""
    if path is None:
        return "none (the pack's defaults)"
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else path
