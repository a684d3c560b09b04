"""Accessibility checks with axe-core (installed from package-lock.json by `npm ci` into node_modules/).

`violations(page)` injects axe into the page and returns its WCAG 2.x A/AA violations;
`assert_accessible(page)` fails on any serious or critical one not in ALLOWED, with a readable summary.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAIL_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class Allowed:
    """A known violation inside Streamlit's own chrome that the app cannot fix: one rule on matching nodes."""
    rule: str
    selector: str  # regular expression searched in the node's axe target selector
    reason: str


# Keep this list minimal and specific (rule id + selector pattern), each with its reason. Never a whole rule.
ALLOWED: tuple[Allowed, ...] = (
)


def _allowed(rule: str, node: dict) -> Allowed | None:
    target = " ".join(str(t) for t in node.get("target", []))
    return next((a for a in ALLOWED if a.rule == rule and re.search(a.selector, target)), None)


def violations(page) -> list[dict]:
    """All axe violations on the page for the WCAG 2.0/2.1/2.2 A and AA rules."""
    if not AXE_JS.is_file():
        reason = f"{AXE_JS.relative_to(ROOT)} is missing (run npm ci)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (in CI a missing browser test requirement is a failure)", pytrace=False)
        pytest.skip(reason)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate("""async (tags) => {
        const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 300), impact: n.impact,
                                      summary: n.failureSummary}))}));
    }""", TAGS)


def split(found: list[dict]) -> tuple[list[dict], list[dict]]:
    """(failing, tolerated): serious/critical violations with their allow-listed nodes removed, and the rest."""
    failing, tolerated = [], []
    for v in found:
        nodes = [n for n in v["nodes"] if not _allowed(v["id"], n)]
        if v["impact"] in FAIL_IMPACTS and nodes:
            failing.append({**v, "nodes": nodes})
        if v["impact"] not in FAIL_IMPACTS or len(nodes) < len(v["nodes"]):
            tolerated.append(v)
    return failing, tolerated


def summary(found: list[dict]) -> str:
    lines = []
    for v in found:
        targets = ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:3])
        more = f" (+{len(v['nodes']) - 3} more)" if len(v["nodes"]) > 3 else ""
        lines.append(f"- {v['id']} [{v['impact']}] {v['help']} ({len(v['nodes'])} node(s)): {targets}{more}\n"
                     f"    e.g. {v['nodes'][0]['html']}\n    {v['helpUrl']}")
    return "\n".join(lines)


def assert_accessible(page, where: str = "") -> list[dict]:
    """Fail on serious/critical violations outside ALLOWED; return every violation found (for reporting)."""
    found = violations(page)
    failing, tolerated = split(found)
    if tolerated:
        print(f"axe ({where or page.url}), not failing:\n{summary(tolerated)}")
    assert not failing, f"axe found serious/critical WCAG violations on {where or page.url}:\n{summary(failing)}"
    return found
