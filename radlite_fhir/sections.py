"""Split report text into sections by the headings radiologists write.

Headings come from mappings/sections.yaml. A heading counts at the start of a line (or of the
text, or after a comma-as-line-break as in transcribed reports) followed by a colon, or alone on
its line in capitals; a heading in capitals may carry one or two qualifying words before it
("ELECTROPHYSIOLOGICAL FINDINGS:", "FINAL ATTENDING ADDENDUM:"), and a heading followed by its
colon a qualifier after it, in brackets or after a dash in capitals ("Findings (continued):",
"ADDENDUM - FINAL:"), as addenda and continued sections are headed. Text before the first heading is
left unsectioned; a report with no headings at all has one implicit findings section, so tasks
always have text to read.
"""

from __future__ import annotations

import re
from functools import cache

from radlite_fhir.coding import load_code_tables
from radlite_fhir.report import Section


@cache
def _heading_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    by_heading: dict[str, str] = {}
    for section in load_code_tables().sections.values():
        for heading in section.headings:
            by_heading[heading.lower()] = section.key
    alternatives = "|".join(
        re.escape(h).replace(r"\ ", r"\s+") for h in sorted(by_heading, key=len, reverse=True)
    )
    pattern = re.compile(
        rf"(?:(?<=^)|(?<=\n)|(?<=,)|(?<=\.\s)|(?<=\.))[ \t]*"
        rf"(?P<q>(?:(?-i:[A-Z][A-Z-]{{2,}})[ \t]+){{1,2}})??(?P<h>{alternatives})"
        rf"(?P<t>[ \t]*\([^()\n]{{1,30}}\)|[ \t]+[-\u2013][ \t]+(?-i:[A-Z]{{3,}}))?"
        rf"(?:[ \t]*:|[ \t]*(?=\n))",
        re.IGNORECASE,
    )
    return pattern, by_heading


# "Diagnosis:" heads the report's conclusion in some institutions and the referral diagnosis in
# others ("Patient 60 years. Diagnosis: liver cirrhosis (HCV). ... Conclusion: ..."): one that a
# later conclusion or impression follows is the referral's.
AMBIGUOUS_CONCLUSION = "diagnosis"
CONCLUDING = ("conclusion", "impression")
REFERRAL = "clinical_information"


def _referral_diagnosis(marks: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    out = []
    for index, (start, end, key, heading) in enumerate(marks):
        later = any(k in CONCLUDING for _, _, k, _ in marks[index + 1 :])
        if heading.lower() == AMBIGUOUS_CONCLUSION and key in CONCLUDING and later:
            key = REFERRAL
        out.append((start, end, key, heading))
    return out


def split_sections(text: str) -> tuple[Section, ...]:
    """Sections in text order; each ends where the next heading starts."""
    pattern, by_heading = _heading_pattern()
    marks: list[tuple[int, int, str, str]] = []
    for match in pattern.finditer(text):
        heading = match.group("h")
        if not match.group(0).endswith(":") and not heading.isupper():
            continue  # a heading without a colon must be written in capitals on its own line
        if match.group("q") and not (heading.isupper() and match.group(0).endswith(":")):
            continue  # a qualified heading ("SONOGRAPHIC FINDINGS:") is written in capitals
        if match.group("t") and not match.group(0).endswith(":"):
            continue  # a trailing qualifier ("ADDENDUM - FINAL:") is followed by its colon
        key = by_heading[re.sub(r"\s+", " ", heading.lower())]
        marks.append(
            (match.start("q") if match.group("q") else match.start("h"), match.end(), key, heading)
        )
    if not marks:
        return (Section(key="findings", heading="", start=0, end=len(text)),)
    marks = _referral_diagnosis(marks)
    sections = []
    for index, (_, body_start, key, heading) in enumerate(marks):
        end = marks[index + 1][0] if index + 1 < len(marks) else len(text)
        body_end = end
        while body_end > body_start and text[body_end - 1] in " \t\n,":
            body_end -= 1
        while body_start < body_end and text[body_start] in " \t\n,":
            body_start += 1
        sections.append(Section(key=key, heading=heading, start=body_start, end=body_end))
    return tuple(sections)
