"""The documentation stays true to the code: the generated API reference and option tables are
current, and every relative link of the Markdown pages leads to a file that exists."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)


def make_reference():
    path = ROOT / "docs" / "make_reference.py"
    spec = importlib.util.spec_from_file_location("make_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_reference_and_option_tables_are_current():
    stale = make_reference().check()
    assert stale == [], f"stale: {[str(p.relative_to(ROOT)) for p in stale]}; run: python docs/make_reference.py"


def markdown_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))  # code blocks are not links
    text = re.sub(r"`[^`\n]*`", "", text)                     # nor is inline code
    out = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue  # http:, mailto:, ... and anchors within the page
        out.append(target.split("#", 1)[0])
    return out


def test_every_relative_markdown_link_points_to_an_existing_file():
    broken = [(str(page.relative_to(ROOT)), target) for page in markdown_pages()
              for target in relative_links(page) if not (page.parent / target).exists()]
    assert broken == []
    # the check reads links at all: the README links the guide
    assert "docs/guide/tables.md" in relative_links(ROOT / "README.md")
