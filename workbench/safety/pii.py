"""Personal data patterns: detection and scrubbing (emails, phone numbers, card numbers, national ids)."""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){2,4}(?!\w)"
)
PHONE_AREA = re.compile(r"\(\d{2,4}\)[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?!\d)")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
US_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
UK_NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b")


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum used by payment cards."""
    nums = [int(d) for d in digits if d.isdigit()]
    if len(nums) < 13:
        return False
    total = 0
    for i, d in enumerate(reversed(nums)):
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str


def find(text: str) -> list[Finding]:
    """Every personal-data match in `text` (cards only when the Luhn check passes)."""
    found: list[Finding] = []
    for kind, pattern in (("email", EMAIL), ("national_id", US_SSN), ("national_id", UK_NINO)):
        found += [Finding(kind, m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]
    for m in CARD.finditer(text):
        if luhn_ok(m.group(0)):
            found.append(Finding("card_number", m.start(), m.end(), m.group(0)))
    taken = [(f.start, f.end) for f in found]
    for m in [*PHONE_AREA.finditer(text), *PHONE.finditer(text)]:
        digits = sum(ch.isdigit() for ch in m.group(0))
        overlaps = any(m.start() < e and s < m.end() for s, e in taken)
        if 8 <= digits <= 15 and not overlaps and not ISO_DATE.match(m.group(0)):
            found.append(Finding("phone", m.start(), m.end(), m.group(0)))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def scrub(text: str) -> tuple[str, list[Finding]]:
    """`text` with each finding replaced by a placeholder such as [EMAIL], and the findings."""
    findings = find(text)
    out, last = [], 0
    for f in findings:
        if f.start < last:
            continue
        out += [text[last : f.start], f"[{f.kind.upper()}]"]
        last = f.end
    out.append(text[last:])
    return "".join(out), findings
