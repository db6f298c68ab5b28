"""The source report, split into paragraphs with stable ids such as ``PROTECTION ¶4``.

Ids are derived from the report text alone: the section heading it falls under and the
paragraph's position in that section. A line that starts in lower case continues the
paragraph before it (the source text has a few paragraphs broken across page breaks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SECTION_KEYS = {
    "MEXICO (TIER 2)": "SUMMARY",
    "PRIORITIZED RECOMMENDATIONS:": "RECOMMENDATIONS",
    "PROSECUTION": "PROSECUTION",
    "PROTECTION": "PROTECTION",
    "PREVENTION": "PREVENTION",
    "TRAFFICKING PROFILE:": "PROFILE",
}
_HEADING = re.compile(r"^#+\s*(.*?)\s*$")
_PARAGRAPH_ID = re.compile(
    r"^(SUMMARY|RECOMMENDATIONS|PROSECUTION|PROTECTION|PREVENTION|PROFILE) ¶(\d+)$"
)


@dataclass(frozen=True)
class Paragraph:
    id: str  # "PROTECTION ¶4"
    section: str
    number: int
    text: str

    @property
    def anchor(self) -> str:
        return f"{self.section}-{self.number}"


def split_report(text: str) -> list[Paragraph]:
    paragraphs: list[Paragraph] = []
    section: str | None = None
    number = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        heading = _HEADING.match(line)
        if heading:
            title = heading.group(1).strip("*").strip().upper()
            section = SECTION_KEYS.get(title)
            number = 0
            continue
        if section is None:
            continue
        body = line[2:] if line.startswith("- ") else line
        if paragraphs and paragraphs[-1].section == section and body[:1].islower():
            last = paragraphs[-1]
            paragraphs[-1] = Paragraph(last.id, section, last.number, f"{last.text} {body}")
            continue
        number += 1
        paragraphs.append(Paragraph(f"{section} ¶{number}", section, number, body))
    return paragraphs


def load_report(path: Path) -> dict[str, Paragraph]:
    return {p.id: p for p in split_report(path.read_text(encoding="utf-8"))}


def is_paragraph_id(value: str) -> bool:
    return bool(_PARAGRAPH_ID.match(value))
