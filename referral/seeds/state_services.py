"""The services every state has by law, one entry per state of ``states.yaml``.

``python -m referral.seeds.state_services`` prints them as YAML; they are written out in
``services.yaml`` (tests/test_seed_services.py checks the two agree). These entries name a
kind of office every state must have, not a verified address: their contact is the state's
own published channels, and no phone number or address is invented.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

SEEDS_DIR = Path(__file__).resolve().parent / "data"  # the packaged seeds (seeds/ links here)
ALL_SEXES = ["female", "male", "intersex"]


def _base(code: str) -> dict[str, Any]:
    return {
        "status": "active",
        "operator": "government",
        "coverage": [code],
        "min_age": None,
        "max_age": None,
        "sexes": list(ALL_SEXES),
        "male_max_age": None,
        "accepts_foreign": True,
        "languages": ["es"],
        "capacity_available": None,
        "requires_complaint": False,
        "requires_victim_status": False,
        "accepts_companions": True,
        "companion_max_age_male": None,
        "specializations": [],
    }


def prosecutor(code: str, name: dict[str, str]) -> dict[str, Any]:
    """The ordinary public prosecutor (Ministerio Público) of the state's Fiscalía General."""
    es, en = name["es"], name["en"]
    return {
        "id": f"svc-{code[3:].lower()}-state-prosecutor",
        "name": {
            "es": f"Ministerio Público de la Fiscalía General del Estado de {es}",
            "en": (
                f"Public prosecutor (Ministerio Público), State Attorney General's Office of {en}"
            ),
        },
        "need": "prosecution",
        **_base(code),
        "tags": ["state_government"],
        "source": (
            "LGPSEDMTP Art. 5 (the states investigate, prosecute and punish the crimes of "
            "the law in every case outside the federal cases of Art. 5 I-V): a kind of "
            "office every state has by law, not a verified address"
        ),
        "how_to_refer": {
            "es": (
                "Presentar denuncia ante el Ministerio Público más cercano de la Fiscalía "
                "General del Estado; atiende todo caso que no sea de competencia federal. "
                "Use los canales que publica la propia Fiscalía del estado."
            ),
            "en": (
                "File a complaint with the nearest public prosecutor of the State Attorney "
                "General's Office; it handles every case that is not federal. Use the "
                "channels the state's Fiscalía itself publishes."
            ),
        },
        "contact": {
            "es": f"Los canales que publica la Fiscalía General del Estado de {es}.",
            "en": f"The channels published by the State Attorney General's Office of {en}.",
        },
    }


def dif_care_centre(code: str, name: dict[str, str]) -> dict[str, Any]:
    """The state DIF system's care centres (centros de asistencia social) for children."""
    es, en = name["es"], name["en"]
    return {
        "id": f"svc-{code[3:].lower()}-dif-care-centre",
        "name": {
            "es": (
                "Centros de asistencia social para niñas, niños y adolescentes del Sistema "
                f"DIF de {es}"
            ),
            "en": f"Care centres for children (centros de asistencia social), DIF system of {en}",
        },
        "need": "shelter",
        **{**_base(code), "max_age": 17},
        "tags": ["state_government"],
        "source": (
            "LGDNNA Art. 94 (the national, state and municipal DIF systems set up lodging "
            "for migrant children), Art. 95 (children alone are lodged apart from adults) and "
            "Art. 122 VI a) (admission to a care centre as an urgent protection measure): a "
            "kind of service every state has by law, not a verified address"
        ),
        "how_to_refer": {
            "es": (
                "El ingreso lo ordena o solicita la Procuraduría de Protección de Niñas, "
                "Niños y Adolescentes del DIF estatal como medida de protección: canalice "
                "por medio de ella, no directamente."
            ),
            "en": (
                "Admission is ordered or requested by the state DIF child-protection office "
                "(Procuraduría de Protección) as a protection measure: refer through it, "
                "not directly."
            ),
        },
        "contact": {
            "es": f"Por medio de la Procuraduría de Protección del Sistema DIF de {es}.",
            "en": f"Through the child-protection office of the DIF system of {en}.",
        },
        "confidential": True,
    }


def state_entries(seeds_dir: Path = SEEDS_DIR) -> list[dict[str, Any]]:
    states = yaml.safe_load((seeds_dir / "states.yaml").read_text(encoding="utf-8"))["states"]
    out = []
    for state in states:
        out.append(prosecutor(state["code"], state["name"]))
        out.append(dif_care_centre(state["code"], state["name"]))
    return out


def main() -> None:
    yaml.safe_dump(state_entries(), sys.stdout, allow_unicode=True, sort_keys=False, width=10000)


if __name__ == "__main__":
    main()
