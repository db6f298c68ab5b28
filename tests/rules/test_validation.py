"""CONTRACT section 1: every validation rule, with every broken field reported at once."""

from __future__ import annotations

from typing import Any

import pytest
from rules_helpers import record_data

from referral.rules import CodeLists, RecordInvalid, render_errors, validate_record


def errors_of(data: object, codes: CodeLists) -> dict[str, list[str]]:
    with pytest.raises(RecordInvalid) as caught:
        validate_record(data, codes)
    return render_errors(caught.value.errors, lambda s: s)


def test_valid_record_round_trips_with_defaults(codes: CodeLists) -> None:
    data = record_data()
    for optional in (
        "sector",
        "vulnerabilities",
        "companions",
        "clearly_adult",
        "immediate_danger",
    ):
        del data[optional]
    record = validate_record(data, codes)
    assert record.to_dict() == record_data()


@pytest.mark.parametrize("data", [None, [], "x", 3, [record_data()]])
def test_not_an_object_is_a_whole_input_error(data: object, codes: CodeLists) -> None:
    assert list(errors_of(data, codes)) == [""]


def test_empty_object_is_refused_with_every_required_field(codes: CodeLists) -> None:
    errors = errors_of({}, codes)
    assert "" in errors
    for name in (
        "age",
        "sex",
        "nationality",
        "state",
        "setting",
        "languages",
        "migration_status",
        "encounter",
        "indicators",
        "needs",
        "complaint_filed",
        "victim_status",
        "cross_border",
        "organized_crime",
        "official_involvement",
    ):
        assert errors[name] == ["This field is required."]
    for optional in (
        "sector",
        "vulnerabilities",
        "companions",
        "clearly_adult",
        "immediate_danger",
    ):
        assert optional not in errors


def test_unknown_keys_are_errors(codes: CodeLists) -> None:
    errors = errors_of(record_data(name="Ana", notes="x"), codes)
    assert errors == {"name": ["Unknown field."], "notes": ["Unknown field."]}


@pytest.mark.parametrize("age", [0, 17, 18, 120, None])
def test_age_accepts_whole_years_and_null(age: Any, codes: CodeLists) -> None:
    assert validate_record(record_data(age=age), codes).age == age


@pytest.mark.parametrize("age", [-1, 121, 15.0, 15.5, "15", True, False, [15]])
def test_age_refuses_non_integers_and_out_of_range(age: Any, codes: CodeLists) -> None:
    assert list(errors_of(record_data(age=age), codes)) == ["age"]


@pytest.mark.parametrize(
    "field",
    [
        "clearly_adult",
        "immediate_danger",
        "complaint_filed",
        "victim_status",
        "cross_border",
        "organized_crime",
        "official_involvement",
    ],
)
@pytest.mark.parametrize("value", [0, 1, "true", None])
def test_booleans_must_be_json_booleans(field: str, value: Any, codes: CodeLists) -> None:
    assert errors_of(record_data(**{field: value}), codes) == {field: ["Must be true or false."]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sex", "woman"),
        ("sex", None),
        ("nationality", "mx"),
        ("nationality", "XX"),
        ("nationality", "MEX"),
        ("state", "MX-XXX"),
        ("state", "Tlaxcala"),
        ("setting", "suburban"),
        ("migration_status", "undocumented"),
        ("encounter", "street"),
        ("sector", "sex_work"),
        ("sector", 3),
    ],
)
def test_single_codes_must_be_in_their_lists(field: str, value: Any, codes: CodeLists) -> None:
    assert list(errors_of(record_data(**{field: value}), codes)) == [field]


def test_unknown_state_and_nationality_codes_are_valid(codes: CodeLists) -> None:
    record = validate_record(record_data(state="unknown", nationality="ZZ"), codes)
    assert (record.state, record.nationality) == ("unknown", "ZZ")


@pytest.mark.parametrize("field", ["indicators", "vulnerabilities", "needs"])
def test_code_lists_refuse_unknown_repeated_and_non_lists(field: str, codes: CodeLists) -> None:
    valid = {"indicators": "threats", "vulnerabilities": "pregnant", "needs": "shelter"}[field]
    assert errors_of(record_data(**{field: ["nope"]}), codes) == {field: ["Unknown code: nope."]}
    assert errors_of(record_data(**{field: [valid, valid]}), codes) == {
        field: [f"Repeated code: {valid}."]
    }
    assert errors_of(record_data(**{field: valid}), codes) == {field: ["Must be a list."]}
    assert list(errors_of(record_data(**{field: [1]}), codes)) == [field]


@pytest.mark.parametrize("languages", [["es", "tzo"], [], ["spa"], ["nah", "en"]])
def test_languages_are_two_or_three_lowercase_letters(
    languages: list[str], codes: CodeLists
) -> None:
    assert validate_record(record_data(languages=languages), codes).languages == tuple(languages)


@pytest.mark.parametrize("bad", ["ES", "e", "espa", "es-MX", "é", "es\n", 5])
def test_languages_refuse_malformed_codes(bad: Any, codes: CodeLists) -> None:
    assert list(errors_of(record_data(languages=[bad]), codes)) == ["languages"]


def test_languages_refuse_repeats_and_non_lists(codes: CodeLists) -> None:
    assert list(errors_of(record_data(languages=["es", "es"]), codes)) == ["languages"]
    assert list(errors_of(record_data(languages="es"), codes)) == ["languages"]


def test_companions_are_children_with_age_and_sex(codes: CodeLists) -> None:
    record = validate_record(
        record_data(companions=[{"age": 0, "sex": "male"}, {"age": 17, "sex": "unknown"}]), codes
    )
    assert [(c.age, c.sex) for c in record.companions] == [(0, "male"), (17, "unknown")]


def test_companion_errors_name_their_path(codes: CodeLists) -> None:
    errors = errors_of(
        record_data(
            companions=[
                {"age": 18, "sex": "male"},
                {"sex": "boy"},
                "child",
                {"age": 3.0, "sex": "female", "name": "x"},
                {"age": True, "sex": "female"},
            ]
        ),
        codes,
    )
    assert set(errors) == {
        "companions[0].age",
        "companions[1].age",
        "companions[1].sex",
        "companions[2]",
        "companions[3].age",
        "companions[3].name",
        "companions[4].age",
    }
    assert errors["companions[1].age"] == ["This field is required."]
    assert list(errors_of(record_data(companions={"age": 3}), codes)) == ["companions"]


def test_every_broken_field_is_reported_at_once(codes: CodeLists) -> None:
    errors = errors_of(
        record_data(age="12", sex="x", indicators=["x"], companions=[{"age": 30, "sex": "male"}]),
        codes,
    )
    assert set(errors) == {"age", "sex", "indicators", "companions[0].age"}


def test_no_cross_field_checks(codes: CodeLists) -> None:
    record = validate_record(
        record_data(age=12, clearly_adult=True, nationality="MX", migration_status="refugee"),
        codes,
    )
    assert record.minor and record.foreign


def test_error_messages_are_translatable(codes: CodeLists) -> None:
    with pytest.raises(RecordInvalid) as caught:
        validate_record(record_data(indicators=["nope"]), codes)
    spanish = {"Unknown code: %(code)s.": "Código desconocido: %(code)s."}
    rendered = render_errors(caught.value.errors, lambda s: spanish.get(s, s))
    assert rendered == {"indicators": ["Código desconocido: nope."]}


@pytest.mark.parametrize(
    ("overrides", "minor", "foreign", "spanish"),
    [
        ({"age": 17}, True, False, True),
        ({"age": 18}, False, False, True),
        ({"age": None}, True, False, True),
        ({"age": None, "clearly_adult": True}, False, False, True),
        ({"nationality": "GT"}, False, True, True),
        ({"nationality": "ZZ"}, False, False, True),
        ({"nationality": "ZZ", "migration_status": "irregular"}, False, True, True),
        ({"migration_status": "unknown", "nationality": "ZZ"}, False, False, True),
        ({"languages": []}, False, False, True),
        ({"languages": ["spa", "tzo"]}, False, False, True),
        ({"languages": ["tzo"]}, False, False, False),
    ],
)
def test_derived_facts(
    overrides: dict[str, Any], minor: bool, foreign: bool, spanish: bool, codes: CodeLists
) -> None:
    record = validate_record(record_data(**overrides), codes)
    assert (record.minor, record.foreign, record.speaks_spanish) == (minor, foreign, spanish)
