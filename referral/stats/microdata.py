"""Victim-level microdata: one row per consenting case, k-anonymous on its quasi-identifiers.

Column names follow IOM's HTCDS and the CTDC data set (gender, ageBroad, citizenship,
isSexualExploit, meansOfControl..., yearOfRegistration). Generalization happens in SQL
(age to CTDC's bands, state to region, nationality to world region, intersex to Unknown);
a first pass counts the quasi-identifier classes with GROUP BY, a second streams the rows
(server-side cursor) and leaves out every row of a class smaller than k. Both passes run
in one read transaction, so they see the same data.

Never exported, in any format: notes, case codes, screener identity, exact dates,
municipality, free text. Only cases with consent to statistical use are included.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import Select, case, exists, func, select, true
from sqlmodel import Session, col

from referral.casework.models import Case, Screening, ScreeningForm
from referral.rules.errors import N_
from referral.stats.operations import Scope, year_bounds
from referral.stats.regions import Regions

DEFAULT_K = 11  # CTDC publishes victim-level data only after k-anonymity with k = 11
STATUSES = ("likely", "possible")
# CTDC's ageBroad bands (upper bounds, inclusive), then "48+".
AGE_BANDS = ((8, "0--8"), (17, "9--17"), (20, "18--20"), (23, "21--23"), (26, "24--26"),
             (29, "27--29"), (38, "30--38"), (47, "39--47"))  # fmt: skip
AGE_OLDEST = "48+"
UNKNOWN = "Unknown"
# Coarser levels, tried in turn when the finer ones would suppress too many records.
COARSER_AGE = {
    "0--8": "0--17",
    "9--17": "0--17",
    "18--20": "18--29",
    "21--23": "18--29",
    "24--26": "18--29",
    "27--29": "18--29",
    "30--38": "30--47",
    "39--47": "30--47",
}
MAX_SUPPRESSED_SHARE = 0.05  # prefer the least generalization that suppresses at most this

QUASI_IDENTIFIERS = (
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "majorityStatus",
    "citizenship",
    "region",
)

# Forms of exploitation (CONTRACT 3.6) as CTDC's flags; rare forms are pooled as "other".
EXPLOITATION_FLAGS: dict[str, tuple[str, ...]] = {
    "isSexualExploit": ("sexual_exploitation",),
    "isForcedLabour": ("forced_labor",),
    "isForcedMarriage": ("forced_marriage",),
    "isOtherExploit": ("forced_begging", "forced_criminality", "illegal_adoption"),
    "isNotSpecifiedExploit": ("unspecified",),
}
EXPLOITATION_NAMES = {
    "isSexualExploit": "Sexual exploitation",
    "isForcedLabour": "Forced labour",
    "isForcedMarriage": "Forced marriage",
    "isOtherExploit": "Other",
    "isNotSpecifiedExploit": "Not specified",
}
# Indicators (CONTRACT 3.1) behind each of CTDC's means-of-control flags.
MEANS_OF_CONTROL: dict[str, tuple[str, ...]] = {
    "meansOfControlDebtBondage": (
        "debt_bondage",
        "debt_at_recruitment",
        "ransom_or_smuggling_debt",
    ),
    "meansOfControlTakesEarnings": ("wages_withheld",),
    "meansOfControlThreats": ("threats", "recruitment_violence_threats", "sextortion_images"),
    "meansOfControlPhysicalAbuse": ("violence",),
    "meansOfControlPsychologicalAbuse": ("isolation", "dependency_on_exploiter"),
    "meansOfControlFalsePromises": ("deceived_job_nature", "deceived_conditions", "false_romance"),
    "meansOfControlPsychoactiveSubstances": ("substance_coercion",),
    "meansOfControlRestrictsMovement": ("movement_restricted",),
    "meansOfControlExcessiveWorkingHours": ("excessive_hours",),
    "meansOfControlThreatOfLawEnforcement": ("threat_of_authorities",),
    "meansOfControlWithholdsDocuments": ("documents_withheld",),
}
# Recruitment: any indicator of that dimension present (CONTRACT 3.1).
RECRUITMENT: dict[str, str] = {
    "recruitmentDeceptive": "deceptive_recruitment",
    "recruitmentCoercive": "coercive_recruitment",
    "recruitmentAbuseOfVulnerability": "vulnerability_recruitment",
}
ABDUCTION = ("abducted_or_forcibly_recruited",)

COLUMNS: tuple[str, ...] = (
    *QUASI_IDENTIFIERS,
    "screeningStatus",
    *EXPLOITATION_FLAGS,
    "typeOfExploitConcatenated",
    *MEANS_OF_CONTROL,
    "meansOfControlNotSpecified",
    "isAbduction",
    *RECRUITMENT,
)


@dataclass
class MicrodataReport:
    """What an export did: how many records, generalized, suppressed, in how many classes."""

    k: int
    records: int = 0  # consenting cases likely or possible, in scope
    generalized: int = 0  # records with at least one value coarsened
    generalized_by_column: dict[str, int] = field(default_factory=dict)
    suppressed: int = 0  # records left out: their class had fewer than k
    classes: int = 0
    suppressed_classes: int = 0
    generalization: dict[str, str] = field(default_factory=dict)

    @property
    def published(self) -> int:
        return self.records - self.suppressed

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "quasi_identifiers": list(QUASI_IDENTIFIERS),
            "records": self.records,
            "published": self.published,
            "generalized": self.generalized,
            "generalized_by_column": self.generalized_by_column,
            "suppressed": self.suppressed,
            "classes": self.classes,
            "suppressed_classes": self.suppressed_classes,
            "generalization": self.generalization,
        }


def _in_regions(column: Any, groups: list[tuple[str, tuple[str, ...]]]) -> Any:
    return case(*((column.in_(members), code) for code, members in groups), else_="unknown")


def _year_case(session: Session, base: Select) -> Any:
    """yearOfRegistration: the Mexico City year of the first screening, as a SQL CASE."""
    bounds = base.with_only_columns(
        func.min(col(Case.first_screened_at)), func.max(col(Case.first_screened_at))
    ).order_by(None)
    low, high = session.execute(bounds).one()
    if low is None or high is None:
        return case((true(), 0))
    first = low.year - 1  # a UTC instant's Mexico City year is the same or one less
    last = high.year + 1
    whens = [
        (col(Case.first_screened_at) < year_bounds(year)[1], year)
        for year in range(first, last + 1)
    ]
    return case(*whens, else_=last + 1)


def _base(scope: Scope) -> Select:
    query = (
        select(col(Case.id))
        .select_from(Case)
        .join(Screening, col(Screening.id) == col(Case.latest_screening_id))
        .where(col(Case.latest_status).in_(STATUSES), col(Case.consent_statistics) == true())
    )
    if scope.states is not None:
        query = query.where(col(Case.state).in_(scope.states))
    return query


def _form_flag(forms: tuple[str, ...]) -> Any:
    return case(
        (
            exists().where(
                col(ScreeningForm.screening_id) == col(Screening.id),
                col(ScreeningForm.form).in_(forms),
            ),
            1,
        ),
        else_=0,
    )


class MicrodataExport:
    """Run inside one read transaction: ``prepare()`` (pass 1), then iterate ``rows()``."""

    def __init__(
        self,
        session: Session,
        regions: Regions,
        dimensions: dict[str, str],
        scope: Scope,
        k: int = DEFAULT_K,
    ) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.session = session
        self.regions = regions
        self.dimensions = dimensions  # indicator code -> dimension code
        self.scope = scope
        self.report = MicrodataReport(k=k)
        self._kept: set[tuple[Any, ...]] = set()
        self.level: tuple[int, int, int] = (0, 0, 0)
        self._subquery: Any = None

    def _quasi_identifiers(self) -> list[Any]:
        sex, age = col(Screening.sex), col(Screening.age)
        bands = [(age <= upper, label) for upper, label in AGE_BANDS]
        states = [(r.code, r.members) for r in self.regions.states.regions]
        nations = [(r.code, r.members) for r in self.regions.nationalities.regions]
        return [
            _year_case(self.session, _base(self.scope)).label("yearOfRegistration"),
            case((sex == "female", "Female"), (sex == "male", "Male"), else_=UNKNOWN).label(
                "gender"
            ),
            case((age.is_(None), UNKNOWN), *bands, else_=AGE_OLDEST).label("ageBroad"),
            case((col(Screening.minor) == true(), "Minor"), else_="Adult").label("majorityStatus"),
            _in_regions(col(Screening.nationality), nations).label("citizenship"),
            _in_regions(col(Screening.state), states).label("region"),
        ]

    def prepare(self) -> MicrodataReport:
        """Pass 1: count the records, what generalization changed, and the class sizes."""
        base = _base(self.scope)
        sex, age = col(Screening.sex), col(Screening.age)
        # A nationality alone in its region (Mexico, unknown) is not coarsened.
        singletons = [
            r.members[0] for r in self.regions.nationalities.regions if len(r.members) == 1
        ]
        counted = {
            "ageBroad": case((age.is_not(None), 1), else_=0),
            "gender": case((sex == "intersex", 1), else_=0),
            "citizenship": case((col(Screening.nationality).notin_(singletons), 1), else_=0),
            "region": case((col(Screening.state) != "unknown", 1), else_=0),
        }
        any_changed = case(
            (
                (age.is_not(None))
                | (sex == "intersex")
                | (col(Screening.nationality).notin_(singletons))
                | (col(Screening.state) != "unknown"),
                1,
            ),
            else_=0,
        )
        totals = self.session.execute(
            base.with_only_columns(
                func.count(),
                func.coalesce(func.sum(any_changed), 0),
                *(func.coalesce(func.sum(expr), 0) for expr in counted.values()),
            )
        ).one()
        self.report.records = int(totals[0])
        self.report.generalized = int(totals[1])
        self.report.generalized_by_column = {
            name: int(value) for name, value in zip(counted, totals[2:], strict=True)
        }

        flags = [_form_flag(forms).label(name) for name, forms in EXPLOITATION_FLAGS.items()]
        self._subquery = base.add_columns(
            *self._quasi_identifiers(),
            col(Screening.status).label("screeningStatus"),
            col(Screening.record).label("record"),
            *flags,
        ).subquery("microdata")
        keys = [self._subquery.c[name] for name in QUASI_IDENTIFIERS]
        fine = [
            (tuple(row[:-1]), int(row[-1]))
            for row in self.session.execute(select(*keys, func.count()).group_by(*keys)).all()
        ]
        self.level, sizes = choose_level(fine, self.report.k, self.report.records)
        self.report.generalization = describe_level(self.level)
        for quasi, size in sizes.items():
            self.report.classes += 1
            if size >= self.report.k:
                self._kept.add(quasi)
            else:
                self.report.suppressed += size
                self.report.suppressed_classes += 1
        return self.report

    def rows(self, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
        """Pass 2: the published rows, in COLUMNS order, streamed in batches."""
        if self._subquery is None:
            self.prepare()
        sub = self._subquery
        keys = [sub.c[name] for name in QUASI_IDENTIFIERS]
        flags = [sub.c[f] for f in EXPLOITATION_FLAGS]
        query = (
            select(*keys, sub.c.screeningStatus, sub.c.record, *flags)
            .order_by(*keys, sub.c.id)
            .execution_options(yield_per=batch)
        )
        width = len(QUASI_IDENTIFIERS)
        for row in self.session.execute(query):
            values = tuple(row)
            quasi = generalize(values[:width], self.level)
            if quasi not in self._kept:
                continue
            yield self._row(quasi, values[width:])

    def _row(self, quasi: tuple[Any, ...], rest: tuple[Any, ...]) -> tuple[Any, ...]:
        status, record = rest[0], rest[1]
        if isinstance(record, str):  # a driver that hands JSON back as text
            record = json.loads(record)
        flags = [int(v) for v in rest[2:]]
        names = [EXPLOITATION_NAMES[n] for n, v in zip(EXPLOITATION_FLAGS, flags, strict=True) if v]
        indicators = set(record.get("indicators") or ())
        means = [1 if indicators.intersection(codes) else 0 for codes in MEANS_OF_CONTROL.values()]
        present_dimensions = {self.dimensions.get(code) for code in indicators}
        recruitment = [1 if dim in present_dimensions else 0 for dim in RECRUITMENT.values()]
        return (
            *quasi,
            status,
            *flags,
            ";".join(names),
            *means,
            0 if any(means) else 1,
            1 if indicators.intersection(ABDUCTION) else 0,
            *recruitment,
        )


# --- generalization levels --------------------------------------------------------------

# (age, citizenship, region): 0 keeps the first generalization, 1 coarsens once more.
LEVELS: tuple[tuple[int, int, int], ...] = tuple(
    sorted(
        ((a, c, r) for a in (0, 1) for c in (0, 1) for r in (0, 1)),
        key=lambda level: (sum(level), level),
    )
)


def generalize(quasi: tuple[Any, ...], level: tuple[int, int, int]) -> tuple[Any, ...]:
    year, gender, age, majority, citizenship, region = quasi
    if level[0]:
        age = COARSER_AGE.get(age, age)
    if level[1] and citizenship not in ("mexico", "unknown"):
        citizenship = "foreign"
    if level[2]:
        region = "all"
    return (int(year), gender, age, majority, citizenship, region)


def choose_level(
    fine: list[tuple[tuple[Any, ...], int]], k: int, records: int
) -> tuple[tuple[int, int, int], dict[tuple[Any, ...], int]]:
    """The least generalization that suppresses at most MAX_SUPPRESSED_SHARE of the records
    (or, when none does, the one that suppresses fewest), with its class sizes.

    Rolls the classes counted in SQL up in Python: classes, not rows.
    """
    best: tuple[int, tuple[int, int, int], dict[tuple[Any, ...], int]] | None = None
    for level in LEVELS:
        sizes: dict[tuple[Any, ...], int] = {}
        for quasi, size in fine:
            key = generalize(quasi, level)
            sizes[key] = sizes.get(key, 0) + size
        suppressed = sum(size for size in sizes.values() if size < k)
        if suppressed <= MAX_SUPPRESSED_SHARE * records:
            return level, sizes
        if best is None or suppressed < best[0]:
            best = (suppressed, level, sizes)
    assert best is not None
    return best[1], best[2]


def describe_level(level: tuple[int, int, int]) -> dict[str, str]:
    return {
        "ageBroad": "broad_bands" if level[0] else "ctdc_bands",
        "citizenship": "mexican_or_foreign" if level[1] else "world_region",
        "region": "country" if level[2] else "region_of_mexico",
    }


# --- writers ---------------------------------------------------------------------------


def write_csv(out: IO[str], rows: Iterator[tuple[Any, ...]], tick: Callable[[], None]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
        tick()
    return count


def write_json(
    out: IO[str],
    rows: Iterator[tuple[Any, ...]],
    report: MicrodataReport,
    tick: Callable[[], None],
    consent_note: str,
) -> int:
    """``{"disclosure": {...}, "records": [...]}``, one record a line, written as it streams."""
    head = {"disclosure": {**report.as_dict(), "consent": consent_note}, "columns": list(COLUMNS)}
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "records": [')
    count = 0
    for row in rows:
        out.write(
            ("\n" if count == 0 else ",\n")
            + json.dumps(dict(zip(COLUMNS, row, strict=True)), ensure_ascii=False)
        )
        count += 1
        tick()
    out.write("\n]}\n")
    return count


# --- the data dictionary ----------------------------------------------------------------

FLAG = N_("1 = yes, 0 = no")
DESCRIPTIONS: dict[str, str] = {
    "yearOfRegistration": N_(
        "Year of the person's first screening, in Mexico City time. Never an exact date."
    ),
    "gender": N_(
        "Female, Male, or Unknown (sex not known, or intersex: pooled to protect the few)."
    ),
    "ageBroad": N_(
        "Age band at the latest screening (CTDC bands, or the broader bands in brackets when "
        "the finer ones would leave too many people in groups smaller than k); Unknown when "
        "the age is not known."
    ),
    "majorityStatus": N_(
        "Minor or Adult. A person whose age is unknown and who is not clearly an adult is "
        "presumed a minor (LGPSEDMTP Art. 3 X)."
    ),
    "citizenship": N_(
        "World region of the person's nationality (UN M49; Mexico on its own), or only "
        '"foreign" when regions would leave too many people in groups smaller than k.'
    ),
    "region": N_(
        'Region of Mexico where the person is (Banco de México\'s four regions), or "all" '
        "when regions would leave too many people in groups smaller than k."
    ),
    "screeningStatus": N_("likely or possible: the status of the latest screening."),
    "typeOfExploitConcatenated": N_("The forms of exploitation above, joined with semicolons."),
    "meansOfControlNotSpecified": N_("1 when none of the means of control above was recorded."),
    "isAbduction": N_("1 when the person was abducted or forcibly recruited."),
}
FORM_FLAG = N_("1 when the forms of exploitation include: %(forms)s.")
INDICATOR_FLAG = N_("1 when the screening recorded any of: %(indicators)s.")
RECRUITMENT_FLAG = N_("1 when the screening recorded an indicator of: %(dimension)s.")
VALUES = {
    "yearOfRegistration": "YYYY",
    "gender": "Female | Male | Unknown",
    "ageBroad": " | ".join([label for _upper, label in AGE_BANDS] + [AGE_OLDEST, UNKNOWN])
    + " ("
    + " | ".join(sorted(set(COARSER_AGE.values())))
    + ")",
    "majorityStatus": "Minor | Adult",
    "screeningStatus": "likely | possible",
}
DICTIONARY_HEADER = (N_("column"), N_("values"), N_("description"), N_("quasi-identifier"))


def data_dictionary(
    gettext: Callable[[str], str], label: Callable[[str, str], str], regions: Regions, lang: str
) -> list[tuple[str, str, str, str]]:
    """One row per column: name, values, description (in the reader's language), QI or not.

    ``label(list_name, code)`` gives a code's label in the reader's language.
    """
    values = dict(VALUES)
    values["citizenship"] = " | ".join(regions.nationalities.codes()) + " (foreign)"
    values["region"] = " | ".join(regions.states.codes()) + " (all)"
    yes, no = gettext("yes"), gettext("no")
    rows = []
    for column in COLUMNS:
        if column in EXPLOITATION_FLAGS:
            forms = ", ".join(label("forms", f) for f in EXPLOITATION_FLAGS[column])
            text = gettext(FORM_FLAG) % {"forms": forms}
        elif column in MEANS_OF_CONTROL:
            names = ", ".join(label("indicators", i) for i in MEANS_OF_CONTROL[column])
            text = gettext(INDICATOR_FLAG) % {"indicators": names}
        elif column in RECRUITMENT:
            text = gettext(RECRUITMENT_FLAG) % {
                "dimension": label("dimensions", RECRUITMENT[column])
            }
        else:
            text = gettext(DESCRIPTIONS[column])
        if column in ("citizenship", "region"):
            grouping = regions.nationalities if column == "citizenship" else regions.states
            text += " " + "; ".join(
                f"{r.code} = {r.label.get(lang) or r.label['es']}" for r in grouping.regions
            )
        shown = values.get(column) or gettext(FLAG)
        if column == "typeOfExploitConcatenated":
            shown = " ; ".join(EXPLOITATION_NAMES.values())
        rows.append((column, shown, text, yes if column in QUASI_IDENTIFIERS else no))
    return rows


def write_dictionary(
    out: IO[str], gettext: Callable[[str], str], rows: list[tuple[str, str, str, str]]
) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([gettext(h) for h in DICTIONARY_HEADER])
    writer.writerows(rows)
