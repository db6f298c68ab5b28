"""Hypothesis properties of routing over generated records and directories (CONTRACT 2.3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_helpers import record_data, service_data

from referral.rules import Catalogue, CodeLists, route_case, validate_record

STATES = ["MX-TLA", "MX-GRO", "MX-CHP"]
NEEDS = ["shelter", "interpretation", "medical", "child_protection"]
SEXES = ["female", "male", "intersex", "unknown"]
LANGS = ["es", "en", "tzo", "spa"]
INDICATORS = [
    "commercial_sex",
    "forced_criminal_activity",
    "violence",
    "threats",
    "deceived_job_nature",
    "deceived_conditions",
    "excessive_hours",
    "isolation",
]
ages = st.one_of(st.none(), st.integers(0, 120))
small_age = st.one_of(st.none(), st.integers(0, 40))

records = st.builds(
    lambda age, adult, sex, nat, state, langs, mig, inds, needs, comps, cf, vs, **kw: record_data(
        age=age,
        clearly_adult=adult,
        sex=sex,
        nationality=nat,
        state=state,
        languages=langs,
        migration_status=mig,
        indicators=inds,
        needs=needs,
        companions=comps,
        complaint_filed=cf,
        victim_status=vs,
        **kw,
    ),
    ages,
    st.booleans(),
    st.sampled_from(SEXES),
    st.sampled_from(["MX", "ZZ", "GT"]),
    st.sampled_from([*STATES, "unknown"]),
    st.lists(st.sampled_from(LANGS), unique=True, max_size=2),
    st.sampled_from(["national", "regular", "irregular", "asylum_seeker", "unknown"]),
    st.lists(st.sampled_from(INDICATORS), unique=True, max_size=4),
    st.lists(st.sampled_from(NEEDS), unique=True, max_size=3),
    st.lists(
        st.fixed_dictionaries({"age": st.integers(0, 17), "sex": st.sampled_from(SEXES)}),
        max_size=2,
    ),
    st.booleans(),
    st.booleans(),
    immediate_danger=st.booleans(),
    sector=st.sampled_from([None, "agriculture", "online"]),
)


@st.composite
def directories(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(0, 12))
    out = []
    for i in range(n):
        lo = draw(small_age)
        hi = draw(small_age)
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        foreign = draw(st.booleans())
        out.append(
            service_data(
                f"svc-{i:02d}",
                need=draw(st.sampled_from(NEEDS)),
                status=draw(st.sampled_from(["active", "active", "inactive", "defunct"])),
                operator="ngo" if not foreign else draw(st.sampled_from(["ngo", "government"])),
                coverage=draw(
                    st.lists(
                        st.sampled_from([*STATES, "national"]), unique=True, min_size=1, max_size=2
                    )
                ),
                min_age=lo,
                max_age=hi,
                sexes=draw(
                    st.lists(
                        st.sampled_from(["female", "male", "intersex"]), unique=True, min_size=1
                    )
                ),
                male_max_age=draw(small_age),
                accepts_foreign=foreign,
                languages=draw(st.lists(st.sampled_from(LANGS), unique=True, max_size=2)),
                capacity_available=draw(st.one_of(st.none(), st.integers(0, 5))),
                requires_complaint=draw(st.booleans()),
                requires_victim_status=draw(st.booleans()),
                accepts_companions=draw(st.booleans()),
                companion_max_age_male=draw(st.one_of(st.none(), st.integers(0, 17))),
                specializations=draw(
                    st.lists(st.sampled_from(["sexual_exploitation", "forced_labor"]), unique=True)
                ),
            )
        )
    return out


def oracle(s: dict[str, Any], r: dict[str, Any]) -> list[str]:
    """CONTRACT 2.3 read literally, row by row, written independently of the core."""
    age, adult = r["age"], r["clearly_adult"]
    minor = age < 18 if age is not None else not adult
    foreign = r["nationality"] not in ("MX", "ZZ") or r["migration_status"] in (
        "regular",
        "irregular",
        "asylum_seeker",
        "refugee",
    )
    out = []
    if s["status"] != "active":
        out.append("inactive")
    if "national" not in s["coverage"] and r["state"] not in s["coverage"]:
        out.append("coverage")
    if age is not None:
        bad_age = (s["min_age"] is not None and age < s["min_age"]) or (
            s["max_age"] is not None and age > s["max_age"]
        )
    elif minor:
        bad_age = s["min_age"] is not None and s["min_age"] >= 18
    else:
        bad_age = s["max_age"] is not None and s["max_age"] < 18
    if bad_age:
        out.append("age")
    sex, mma = r["sex"], s["male_max_age"]
    if sex == "unknown":
        bad_sex = not ({"female", "male", "intersex"} <= set(s["sexes"]) and mma is None)
    else:
        bad_sex = sex not in s["sexes"] or (
            sex == "male"
            and mma is not None
            and ((age is not None and age > mma) or (age is None and adult))
        )
    if bad_sex:
        out.append("sex")
    if foreign and not s["accepts_foreign"]:
        out.append("nationality")
    if s["need"] == "interpretation" and not set(s["languages"]) & set(r["languages"]):
        out.append("language")
    if s["capacity_available"] == 0:
        out.append("capacity")
    if s["requires_complaint"] and not r["complaint_filed"]:
        out.append("complaint_required")
    if s["requires_victim_status"] and not r["victim_status"]:
        out.append("victim_status_required")
    cm = s["companion_max_age_male"]
    if (
        s["need"] == "shelter"
        and r["companions"]
        and (
            not s["accepts_companions"]
            or (
                cm is not None
                and any(c["sex"] == "male" and c["age"] > cm for c in r["companions"])
            )
        )
    ):
        out.append("companions")
    return out


PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY_SETTINGS
@given(record=records, entries=directories())
def test_routing_agrees_with_contract_2_3(
    record: dict[str, Any],
    entries: list[dict[str, Any]],
    codes: CodeLists,
    make_catalogue: Callable[..., Catalogue],
) -> None:
    cat = make_catalogue(*entries)
    rec = validate_record(record, codes)
    result = route_case(rec, cat).to_json()
    by_id = {e["id"]: e for e in entries}
    needs = [n["need"] for n in result["needs"]]
    assert list(result["options"]) == needs == list(result["excluded"])
    gaps = {g["need"]: g["reasons"] for g in result["gaps"]}
    for need in needs:
        of_need = {sid for sid, e in by_id.items() if e["need"] == need}
        options = [o["service"] for o in result["options"][need]]
        excluded = result["excluded"][need]
        # every service of the need is either an option or excluded, never both
        assert set(options) | set(excluded) == of_need
        assert not set(options) & set(excluded)
        for sid in options:
            assert oracle(by_id[sid], record) == []
        for sid, reasons in excluded.items():
            assert reasons == oracle(by_id[sid], record)  # all reasons, none extra, table order
        # a gap exists exactly when a need has no option
        assert (need in gaps) == (not options)
        if need in gaps:
            expected = sorted({r for rs in excluded.values() for r in rs}) or ["none_listed"]
            assert gaps[need] == expected
        assert [o["rank"] for o in result["options"][need]] == list(range(1, len(options) + 1))


@PROPERTY_SETTINGS
@given(record=records, entries=directories())
def test_routing_is_deterministic_and_the_fast_path_agrees(
    record: dict[str, Any],
    entries: list[dict[str, Any]],
    codes: CodeLists,
    make_catalogue: Callable[..., Catalogue],
) -> None:
    rec = validate_record(record, codes)
    cat = make_catalogue(*entries)
    full = route_case(rec, cat)
    assert route_case(rec, cat) == full
    assert route_case(validate_record(record, codes), make_catalogue(*reversed(entries))) == full
    fast = route_case(rec, cat, include_excluded=False)
    assert fast.excluded is None and "excluded" not in fast.to_json()
    assert fast.to_json() == full.to_json(excluded=False)
    spanish, english = full.to_json("es"), full.to_json("en")
    assert english["screening"] == spanish["screening"] and english["gaps"] == spanish["gaps"]
