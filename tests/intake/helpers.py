"""Fill the intake form the way a browser posts it."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import csrf_token

SECTIONS: dict[str, dict[str, Any]] = {
    "encounter": {"encounter": "migration_detention", "state": "MX-CHP", "setting": "urban"},
    "person": {
        "age": "15",
        "sex": "female",
        "nationality": "HN",
        "languages": ["es"],
        "other_languages": "",
        "migration_status": "irregular",
        "vulnerabilities": ["unaccompanied_minor"],
    },
    "indicators": {"indicators": ["commercial_sex", "threats"], "sector": ""},
    "needs": {"needs": ["shelter", "medical"], "immediate_danger": "y"},
    "legal": {"consent_referral": "yes", "consent_statistics": "yes", "notes": "Habla poco."},
}


def start_draft(client: FlaskClient) -> str:
    token = csrf_token(client, "/intake")
    response = client.post("/intake", data={"csrf_token": token})
    assert response.status_code == 302, response.status_code
    match = re.search(r"/intake/([^/]+)/encounter", response.headers["Location"])
    assert match
    return match.group(1)


def post_section(
    client: FlaskClient, key: str, section: str, values: dict[str, Any], **buttons: str
) -> Any:
    token = csrf_token(client, f"/intake/{key}/{section}")
    data: dict[str, Any] = {"csrf_token": token, **values}
    data.update(buttons or {"next": "1"})
    return client.post(f"/intake/{key}/{section}", data=data)


def fill_all(client: FlaskClient, overrides: dict[str, dict[str, Any]] | None = None) -> str:
    key = start_draft(client)
    for section, values in SECTIONS.items():
        merged = {**values, **(overrides or {}).get(section, {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        response = post_section(client, key, section, merged)
        assert response.status_code == 302, (section, response.get_data(as_text=True)[:3000])
    return key


def submit(client: FlaskClient, key: str) -> Any:
    token = csrf_token(client, f"/intake/{key}/review")
    return client.post(f"/intake/{key}/submit", data={"csrf_token": token})
