"""Victim-level microdata: one row per consenting case, k-anonymous on its quasi-identifiers.

Column names follow IOM's HTCDS and the CTDC data set (gender, ageBroad, citizenship,
isSexualExploit, meansOfControl..., yearOfRegistration). Generalization happens in SQL
(age to CTDC's bands, state to region, nationality to world region, intersex to Unknown);
a first pass counts the quasi-identifier classes and their forms of exploitation with
GROUP BY, a second streams the rows (server-side cursor) and leaves out every row of a class
smaller than k or with fewer than l distinct forms of exploitation (l-diversity). Both passes
run in one read transaction, so they see the same data.

Rows are written sorted by their written values, column by column, and by nothing else: an
order that followed values before generalization (or the case's id) would split a published
class into runs that give the hidden values away (issue 15).

Never exported, in any format: notes, case codes, screener identity, exact dates,
municipality, free text. Only cases with consent to statistical use are included.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import Select, and_, case, exists, func, select, true
from sqlmodel import Session, col

from referral.casework.models import Case, Screening, ScreeningForm
from referral.rules.contract import INDICATED_STATUSES
from referral.rules.errors import N_
from referral.stats.operations import Scope, year_bounds
from referral.stats.regions import Regions

DEFAULT_K = 11  # CTDC publishes victim-level data only after k-anonymity with k = 11
# Every published class holds at least this many distinct forms of exploitation, so knowing
# someone is in a class never tells how they were exploited (issue 15).
DEFAULT_L = 2
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
    l: int = DEFAULT_L  # noqa: E741  (the letter of l-diversity)
    records: int = 0  # consenting cases likely or possible, in scope
    generalized: int = 0  # records with at least one value coarsened
    generalized_by_column: dict[str, int] = field(default_factory=dict)
    suppressed: int = 0  # records left out: their class had fewer than k, or than l forms
    suppressed_for_l: int = 0  # of those, records of classes of k or more but too few forms
    classes: int = 0
    suppressed_classes: int = 0
    generalization: dict[str, str] = field(default_factory=dict)

    @property
    def published(self) -> int:
        return self.records - self.suppressed

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "l": self.l,
            "l_diverse_on": "typeOfExploitConcatenated",
            "quasi_identifiers": list(QUASI_IDENTIFIERS),
            "records": self.records,
            "published": self.published,
            "generalized": self.generalized,
            "generalized_by_column": self.generalized_by_column,
            "suppressed": self.suppressed,
            "suppressed_for_l": self.suppressed_for_l,
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


def _base(scope: Scope, year: int | None = None) -> Select:
    query = (
        select(col(Case.id))
        .select_from(Case)
        .join(Screening, col(Screening.id) == col(Case.latest_screening_id))
        .where(
            col(Case.latest_status).in_(INDICATED_STATUSES), col(Case.consent_statistics) == true()
        )
    )
    if scope.states is not None:
        query = query.where(col(Case.state).in_(scope.states))
    if year is not None:  # one year of data (the synthetic microdata's privacy ledger)
        start, end = year_bounds(year)
        query = query.where(col(Case.first_screened_at) >= start, col(Case.first_screened_at) < end)
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
        dimensions: Mapping[str, str],
        scope: Scope,
        k: int = DEFAULT_K,
        l: int = DEFAULT_L,  # noqa: E741
        year: int | None = None,
    ) -> None:
        if k < 1 or l < 1:
            raise ValueError("k and l must be at least 1")
        self.session = session
        self.regions = regions
        self.dimensions = dimensions  # indicator code -> dimension code
        self.scope = scope
        self.report = MicrodataReport(k=k, l=l)
        self.year = year
        self._kept: set[tuple[Any, ...]] = set()
        self.level: tuple[int, int, int] = (0, 0, 0)
        self._subquery: Any = None

    def _quasi_identifiers(self) -> list[Any]:
        sex, age = col(Screening.sex), col(Screening.age)
        bands = [(age <= upper, label) for upper, label in AGE_BANDS]
        states = [(r.code, r.members) for r in self.regions.states.regions]
        nations = [(r.code, r.members) for r in self.regions.nationalities.regions]
        return [
            _year_case(self.session, _base(self.scope, self.year)).label("yearOfRegistration"),
            case((sex == "female", "Female"), (sex == "male", "Male"), else_=UNKNOWN).label(
                "gender"
            ),
            case((age.is_(None), UNKNOWN), *bands, else_=AGE_OLDEST).label("ageBroad"),
            # CONTRACT 7: a presumed minor of unknown age is published as Unknown.
            case(
                (and_(col(Screening.minor) == true(), age.is_(None)), UNKNOWN),
                (col(Screening.minor) == true(), "Minor"),
                else_="Adult",
            ).label("majorityStatus"),
            _in_regions(col(Screening.nationality), nations).label("citizenship"),
            _in_regions(col(Screening.state), states).label("region"),
        ]

    def prepare(self) -> MicrodataReport:
        """Pass 1: count the records, what generalization changed, and the class sizes."""
        base = _base(self.scope, self.year)
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
        forms = [self._subquery.c[name] for name in EXPLOITATION_FLAGS]
        width = len(QUASI_IDENTIFIERS)
        fine = [
            (tuple(row[:width]), tuple(int(v) for v in row[width:-1]), int(row[-1]))
            for row in self.session.execute(
                select(*keys, *forms, func.count()).group_by(*keys, *forms)
            ).all()
        ]
        report = self.report
        self.level, classes = choose_level(fine, report.k, report.l, report.records)
        report.generalization = describe_level(self.level)
        for quasi, (size, signatures) in classes.items():
            report.classes += 1
            if size >= report.k and len(signatures) >= report.l:
                self._kept.add(quasi)
            else:
                report.suppressed += size
                report.suppressed_classes += 1
                if size >= report.k:
                    report.suppressed_for_l += size
        return report

    def every_row(self, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
        """Every record's row at CTDC's values, nothing generalized further or suppressed,
        in no meaningful order: only for counting (the synthetic microdata's marginals),
        never to be written out."""
        if self._subquery is None:
            self.prepare()
        sub = self._subquery
        keys = [sub.c[name] for name in QUASI_IDENTIFIERS]
        flags = [sub.c[f] for f in EXPLOITATION_FLAGS]
        query = select(*keys, sub.c.screeningStatus, sub.c.record, *flags).execution_options(
            yield_per=batch
        )
        width = len(QUASI_IDENTIFIERS)
        for row in self.session.execute(query):
            values = tuple(row)
            yield self._row(generalize(values[:width], (0, 0, 0)), values[width:])

    def rows(self, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
        """Pass 2: the published rows, in COLUMNS order, sorted by their written values.

        Rows are read in batches and counted as distinct rows (a published row is one of
        few combinations of coded values), so memory grows with the distinct rows, not
        with the records; then each is given as many times as it occurs.
        """
        if self._subquery is None:
            self.prepare()
        sub = self._subquery
        keys = [sub.c[name] for name in QUASI_IDENTIFIERS]
        flags = [sub.c[f] for f in EXPLOITATION_FLAGS]
        query = select(*keys, sub.c.screeningStatus, sub.c.record, *flags).execution_options(
            yield_per=batch
        )
        width = len(QUASI_IDENTIFIERS)
        counts: dict[str, int] = {}  # a row as its sort key: one compact string
        for row in self.session.execute(query):
            values = tuple(row)
            quasi = generalize(values[:width], self.level)
            if quasi not in self._kept:
                continue
            key = sort_key(self._row(quasi, values[width:]))
            counts[key] = counts.get(key, 0) + 1
        for key in sorted(counts):
            published = from_sort_key(key)
            for _ in range(counts[key]):
                yield published

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


def written(row: tuple[Any, ...]) -> tuple[str, ...]:
    """A row as its values are written (the order of the export): text, column by column."""
    return tuple(str(value) for value in row)


def sort_key(row: tuple[Any, ...]) -> str:
    """The written values joined by a character below any in them: the same order as
    comparing them column by column, in one compact string (memory at a million rows)."""
    return "\x00".join(written(row))


TEXT_COLUMNS = frozenset((*QUASI_IDENTIFIERS[1:], "screeningStatus", "typeOfExploitConcatenated"))


def from_sort_key(key: str) -> tuple[Any, ...]:
    """The row back from its sort key (numbers as numbers, for JSON)."""
    return tuple(
        value if name in TEXT_COLUMNS else int(value)
        for name, value in zip(COLUMNS, key.split("\x00"), strict=True)
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


Classes = dict[tuple[Any, ...], tuple[int, set[tuple[int, ...]]]]


def choose_level(
    fine: list[tuple[tuple[Any, ...], tuple[int, ...], int]],
    k: int,
    l: int,  # noqa: E741
    records: int,
) -> tuple[tuple[int, int, int], Classes]:
    """The least generalization that suppresses at most MAX_SUPPRESSED_SHARE of the records
    (or, when none does, the one that suppresses fewest), with each class's size and its
    distinct forms of exploitation. A class is kept with k records and l distinct forms.

    ``fine`` holds (quasi-identifiers, form flags, count) as counted in SQL; rolled up in
    Python: classes, not rows.
    """
    best: tuple[int, tuple[int, int, int], Classes] | None = None
    for level in LEVELS:
        classes: Classes = {}
        for quasi, signature, size in fine:
            key = generalize(quasi, level)
            total, signatures = classes.get(key, (0, set()))
            signatures.add(signature)
            classes[key] = (total + size, signatures)
        suppressed = sum(
            size for size, signatures in classes.values() if size < k or len(signatures) < l
        )
        if suppressed <= MAX_SUPPRESSED_SHARE * records:
            return level, classes
        if best is None or suppressed < best[0]:
            best = (suppressed, level, classes)
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
        "Minor, Adult or Unknown. A person whose age is unknown is an Adult when clearly an "
        "adult, and Unknown otherwise (presumed a minor for their protection, LGPSEDMTP Art. 3 "
        "X, but not counted as one)."
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
    "majorityStatus": "Minor | Adult | Unknown",
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
