"""Is the quick group quick: does no test file left in it start nbgrader, a kernel, PostgreSQL, a report or Chromium?

``tests/conftest.py`` GROUPS lists the slow files; every other file runs first, as the quick checks. A file that
uses one of the slow parts below must be listed there.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import GROUPS

TESTS = Path(__file__).parent
SLOW_PARTS = re.compile(
    r"^\s*(?:from|import)\s+(?:playwright|nbgrader\.apps|course\.report)\b"   # Chromium, nbgrader's apps, reports
    r"|^\s*from\s+tests(?:\.pg)?\s+import\s+(?:pg\b|Postgres)"               # PostgreSQL
    r"|\bworkflow\.(?:autograde|generate|release)\("                          # nbgrader's converters
    r"|\[\s*\"report\"|[\[,(]\s*\"(?:generate|release|autograde)\"",          # those `course` commands
    re.M)


def slow_parts(text: str) -> list[str]:
    return sorted({" ".join(m.group(0).split()) for m in SLOW_PARTS.finditer(text)})


def test_no_quick_file_uses_a_slow_part() -> None:
    listed = {name for _, files in GROUPS for name in files} | {Path(__file__).name}
    found = {p.name: parts for p in sorted(TESTS.glob("test_*.py"))
             if p.name not in listed and (parts := slow_parts(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_every_listed_file_exists() -> None:
    listed = [name for _, files in GROUPS for name in files]
    assert [name for name in listed if not (TESTS / name).is_file()] == []
    assert len(listed) == len(set(listed))


def test_the_scan_sees_each_slow_part() -> None:
    """Can the guard fail: is each slow part found in a line that uses it?"""
    text = "\n".join(["from playwright.sync_api import sync_playwright", "    from tests import pg",
                      "report = workflow.autograde(root, course, ['ch01'])", "from course.report import report",
                      'CliRunner().invoke(app, ["report", "--root", root])', "import nbgrader.apps",
                      'run(cd, "generate", "P")'])
    assert slow_parts(text) == [', "generate"', '["report"', "from course.report", "from playwright",
                                "from tests import pg", "import nbgrader.apps", "workflow.autograde("]
