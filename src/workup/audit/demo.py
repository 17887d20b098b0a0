"""A synthetic imaging order log (``workup demo order-log``), built from phrase fragments.

The fragments, procedures, departments and provider habits are data
(``audit/data/order_log.yaml``, validated by pydantic); this module only combines them with a
seeded :class:`random.Random`, so the same ``n`` and ``seed`` give the same rows. No row is
a real patient. A pseudonymous patient is one person across their orders: born on one day,
of one sex, so their age on each order's date follows from the birth date (each order goes
to a patient whose age then fits the scenario). A share of rows is outside the spine, a few are deliberately malformed, and a
few providers are prone to low-value imaging (so the audit's funnel plot has outliers to find).
"""

from __future__ import annotations

import bisect
import random
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from workup.errors import IntakeError, KnowledgeError

COLUMNS = ("order_id", "ordered_at", "patient_id", "patient_age", "patient_sex", "provider_id", "department",
           "procedure_code", "procedure_display", "reason_codes", "indication")
START = datetime(2025, 1, 1, 7, 0)  # the log covers a year from here


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Procedure(_Strict):
    display: str
    code: str
    modality: str


class _Department(_Strict):
    id: str
    weight: int = Field(gt=0)


class _Scenario(_Strict):
    id: str
    weight: int = Field(gt=0)
    departments: list[str]
    ages: tuple[int, int]
    complaint: list[str] = Field(min_length=1)
    duration: list[str] = Field(min_length=1)
    extras: list[str] = Field(min_length=1)
    negatives: list[str]
    icd10: list[list[str]] = Field(min_length=1)
    appropriate: list[str] = Field(default_factory=list)
    low_value: list[str] = Field(default_factory=list)
    procedures: list[str] = Field(default_factory=list)  # outside scenarios: what is ordered


class _Sex(_Strict):
    short: str
    letter: str
    word: str


class _Providers(_Strict):
    per_thousand: float
    min: int
    max: int
    prone_share: float
    prone_low_value: float
    usual_low_value: float


class OrderLogSpec(_Strict):
    """``audit/data/order_log.yaml``."""

    schema_version: Literal[1]
    styles: list[str] = Field(min_length=1)
    sex_words: dict[str, _Sex]
    duration_sep: str
    procedures: dict[str, _Procedure]
    departments: list[_Department]
    scenarios: list[_Scenario]
    outside: list[_Scenario]
    outside_share: float
    providers: _Providers
    malformed_per_thousand: float
    malformed: list[str]


@lru_cache(maxsize=1)
def spec() -> OrderLogSpec:
    """The packaged fragment file, validated (cached).

    Raises:
        KnowledgeError: the file does not fit its schema or names an unknown procedure.
    """
    raw = resources.files("workup.audit").joinpath("data", "order_log.yaml").read_text(encoding="utf-8")
    try:
        s = OrderLogSpec.model_validate(yaml.safe_load(raw))
    except ValueError as e:
        raise KnowledgeError(f"audit/data/order_log.yaml: {e}", code="KB180") from None
    deps = {d.id for d in s.departments}
    for sc in s.scenarios + s.outside:
        unknown = [p for p in sc.appropriate + sc.low_value + sc.procedures if p not in s.procedures]
        unknown += [d for d in sc.departments if d not in deps]
        if unknown:
            raise KnowledgeError(f"audit/data/order_log.yaml: scenario {sc.id} names unknown {unknown}", code="KB181")
    return s


def _pick(rng: random.Random, items: list):
    """One item, the first most often (Zipf weights): order logs repeat a few phrasings."""
    return rng.choices(items, [1.0 / (k + 1) ** 2.0 for k in range(len(items))])[0]


def _indication(rng: random.Random, s: OrderLogSpec, sc: _Scenario, age: int, sex: str) -> str:
    complaint = _pick(rng, sc.complaint)
    duration = _pick(rng, sc.duration)
    negs = sc.negatives[: _pick(rng, list(range(len(sc.negatives) + 1))[::-1])]
    words = s.sex_words[sex]
    text = _pick(rng, s.styles).format(
        age=age, sex_short=words.short, sex_letter=words.letter, sex_word=words.word,
        complaint=complaint, Complaint=complaint[:1].upper() + complaint[1:],
        duration_sep=s.duration_sep if duration else "", duration=duration,
        extras=_pick(rng, sc.extras), negatives=" ".join(negs),
    )
    return " ".join(text.split()).replace(" .", ".").replace("..", ".").strip()


def _providers(rng: random.Random, s: OrderLogSpec, n: int) -> list[tuple[str, str, bool, float]]:
    p = s.providers
    count = max(p.min, min(p.max, round(n * p.per_thousand / 1000)))
    deps = [d.id for d in s.departments]
    weights = [d.weight for d in s.departments]
    out = []
    for i in range(count):
        dep = rng.choices(deps, weights)[0]
        prone = rng.random() < p.prone_share
        volume = rng.uniform(0.3, 3.0)  # some providers order far more than others
        out.append((f"prov-{i + 1:04d}", dep, prone, volume))
    return out


def _malformed(row: dict[str, str], kind: str) -> dict[str, str]:
    row = dict(row)
    if kind == "no-indication-no-procedure":
        row.update(indication="", procedure_code="", procedure_display="")
    elif kind == "bad-age":
        row["patient_age"] = "old"
    elif kind == "bad-icd10":
        row["reason_codes"] = "BACK-PAIN"
    elif kind == "bad-date":
        row["ordered_at"] = "31/02/2025"
    elif kind == "missing-order-id":
        row["order_id"] = ""
    return row


def _years_before(on: date, years: int) -> date:
    """``on`` moved back ``years`` years (29 February to the 28th)."""
    return on.replace(year=on.year - years, day=28) if (on.month, on.day) == (2, 29) else on.replace(year=on.year - years)


def _age(born: date, on: date) -> int:
    """Whole years from ``born`` to ``on``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _born_between(on: date, ages: tuple[int, int]) -> tuple[int, int]:
    """The birth dates (ordinals, both ends in) of a patient aged ``ages[0]`` to ``ages[1]`` on ``on``."""
    return _years_before(on, ages[1] + 1).toordinal() + 1, _years_before(on, ages[0]).toordinal()


class _Patients:
    """The log's pseudonymous patients: each a birth date and a sex, drawn once, kept sorted by birth.

    :meth:`pick` takes a patient whose age on a date fits an age range, at random; when none
    fits (a small log), it makes one more patient who does.
    """

    def __init__(self, rng: random.Random, count: int, sexes: list[str], born: tuple[int, int]) -> None:
        self._rng, self._sexes = rng, sexes
        self.born: list[int] = []  # birth ordinals, ascending
        self.ids: list[int] = []  # patient number of each, parallel to born
        self.sex: list[str] = []  # by patient number - 1
        for _ in range(count):
            self._add(rng.randint(*born))

    def _add(self, born: int) -> int:
        number = len(self.sex) + 1
        self.sex.append(self._rng.choice(self._sexes))
        at = bisect.bisect_right(self.born, born)
        self.born.insert(at, born)
        self.ids.insert(at, number)
        return at

    def pick(self, on: date, ages: tuple[int, int]) -> tuple[int, date, str]:
        """A patient aged within ``ages`` on ``on``: their number, birth date and sex."""
        lo, hi = _born_between(on, ages)
        a, b = bisect.bisect_left(self.born, lo), bisect.bisect_right(self.born, hi)
        at = self._rng.randrange(a, b) if b > a else self._add(self._rng.randint(lo, hi))
        number = self.ids[at]
        return number, date.fromordinal(self.born[at]), self.sex[number - 1]


def order_log(n: int, seed: int) -> list[dict[str, str]]:
    """``n`` synthetic orders as rows of text fields (:data:`COLUMNS`), the same for the same seed.

    Raises:
        IntakeError: ``n`` is not positive.
    """
    if n <= 0:
        raise IntakeError("--n must be a positive number of orders", code="IN260")
    s = spec()
    rng = random.Random(seed)
    providers = _providers(rng, s, n)
    by_dep: dict[str, list[_Scenario]] = {}
    for sc in s.scenarios:
        for d in sc.departments:
            by_dep.setdefault(d, []).append(sc)
    step = timedelta(days=365) / n
    everyone = s.scenarios + s.outside
    youngest, oldest = min(sc.ages[0] for sc in everyone), max(sc.ages[1] for sc in everyone)
    end = (START + step * n + timedelta(hours=1)).date()
    # born so that every age a scenario asks for occurs over the log's year
    patients = _Patients(rng, max(1, n * 2 // 3), sorted(s.sex_words),
                         (_born_between(START.date(), (youngest, oldest))[0], _born_between(end, (youngest, oldest))[1]))
    n_bad = max(len(s.malformed) if n >= 200 else 0, round(n * s.malformed_per_thousand / 1000))
    bad_at = dict(zip(sorted(rng.sample(range(n), min(n, n_bad))), (s.malformed * n_bad)[:n_bad]))
    rows: list[dict[str, str]] = []
    pweights = [p[3] for p in providers]
    for i in range(n):
        pid, dep, prone, _ = rng.choices(providers, pweights)[0]
        if rng.random() < s.outside_share:
            sc = rng.choices(s.outside, [o.weight for o in s.outside])[0]
            proc_key = rng.choice(sc.procedures)
        else:
            pool = by_dep.get(dep) or s.scenarios
            # prone providers image the presentations that need none more often
            w = [sc.weight * (3 if prone and not sc.appropriate else 1) for sc in pool]
            sc = rng.choices(pool, w)[0]
            low = rng.random() < (s.providers.prone_low_value if prone else s.providers.usual_low_value)
            choices = sc.low_value if (low or not sc.appropriate) else sc.appropriate
            proc_key = rng.choice(choices or sc.appropriate)
        proc = s.procedures[proc_key]
        at = START + step * i + timedelta(minutes=rng.randint(0, 59))
        number, born, sex = patients.pick(at.date(), sc.ages)
        age = _age(born, at.date())
        row = {
            "order_id": f"ord-{seed}-{i + 1:07d}",
            "ordered_at": at.replace(microsecond=0).isoformat(),
            "patient_id": f"pt-{number:07d}",
            "patient_age": str(age),
            "patient_sex": sex,
            "provider_id": pid,
            "department": dep,
            "procedure_code": proc.code,
            "procedure_display": proc.display,
            "reason_codes": ";".join(rng.choice(sc.icd10)),
            "indication": _indication(rng, s, sc, age, sex),
        }
        if i in bad_at:
            row = _malformed(row, bad_at[i])
        rows.append(row)
    return rows


FORMATS = ("csv", "parquet", "ndjson")
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
PROCEDURE_SYSTEM = "urn:workup:demo:procedure"  # the demo's own order codes (RAD1001 …)


def write_order_log(rows: list[dict[str, str]], out: Path, format: str | None = None) -> None:
    """Write rows as CSV, Parquet (all columns text) or FHIR Bulk NDJSON.

    ``format`` defaults to the name: Parquet when it ends in ``.parquet``, NDJSON when it ends
    in ``.ndjson``, else CSV. NDJSON goes to one file when ``out`` ends in ``.ndjson`` (the
    Patients, then the ServiceRequests), else to a directory of ``Patient.ndjson`` and
    ``ServiceRequest.ndjson`` as Bulk ``$export`` writes them (see :func:`bulk_resources`).

    Raises:
        IntakeError: an unknown format (IN260), or the output cannot be written (IN261).
    """
    from workup.audit.io import is_parquet, write_table

    named = "ndjson" if out.name.lower().endswith(".ndjson") else "parquet" if is_parquet(out) else "csv"
    format = format or named
    if format not in FORMATS:
        raise IntakeError(f"--format must be one of {', '.join(FORMATS)}", code="IN260")
    directory = format == "ndjson" and named == "csv" and out.suffix.lower() != ".csv"  # NDJSON into a directory
    if format != named and not directory:
        raise IntakeError(f"{out}: a {format} log needs a name the audit reads as {format} "
                          f"(.csv, .parquet, .ndjson or a directory)", code="IN260")
    try:
        if format == "ndjson":
            _write_ndjson(rows, out)
        else:
            write_table({c: [r[c] for r in rows] for c in COLUMNS}, out)
    except OSError as e:
        raise IntakeError(f"cannot write {out}: {e.strerror}", code="IN261") from None


def _births(rows: list[dict[str, str]]) -> dict[str, tuple[int, str]]:
    """Each patient id whose rows agree on one sex and one birth date: its latest such birth date (ordinal) and sex.

    A row with no number for an age or no date says nothing; a patient whose rows cannot
    all hold (ages no one birth date gives, two sexes) is left out.
    """
    spans: dict[str, tuple[int, int, str]] = {}
    broken: set[str] = set()
    for r in rows:
        pid = r["patient_id"]
        try:
            on = datetime.fromisoformat(r["ordered_at"]).date()
        except ValueError:
            continue
        if not r["patient_age"].isdigit():
            continue
        age = int(r["patient_age"])
        lo, hi = _born_between(on, (age, age))
        if pid in spans:
            lo0, hi0, sex0 = spans[pid]
            lo, hi = max(lo, lo0), min(hi, hi0)
            if lo > hi or sex0 != r["patient_sex"]:
                broken.add(pid)
        spans[pid] = (lo, hi, r["patient_sex"])
    return {pid: (hi, sex) for pid, (lo, hi, sex) in spans.items() if pid not in broken}


def bulk_resources(rows: list[dict[str, str]]) -> tuple[list[dict], list[dict]]:
    """The rows as FHIR R4 Patient and ServiceRequest resources.

    One Patient per patient id, ``<patient_id>``, when its rows agree on a sex and on a birth
    date that gives each row's age on its order date (the demo's patients do): born on the
    latest such date, gender the rows' sex. A row that does not agree (an age that is not a
    number, or a log whose ages or sexes contradict themselves) has its own Patient,
    ``<patient_id>.<order number>``, born so that its age on the order date is the row's age.
    The order is ``ServiceRequest/<order_id>``: ``code`` the procedure, ``reasonCode`` the
    ICD-10-CM codes, ``note`` the indication, ``authoredOn`` the order time in UTC,
    ``requester`` ``Practitioner/<provider_id>``, the department as the
    :data:`workup.audit.bulk.DEPARTMENT_URL` extension. Patients come in the order of their
    first order. The malformed rows stay malformed: a bad date is an invalid ``authoredOn``, an
    age that is not a number a birth date after the order.
    """
    from workup.audit.bulk import DEPARTMENT_URL

    births = _births(rows)
    patients, orders = [], []
    written: set[str] = set()
    for i, r in enumerate(rows):
        try:
            on = datetime.fromisoformat(r["ordered_at"]).date()
            at = r["ordered_at"] + "Z"
        except ValueError:
            on, at = START.date(), r["ordered_at"]
        shared = births.get(r["patient_id"]) if r["patient_age"].isdigit() or r["patient_age"] == "" else None
        if shared is not None:
            pid, born, sex = r["patient_id"], date.fromordinal(shared[0]), shared[1]
        elif r["patient_age"].isdigit():
            # the last birthday on or before `on`, then up to 364 days earlier: the same age on the order date
            pid, sex = f"{r['patient_id']}.{i + 1}", r["patient_sex"]
            born = _years_before(on, int(r["patient_age"])) - timedelta(days=(i * 7919) % 365)
        else:
            # an age that is no number: a patient born after the order
            pid, born, sex = f"{r['patient_id']}.{i + 1}", on + timedelta(days=365), r["patient_sex"]
        if pid not in written:
            written.add(pid)
            patients.append({"resourceType": "Patient", "id": pid, "gender": sex, "birthDate": born.isoformat()})
        sr: dict = {"resourceType": "ServiceRequest"}
        if r["order_id"]:
            sr["id"] = r["order_id"]
        if r["department"]:
            sr["extension"] = [{"url": DEPARTMENT_URL, "valueString": r["department"]}]
        sr |= {"status": "active", "intent": "order"}
        if r["procedure_code"] or r["procedure_display"]:  # FHIR has no empty strings: absent, not ""
            coding = {"system": PROCEDURE_SYSTEM, "code": r["procedure_code"], "display": r["procedure_display"]}
            sr["code"] = {"coding": [{k: v for k, v in coding.items() if v}]}
            if r["procedure_display"]:
                sr["code"]["text"] = r["procedure_display"]
        sr["subject"] = {"reference": f"Patient/{pid}"}
        sr["authoredOn"] = at
        if r["provider_id"]:
            sr["requester"] = {"reference": f"Practitioner/{r['provider_id']}"}
        codes = [c for c in r["reason_codes"].split(";") if c]
        if codes:
            sr["reasonCode"] = [{"coding": [{"system": ICD10_CM, "code": c}]} for c in codes]
        if r["indication"]:
            sr["note"] = [{"text": r["indication"]}]
        orders.append(sr)
    return patients, orders


def _write_ndjson(rows: list[dict[str, str]], out: Path) -> None:
    import orjson

    patients, orders = bulk_resources(rows)

    def lines(resources: list[dict]) -> bytes:
        return b"".join(orjson.dumps(r) + b"\n" for r in resources)

    if out.name.lower().endswith(".ndjson"):
        out.write_bytes(lines(patients) + lines(orders))
    else:
        out.mkdir(parents=True, exist_ok=True)
        (out / "Patient.ndjson").write_bytes(lines(patients))
        (out / "ServiceRequest.ndjson").write_bytes(lines(orders))
