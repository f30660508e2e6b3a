"""The difference between the plan at another ref and this one (pure): added, removed, changed properties."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tools.plan.model import SECRET_MASK, PlannedItem


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any  # `None` when the property is new
    after: Any  # `None` when the property is gone
    note: str = ""  # e.g. that a secret value changed


@dataclass(frozen=True)
class ResourceChange:
    urn: str
    type: str
    name: str
    changes: tuple[PropertyChange, ...]


@dataclass(frozen=True)
class PlanDiff:
    base: str
    base_commit: str
    note: str  # why there is no comparison, or what the base lacked ("" when both sides planned)
    added: tuple[PlannedItem, ...] = ()
    removed: tuple[PlannedItem, ...] = ()
    changed: tuple[ResourceChange, ...] = ()
    # The base's side of each changed resource (tools/plan/access.py words a role's grants from both).
    changed_before: tuple[PlannedItem, ...] = ()

    def to_json(self) -> dict[str, Any]:
        def brief(item: PlannedItem) -> dict[str, str]:
            return {"urn": item.urn, "type": item.type, "name": item.name}

        return {
            "base": self.base,
            "baseCommit": self.base_commit,
            "note": self.note,
            "added": [brief(i) for i in self.added],
            "removed": [brief(i) for i in self.removed],
            "changed": [
                {
                    "urn": c.urn,
                    "type": c.type,
                    "name": c.name,
                    "changes": [asdict(p) for p in c.changes],
                }
                for c in self.changed
            ],
        }


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaf paths (`ports[0].external`) -> values; an empty object or list is a leaf of its own."""
    if isinstance(value, Mapping) and value:
        flat: dict[str, Any] = {}
        for k, v in value.items():
            flat.update(flatten(v, f"{path}.{k}" if path else k))
        return flat
    if isinstance(value, list) and value:
        flat = {}
        for i, v in enumerate(value):
            flat.update(flatten(v, f"{path}[{i}]"))
        return flat
    return {path: value}


def _natural(path: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def _comparable(item: PlannedItem) -> dict[str, Any]:
    flat = flatten(item.properties)
    # Options a reviewer must notice: unprotecting a data volume is a change even if no input moves.
    flat["(protect)"] = item.protect
    flat["(retainOnDelete)"] = item.retain_on_delete
    flat["(provider)"] = item.provider
    return flat


def property_changes(before: PlannedItem, after: PlannedItem) -> tuple[PropertyChange, ...]:
    old, new = _comparable(before), _comparable(after)
    changes = []
    for path in sorted(set(old) | set(new), key=_natural):
        a, b = old.get(path), new.get(path)
        if a != b:
            changes.append(PropertyChange(path, a, b))
        elif a == SECRET_MASK and before.secret_fingerprints.get(path) != after.secret_fingerprints.get(path):
            changes.append(PropertyChange(path, a, b, "secret value changed"))
    return tuple(changes)


def diff_plans(
    base: Sequence[PlannedItem], head: Sequence[PlannedItem], ref: str, commit: str, note: str = ""
) -> PlanDiff:
    """Resources matched by URN (what Pulumi matches on, aliases aside): added, removed, changed."""
    old = {i.urn: i for i in base}
    new = {i.urn: i for i in head}
    changed = []
    for urn, item in new.items():
        if urn in old:
            changes = property_changes(old[urn], item)
            if changes:
                changed.append(ResourceChange(urn, item.type, item.name, changes))
    return PlanDiff(
        base=ref,
        base_commit=commit,
        note=note,
        added=tuple(i for urn, i in new.items() if urn not in old),
        removed=tuple(i for urn, i in old.items() if urn not in new),
        changed=tuple(changed),
        changed_before=tuple(old[c.urn] for c in changed),
    )
