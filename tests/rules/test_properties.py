"""Hypothesis properties of routing over generated records and directories (CONTRACT 2.3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_helpers import record_data, service_data

from referral.rules import Catalogue, CodeLists, route_case, validate_record

STATES = ["MX-TLA", "MX-GRO", "MX-CHP"]
NEEDS = ["shelter", "interpretation", "medical", "child_protection"]
SEXES = ["female", "male", "intersex", "unknown"]
LANGS = ["es", "en", "tzo", "spa", "eng", "fr", "fre", "fra", "nah"]
# What the ISO 639 table says of the codes above (written out, independently of the core).
SAME = {"es": "spa", "en": "eng", "fr": "fra", "fre": "fra"}
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
                tags=draw(
                    st.lists(
                        st.sampled_from(["trafficking_specialized", "country_of_origin"]),
                        unique=True,
                    )
                ),
                **(
                    {
                        "nationalities": draw(
                            st.lists(st.sampled_from(["MX", "GT"]), min_size=1, unique=True)
                        )
                    }
                    if draw(st.booleans())
                    else {}
                ),
            )
        )
    return out


def _same(code: str) -> str:
    return SAME.get(code, code)


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
        out.append("state_unknown" if r["state"] == "unknown" else "coverage")
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
        bad_sex = False  # confirmed with the service, not excluded (v4)
    else:
        bad_sex = sex not in s["sexes"] or (
            sex == "male"
            and mma is not None
            and ((age is not None and age > mma) or (age is None and adult))
        )
    if bad_sex:
        out.append("sex")
    nats = s.get("nationalities")
    if (
        (nats is None and foreign and not s["accepts_foreign"])
        or (nats is not None and r["nationality"] not in (*nats, "ZZ"))
        or (
            "country_of_origin" in s.get("tags", [])
            and (not foreign or r["migration_status"] in ("asylum_seeker", "refugee"))
        )
    ):
        out.append("nationality")
    others = {_same(x) for x in r["languages"]} - {"spa"}
    if s["need"] == "interpretation" and others and not others & {_same(x) for x in s["languages"]}:
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


def confirm_oracle(s: dict[str, Any], r: dict[str, Any]) -> list[str]:
    """The ``confirm`` list of CONTRACT 2.3 read literally."""
    out = []
    age, adult, sex = r["age"], r["clearly_adult"], r["sex"]
    if age is None:
        allowed = range(18, 121) if adult else range(0, 18)
        if any(
            (s["min_age"] is not None and a < s["min_age"])
            or (s["max_age"] is not None and a > s["max_age"])
            or (sex == "male" and s["male_max_age"] is not None and a > s["male_max_age"])
            for a in allowed
        ):
            out.append("age")
    if sex == "unknown" and (
        not {"female", "male", "intersex"} <= set(s["sexes"]) or s["male_max_age"] is not None
    ):
        out.append("sex")
    cm = s["companion_max_age_male"]
    if (
        s["need"] == "shelter"
        and cm is not None
        and any(c["sex"] == "unknown" and c["age"] > cm for c in r["companions"])
    ):
        out.append("companions")
    possibly_foreign = r["nationality"] == "ZZ" and r["migration_status"] == "unknown"
    nats = s.get("nationalities")
    if (nats is not None and r["nationality"] == "ZZ") or (
        nats is None and possibly_foreign and not s["accepts_foreign"]
    ):
        out.append("nationality")
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
        # a defunct service takes no part in routing
        of_need = {
            sid for sid, e in by_id.items() if e["need"] == need and e["status"] != "defunct"
        }
        options = [o["service"] for o in result["options"][need]]
        excluded = result["excluded"][need]
        # every service of the need is either an option or excluded, never both
        assert set(options) | set(excluded) == of_need
        assert not set(options) & set(excluded)
        for sid in options:
            assert oracle(by_id[sid], record) == []
        for sid, reasons in excluded.items():
            assert reasons == oracle(by_id[sid], record)  # all reasons, none extra, table order
        for o in result["options"][need]:
            assert o["confirm"] == confirm_oracle(by_id[o["service"]], record)
        # a gap exists exactly when a need has no option
        assert (need in gaps) == (not options)
        if need in gaps:
            in_reach = [
                sid
                for sid in excluded
                if "national" in by_id[sid]["coverage"] or record["state"] in by_id[sid]["coverage"]
            ]
            if not excluded:
                expected = ["none_listed"]
            elif in_reach:
                expected = sorted({r for sid in in_reach for r in excluded[sid]})
                assert "coverage" not in expected and "state_unknown" not in expected
            else:
                expected = ["state_unknown" if record["state"] == "unknown" else "coverage"]
            assert gaps[need] == expected
        assert [o["rank"] for o in result["options"][need]] == list(range(1, len(options) + 1))


def ranking_key(s: dict[str, Any], r: dict[str, Any], status: str, forms: list[str]) -> tuple:
    """The keys of CONTRACT 2.3's order, in its words; the id last makes it total."""
    capacity = s["capacity_available"]
    langs = {_same(x) for x in r["languages"]}
    return (
        status in ("likely", "possible") and "trafficking_specialized" not in s.get("tags", []),
        not set(forms) & set(s["specializations"]),
        r["state"] not in s["coverage"],
        bool(confirm_oracle(s, r)),
        not langs & {_same(x) for x in s["languages"]},
        capacity is None,
        -(capacity or 0),
        s["id"],
    )


@PROPERTY_SETTINGS
@given(record=records, entries=directories())
def test_options_follow_a_total_order_on_the_contract_keys(
    record: dict[str, Any],
    entries: list[dict[str, Any]],
    codes: CodeLists,
    make_catalogue: Callable[..., Catalogue],
) -> None:
    result = route_case(validate_record(record, codes), make_catalogue(*entries)).to_json()
    by_id = {e["id"]: e for e in entries}
    status, forms = result["screening"]["status"], result["screening"]["forms"]
    for options in result["options"].values():
        ids = [o["service"] for o in options]
        keys = [ranking_key(by_id[sid], record, status, forms) for sid in ids]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)


@PROPERTY_SETTINGS
@given(
    record=records,
    entries=directories(),
    spelling=st.sampled_from([("es", "spa"), ("en", "eng"), ("fr", "fre"), ("fre", "fra")]),
)
def test_a_language_routes_the_same_under_any_of_its_codes(
    record: dict[str, Any],
    entries: list[dict[str, Any]],
    spelling: tuple[str, str],
    codes: CodeLists,
    make_catalogue: Callable[..., Catalogue],
) -> None:
    one, other = spelling
    swap = {one: other, other: one}
    if one in record["languages"] and other in record["languages"]:
        return
    respelled = {**record, "languages": [swap.get(x, x) for x in record["languages"]]}
    cat = make_catalogue(*entries)
    first = route_case(validate_record(record, codes), cat).to_json("en")
    second = route_case(validate_record(respelled, codes), cat).to_json("en")
    for result in (first, second):
        for options in result["options"].values():
            for o in options:
                o.pop("why")  # names the code the person gave
    assert first == second


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


@settings(PROPERTY_SETTINGS, max_examples=100)
@given(batch=st.lists(records, min_size=2, max_size=6), entries=directories())
def test_one_catalogue_routes_a_batch_as_fresh_catalogues_do_and_writes_the_same_json(
    batch: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    codes: CodeLists,
    make_catalogue: Callable[..., Catalogue],
    seeded_catalogue: Catalogue,
) -> None:
    """The `excluded` listings a catalogue remembers between records (as the CLI routes a file
    with one catalogue) give each record the answer a catalogue seeing it first gives; the
    CLI's `dumps` writes exactly `json.dumps` of `to_json`."""
    shared, cold = make_catalogue(*entries), make_catalogue(*entries)
    for data in batch:
        rec = validate_record(data, codes)
        for table in cold.tables.values():
            table.listings.clear()
            table.whys.clear()
        cold.json_texts.clear()
        assert route_case(rec, shared) == route_case(rec, cold)
        for result in (route_case(rec, shared), route_case(rec, seeded_catalogue)):
            for lang in ("es", "en"):
                for options in ({}, {"ensure_ascii": False, "separators": (",", ":")}):
                    assert result.dumps(lang, **options) == json.dumps(
                        result.to_json(lang), **options
                    )
