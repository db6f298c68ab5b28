"""What the case page shows, in the reader's language, built from the stored codes.

A stored result keeps codes (needs, options, gaps, alerts and their conditions); every
text is rendered here at display time. When the rules and the directory are those that
made the result, the record is routed again (same decisions, texts in any language, and
the services excluded only because they are full today); otherwise the stored codes are
shown with today's texts and the page offers to route the same answers again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from referral.casework.models import Referral, Screening
from referral.rules import Catalogue, RecordInvalid, route_case, validate_record
from referral.rules.contract import RECEIVED_STATUSES, ReferralStatus

FIRST_OPTIONS = 3  # options shown before "show all N"

# What each alert asks of the screener (issue 13): act on it now, tell the person the right
# it names, or note it for the file. The urgent group comes first and stands out.
ACT_NOW = "act_now"
TELL_RIGHTS = "tell_rights"
FOR_THE_FILE = "for_the_file"
ALERT_GROUPS: dict[str, str] = {
    "immediate_danger": ACT_NOW,
    "child_protection_notice": ACT_NOW,
    "presumed_minor": ACT_NOW,
    "no_detention": ACT_NOW,
    "non_punishment": ACT_NOW,
    "humanitarian_visa": TELL_RIGHTS,
    "reflection_period": TELL_RIGHTS,
    "non_refoulement": TELL_RIGHTS,
    "voluntary_shelter": TELL_RIGHTS,
    "federal_jurisdiction": FOR_THE_FILE,
    "aggravating_vulnerability": FOR_THE_FILE,
}
GROUP_ORDER = (ACT_NOW, TELL_RIGHTS, FOR_THE_FILE)

# A need's state at a glance, from its referrals and its gap.
ACCEPTED = "accepted"
REFERRED = "referred"
GAP = "gap"
NOT_REFERRED = "not_referred"
WAITING_STATUSES = (ReferralStatus.requested, ReferralStatus.on_hold)


@dataclass(frozen=True)
class ShownAlert:
    code: str
    text: str
    source: str
    group: str
    conditional: bool


@dataclass(frozen=True)
class ShownOption:
    service_id: str
    service: Any  # the rules core's Service, or None when the directory no longer has it
    why: tuple[str, ...]
    confirm: tuple[str, ...]


@dataclass(frozen=True)
class NeedView:
    need: str
    auto: bool
    status: str  # ACCEPTED, REFERRED, GAP or NOT_REFERRED
    options: tuple[ShownOption, ...]
    gap_reasons: tuple[str, ...] | None  # plain sentences, when nothing fits
    full_today: tuple[Any, ...] = ()  # services excluded only because they have no places

    @property
    def first(self) -> tuple[ShownOption, ...]:
        return self.options[:FIRST_OPTIONS]

    @property
    def rest(self) -> tuple[ShownOption, ...]:
        return self.options[FIRST_OPTIONS:]


@dataclass(frozen=True)
class CasePage:
    status: str
    minor: bool
    forms: tuple[str, ...]
    dimensions: dict[str, Any]
    needs: tuple[NeedView, ...]
    alerts: tuple[ShownAlert, ...]
    version_differs: bool  # the rules or the directory are not those that made the result
    rights: tuple[str, ...] = field(default=())  # alert codes that name a right of the person

    def alerts_in(self, group: str) -> tuple[ShownAlert, ...]:
        return tuple(a for a in self.alerts if a.group == group)


def need_status(need: str, referrals: list[Referral], has_gap: bool) -> str:
    statuses = {r.status for r in referrals if r.need == need}
    if statuses & set(RECEIVED_STATUSES):
        return ACCEPTED
    if statuses & set(WAITING_STATUSES):
        return REFERRED
    return GAP if has_gap else NOT_REFERRED


def alert_texts(catalogue: Catalogue, code: str, conditional: bool, lang: str) -> tuple[str, str]:
    source, text, if_foreign_text = catalogue.alerts[code]
    if conditional and if_foreign_text is not None:
        text = if_foreign_text
    return text[lang], source[lang]


def rights_of(catalogue: Catalogue) -> dict[str, dict[str, str]]:
    """Alert code -> the right it names, in plain words for the person (seeds, `right`)."""
    return {
        e.code: e.extra["right"]
        for e in catalogue.seeds.lists["alerts"]
        if e.extra.get("right") is not None
    }


def case_page(
    screening: Screening, catalogue: Catalogue, lang: str, referrals: list[Referral]
) -> CasePage:
    version_differs = screening.rules_version != catalogue.rules_version
    routed = None
    try:
        record = validate_record(screening.record, catalogue.codes)
        routed = route_case(record, catalogue)
    except RecordInvalid:  # answers that no longer fit today's lists: the stored codes only
        record = None
    if routed is not None and not version_differs:
        result = routed.to_json(lang, excluded=False)
    else:
        result = screening.result
    why_readable = not version_differs or screening.lang == lang
    gaps = {g["need"]: g["reasons"] for g in result["gaps"]}
    services = catalogue.services_by_id
    needs = []
    for line in result["needs"]:
        need = line["need"]
        options = tuple(
            ShownOption(
                o["service"],
                services.get(o["service"]),
                tuple(o["why"]) if why_readable else (),
                tuple(o.get("confirm", ())),
            )
            for o in result["options"].get(need, [])
        )
        full_today: tuple[Any, ...] = ()
        if routed is not None and routed.excluded is not None:
            full_today = tuple(
                services[sid]
                for sid, reasons in routed.excluded.get(need, {}).items()
                if tuple(reasons) == ("capacity",) and sid in services
            )
        reasons = gaps.get(need)
        needs.append(
            NeedView(
                need=need,
                auto=line["auto"],
                status=need_status(need, referrals, reasons is not None),
                options=options,
                gap_reasons=tuple(
                    catalogue.gap_sentences(need, reasons, lang, screening.record["state"])
                )
                if reasons is not None
                else None,
                full_today=full_today,
            )
        )
    alerts = []
    for raised in result["alerts"]:
        code = raised["code"]
        conditional = raised.get("condition") is not None
        text, source = alert_texts(catalogue, code, conditional, lang)
        alerts.append(ShownAlert(code, text, source, ALERT_GROUPS.get(code, ACT_NOW), conditional))
    order = {group: i for i, group in enumerate(GROUP_ORDER)}
    alerts.sort(key=lambda a: order[a.group])  # stable: the contract's order within a group
    rights = rights_of(catalogue)
    screening_result = result["screening"]
    return CasePage(
        status=screening_result["status"],
        minor=screening_result["minor"],
        forms=tuple(screening_result["forms"]),
        dimensions=screening_result["dimensions"],
        needs=tuple(needs),
        alerts=tuple(alerts),
        version_differs=version_differs,
        rights=tuple(a.code for a in alerts if a.code in rights),
    )


def rights_sheet(
    screening: Screening, catalogue: Catalogue, lang: str
) -> tuple[tuple[str, str], ...]:
    """The rights the case's alerts name, as (alert code, plain sentence) in ``lang``."""
    rights = rights_of(catalogue)
    codes = [a["code"] for a in screening.result["alerts"]]
    return tuple((code, rights[code][lang]) for code in codes if code in rights)
