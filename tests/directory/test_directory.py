"""Directory management: admins change it through the rules core's check, supervisors read it;
changes take effect for new routing at once and never alter stored results."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import func, select

from referral.audit.models import AuditEvent
from referral.casework.models import Screening
from referral.casework.screening import CaseDetails, store_screening
from referral.db import get_db
from referral.directory.catalogue import catalogue_cache
from referral.directory.models import DirectoryVersion
from referral.directory.models import Service as ServiceRow
from referral.directory.operations import apply_seeds
from referral.rules import route_case, validate_record
from tests.conftest import csrf_token
from tests.factories import record_data

MAN_IN_GUERRERO = {
    "age": 30, "clearly_adult": False, "sex": "male", "nationality": "MX", "state": "MX-GRO",
    "setting": "urban", "languages": ["es"], "migration_status": "national",
    "encounter": "hotline", "indicators": ["commercial_sex", "threats"], "needs": ["shelter"],
    "complaint_filed": False, "victim_status": False, "cross_border": False,
    "organized_crime": False, "official_involvement": False,
}  # fmt: skip

NEW_SHELTER = {
    "id": "svc-gro-shelter-men",
    "name_es": "Albergue para hombres en Guerrero",
    "name_en": "Shelter for men in Guerrero",
    "need": "shelter",
    "status": "active",
    "operator": "ngo",
    "coverage": ["MX-GRO"],
    "min_age": "18",
    "max_age": "",
    "sexes": ["male"],
    "male_max_age": "",
    "accepts_foreign": "y",
    "languages": "es",
    "capacity_available": "4",
    "accepts_companions": "y",
    "companion_max_age_male": "",
    "source": "Illustrative: RECOMMENDATIONS ¶3",
    "how_to_refer_es": "Llamar a la coordinación.",
    "how_to_refer_en": "Call the coordinator.",
    "contact_es": "Coordinación del albergue.",
    "contact_en": "The shelter's coordinator.",
    "required_documents_es": "Identificación",
    "required_documents_en": "ID",
    "last_verified": "2020-01-01",
    "confidential": "y",
}


@pytest.fixture
def people(make_user) -> dict[str, Any]:
    return {
        "admin": make_user("admin", (), national=True),
        "supervisor": make_user("supervisor", ("MX-GRO",)),
        "screener": make_user("screener", ("MX-GRO",)),
    }


def post(client, path: str, data: dict[str, Any], page: str | None = None) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, page or path), **data})


def route_now(app, raw: dict[str, Any]) -> dict[str, Any]:
    with app.app_context(), get_db(app).transaction(write=False) as session:
        catalogue = catalogue_cache(app).get(session)
        return route_case(validate_record(raw, catalogue.codes), catalogue).to_json()


def versions(app) -> int:
    with app.app_context(), get_db(app).transaction(write=False) as session:
        return session.exec(select(func.count()).select_from(DirectoryVersion)).one()


def test_a_new_service_takes_effect_at_once_and_stored_results_stay(app, client, login, people):
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = catalogue_cache(app).get(session)
        record = validate_record(MAN_IN_GUERRERO, catalogue.codes)
        _case, stored, routed = store_screening(
            session,
            record,
            catalogue,
            screener_id=people["screener"].id,
            details=CaseDetails(consent_referral=True, consent_statistics=True),
        )
        stored_id, stored_result = stored.id, dict(stored.result)
    before = routed.to_json()
    assert any(g["need"] == "shelter" for g in before["gaps"])
    count = versions(app)

    login(client, people["admin"])
    response = post(client, "/directory/new", NEW_SHELTER)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert versions(app) == count + 1

    after = route_now(app, MAN_IN_GUERRERO)  # same process, no restart
    assert [o["service"] for o in after["options"]["shelter"]] == ["svc-gro-shelter-men"]
    assert after["rules_version"] != before["rules_version"]
    with app.app_context(), get_db(app).transaction(write=False) as session:
        row = session.get(ServiceRow, "svc-gro-shelter-men")
        assert row is not None and row.edited
        assert row.entry["required_documents"] == [{"es": "Identificación", "en": "ID"}]
        assert row.entry["confidential"] is True
        screening = session.get(Screening, stored_id)
        assert screening.result == stored_result
        assert screening.rules_version == before["rules_version"]
        audit = session.exec(
            select(AuditEvent).where(AuditEvent.action == "directory_changed")
        ).all()
        assert [(a.object_id, a.state) for a in audit] == [("svc-gro-shelter-men", "MX-GRO")]


def test_invalid_service_is_refused_at_the_field_in_spanish_and_keeps_the_values(
    app, client, login, people
):
    login(client, people["admin"])
    bad = {**NEW_SHELTER, "operator": "government", "accepts_foreign": "", "min_age": "40",
           "max_age": "20", "how_to_refer_en": "", "languages": "Español"}  # fmt: skip
    count = versions(app)
    response = post(client, "/directory/new", bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Un servicio de gobierno debe aceptar a víctimas extranjeras" in html
    assert "La edad máxima es menor que la edad mínima" in html
    assert "Escriba este texto en los dos idiomas" in html
    assert 'id="languages-error"' in html and 'value="Español"' in html
    assert 'id="max_age-error"' in html
    assert "Albergue para hombres en Guerrero" in html
    assert versions(app) == count


def test_a_duplicate_id_is_refused(client, login, people):
    login(client, people["admin"])
    response = post(client, "/directory/new", {**NEW_SHELTER, "id": "svc-hotline-legal"})
    assert response.status_code == 422
    assert "Otro servicio ya tiene este identificador" in response.get_data(as_text=True)


def test_edit_keeps_every_field_and_marks_the_row_edited(app, client, login, people):
    login(client, people["admin"])
    page = client.get("/directory/svc-hotline-legal/edit").get_data(as_text=True)
    assert "24 horas, todos los días." in page
    with app.app_context(), get_db(app).transaction(write=False) as session:
        original = dict(session.get(ServiceRow, "svc-hotline-legal").entry)
    form = {
        "name_es": original["name"]["es"], "name_en": original["name"]["en"],
        "need": original["need"], "status": original["status"],
        "operator": original["operator"], "coverage": original["coverage"],
        "sexes": original["sexes"], "accepts_foreign": "y",
        "languages": "es, en, tzo", "accepts_companions": "y",
        "tags": original["tags"], "source": original["source"],
        "how_to_refer_es": original["how_to_refer"]["es"],
        "how_to_refer_en": original["how_to_refer"]["en"],
        "contact_es": original["contact"]["es"], "contact_en": original["contact"]["en"],
        "hours_es": original["hours"]["es"], "hours_en": original["hours"]["en"],
    }  # fmt: skip
    response = post(client, "/directory/svc-hotline-legal/edit", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context(), get_db(app).transaction(write=False) as session:
        row = session.get(ServiceRow, "svc-hotline-legal")
        assert row.edited and row.seed_digest is None
        assert row.entry == {**original, "languages": ["es", "en", "tzo"]}


def test_seed_never_overwrites_an_edited_service_and_reports_it(
    app, client, login, people, seed_set
):
    login(client, people["admin"])
    post(client, "/directory/svc-hotline-legal/capacity", {"capacity_available": "0"},
         page="/directory/svc-hotline-legal")  # fmt: skip
    with app.app_context(), get_db(app).transaction() as session:
        report = apply_seeds(session, seed_set)
        assert report.differs == ["svc-hotline-legal"]
        assert session.get(ServiceRow, "svc-hotline-legal").entry["capacity_available"] == 0


def test_capacity_zero_stops_routing_to_the_service(app, client, login, people):
    raw = record_data(**{**MAN_IN_GUERRERO, "needs": ["legal_aid"]})
    before = route_now(app, raw)
    assert "svc-hotline-legal" in [o["service"] for o in before["options"]["legal_aid"]]
    login(client, people["admin"])
    response = post(client, "/directory/svc-hotline-legal/capacity",
                    {"capacity_available": "0", "back": "list"}, page="/directory")  # fmt: skip
    assert response.status_code == 302
    after = route_now(app, raw)
    assert "svc-hotline-legal" not in [o["service"] for o in after["options"]["legal_aid"]]
    assert after["excluded"]["legal_aid"]["svc-hotline-legal"] == ["capacity"]
    # Free places change too often to version (CONTRACT section 2): same rules_version.
    assert after["rules_version"] == before["rules_version"]


def test_retire_keeps_the_row(app, client, login, people):
    login(client, people["admin"])
    response = post(client, "/directory/svc-hotline-legal/retire", {},
                    page="/directory/svc-hotline-legal")  # fmt: skip
    assert response.status_code == 302
    with app.app_context(), get_db(app).transaction(write=False) as session:
        assert session.get(ServiceRow, "svc-hotline-legal").status == "defunct"


def test_supervisors_read_but_do_not_edit(client, login, people):
    login(client, people["supervisor"])
    assert client.get("/directory").status_code == 200
    assert client.get("/directory/svc-hotline-legal").status_code == 200
    assert client.get("/directory/new").status_code == 404
    assert client.get("/directory/svc-hotline-legal/edit").status_code == 404
    token = csrf_token(client, "/directory")
    response = client.post("/directory/svc-hotline-legal/retire", data={"csrf_token": token})
    assert response.status_code == 404


def test_a_confidential_location_is_shown_to_admins_only(client, login, people, make_user):
    admin_client = client
    login(admin_client, people["admin"])
    post(admin_client, "/directory/new", NEW_SHELTER)
    admin_page = admin_client.get("/directory/svc-gro-shelter-men").get_data(as_text=True)
    assert "Coordinación del albergue." in admin_page
    supervisor_client = admin_client.application.test_client()
    login(supervisor_client, people["supervisor"])
    page = supervisor_client.get("/directory/svc-gro-shelter-men").get_data(as_text=True)
    assert "Coordinación del albergue." not in page
    assert "Llamar a la coordinación." not in page
    assert "solo a administradores" in page


def test_an_old_verification_is_flagged(client, login, people):
    login(client, people["admin"])
    post(client, "/directory/new", NEW_SHELTER)
    page = client.get("/directory/svc-gro-shelter-men").get_data(as_text=True)
    assert "hace más de 180 días" in page
