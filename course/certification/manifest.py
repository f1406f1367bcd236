"""Paper manifests (``papers/<paper-id>.json``): reading them, and what they say about assignments and items.

Apart from :mod:`course.certification.papers` (which builds notebooks) so the manager
pages and the decisions read manifests without importing the notebook toolchain.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from course.errors import CourseError


def manifest_path(root: Path, paper_id: str) -> Path:
    return root / "papers" / f"{paper_id}.json"


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CourseError(f"{path}: cannot be read as a paper manifest ({exc}): "
                          "regenerate it with `course paper create`") from None
    return data


def manifests(root: Path) -> list[dict[str, Any]]:
    """Every paper manifest under ``papers/``, oldest first (by the order they were created)."""
    found = [read_manifest(p) for p in sorted((root / "papers").glob("*.json"))]
    return sorted(found, key=lambda d: (d.get("sitting", 1), d["paper"]))


def paper_assignments(root: Path) -> set[str]:
    """Every nbgrader assignment id that is a paper variant (not a chapter), from the manifests.

    Chapter analytics should leave these out of the gradebook frame: a paper
    repeats bank items a learner may also have answered in chapter practice.
    """
    return {v["assignment"] for d in manifests(root) for v in d["variants"].values()}


def seen_items(root: Path, learner: str, before: str | None = None) -> set[str]:
    """Question ids of every earlier paper the learner was given."""
    seen: set[str] = set()
    for data in manifests(root):
        if data["paper"] == before:
            continue
        variant = data["variants"].get(learner)
        if variant:
            seen.update(variant["theory"] + variant["skills"])
    return seen
