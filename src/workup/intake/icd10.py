"""ICD-10-CM reason codes → facts, through the mapping table ``rules/icd10.tsv``.

A code matches the table row with the longest code prefix it starts with (``M47.12`` →
the ``M47.12`` row, ``M46.26`` → the ``M46.2`` row). ``prior_surgery`` in the table means
"prior spine surgery in the region given by the other codes" (Z98.1 arthrodesis status
names no region). Codes outside the table are ignored; malformed codes are an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from workup.errors import IntakeError, KnowledgeError
from workup.intake.lexicon import PRIOR_SURGERY_FACT as _PRIOR
from workup.kb.load import KnowledgeBase
from workup.types import Evidence, Fact, FactOrigin, Facts, FactValue

_CODE = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")


@dataclass(frozen=True)
class CodeRow:
    """One row of the mapping table."""

    code: str
    facts: tuple[tuple[str, FactValue], ...]
    check: str


def normalize(code: str) -> str:
    """Upper-case a code and put the dot after the third character (``m542`` → ``M54.2``)."""
    c = code.strip().upper().replace(" ", "")
    if "." not in c and len(c) > 3:
        c = c[:3] + "." + c[3:]
    return c


def _value(raw: str) -> FactValue:
    if raw == "true":
        return True
    if raw == "false":
        return False
    try:
        return float(raw)
    except ValueError:
        return raw


@lru_cache(maxsize=1)
def table() -> tuple[CodeRow, ...]:
    """The mapping table, longest codes first (cached)."""
    text = resources.files("workup.intake").joinpath("rules", "icd10.tsv").read_text(encoding="utf-8")
    rows: list[CodeRow] = []
    header_seen = False
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if not header_seen:
            header_seen = True
            continue
        if len(parts) != 3:
            raise KnowledgeError(f"intake/rules/icd10.tsv line {lineno}: expected 3 tab-separated columns", code="KB151")
        code, facts_raw, check = parts
        facts = []
        for pair in facts_raw.split(";"):
            k, _, v = pair.partition("=")
            facts.append((k.strip(), _value(v.strip())))
        rows.append(CodeRow(normalize(code), tuple(facts), check.strip()))
    rows.sort(key=lambda r: (-len(r.code), r.code))
    return tuple(rows)


def lookup(code: str) -> CodeRow | None:
    """The table row for ``code`` (longest prefix), or None when the code is not mapped."""
    c = normalize(code)
    for row in table():
        if c == row.code or c.startswith(row.code if "." in row.code else row.code):
            return row
    return None


def facts_from_codes(codes: Any, kb: KnowledgeBase) -> Facts:
    """Turn ICD-10-CM codes (e.g. ``["M54.12", "Z98.1"]``) into facts with the code as evidence.

    Raises:
        IntakeError: ``codes`` is not a list of strings, or a code is malformed.
    """
    if not isinstance(codes, (list, tuple)) or not all(isinstance(c, str) for c in codes):
        raise IntakeError("ICD-10 codes must be a list of strings such as \"M54.2\"", code="IN230")
    bad = [c for c in codes if not _CODE.match(normalize(c))]
    if bad:
        raise IntakeError(
            f"{len(bad)} malformed ICD-10-CM code(s)",
            code="IN231",
            details=[{"where": c, "message": "not an ICD-10-CM code (letter, two characters, optional dot and up to 4 more)"} for c in bad],
        )
    cands: dict[str, list[tuple[FactValue, Evidence]]] = {}
    prior: list[Evidence] = []
    region: tuple[str, Evidence] | None = None
    for raw in codes:
        row = lookup(raw)
        if row is None:
            continue
        code = normalize(raw)
        ev = Evidence(f"{code} ({row.check})", source=f"icd10:{code}")
        for fid, value in row.facts:
            if fid == "prior_surgery":
                prior.append(ev)
            elif fid == "region":
                if region is None:
                    region = (str(value), ev)
            elif fid in kb.facts:
                cands.setdefault(fid, []).append((value, ev))
    if region is not None:
        cands.setdefault("region", []).append(region)
        if prior and region[0] in _PRIOR:
            cands.setdefault(_PRIOR[region[0]], []).extend((True, e) for e in prior)
    out: list[Fact] = []
    for fid in sorted(cands):
        vals = [v for v, _ in cands[fid]]
        value: FactValue = True if (kb.facts[fid].type == "bool" and True in vals) else vals[0]
        out.append(Fact(fid, value, FactOrigin.ICD10, tuple(e for v, e in cands[fid] if v == value)))
    return Facts(out)
