"""A wheel built from the repository works on its own: seeds, translations and all.

The wheel is built with `pip wheel . --no-deps` from a copy of the source tree without any
compiled ``.mo`` file (so the build step must make them), installed with its dependencies
into an empty virtual environment outside the repository, and driven from a directory
outside the repository: `db upgrade`, `seed`, `route`, and the home page in both languages.
Takes about a minute (most of it installing the dependencies).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.factories import MAN_IN_GUERRERO

# What a source tree holds besides the project: environments, caches, build output.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv",
    "build",
    "dist",
    "instance",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    "*.mo",
    ".*_cache",
    ".hypothesis",
    "out",
)

PAGE_SCRIPT = """
import json, sys
import referral
from referral import create_app

app = create_app()
client = app.test_client()
pages = {
    lang: client.get("/", headers={"Accept-Language": accept}).get_data(as_text=True)
    for lang, accept in (("es", "es-MX,es;q=0.9"), ("en", "en-US,en;q=0.9"))
}
report = client.get("/sources/report")
json.dump(
    {
        "package": referral.__file__,
        "pages": pages,
        "report": [report.status_code, report.get_data(as_text=True)],
    },
    sys.stdout,
)
"""


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel, and an empty venv outside the repository with the wheel installed."""
    tmp = tmp_path_factory.mktemp("packaging")
    assert not tmp.is_relative_to(ROOT)
    source = tmp / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    assert not list(source.rglob("*.mo"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    dist = tmp / "dist"
    run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(dist)], source, env
    )
    (wheel,) = dist.glob("ruta_referral-*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp, env)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], tmp, env)
    return {"wheel": wheel, "venv": venv, "tmp": tmp}


def test_the_wheel_holds_the_seeds_and_compiled_catalogs(installed) -> None:
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    seeds = {f"referral/seeds/data/{p.name}" for p in (ROOT / "seeds").iterdir()}
    assert seeds and seeds <= names
    assert {"referral/seeds/data/report.txt", "referral/seeds/data/services.yaml"} <= seeds
    for language in ("es", "en"):
        assert f"referral/translations/{language}/LC_MESSAGES/messages.mo" in names
    assert not [n for n in names if n.endswith((".po", ".pot", ".cfg"))]


def test_the_installed_wheel_migrates_seeds_routes_and_serves_both_languages(installed) -> None:
    tmp, bin_dir = installed["tmp"], installed["venv"] / "bin"
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("REFERRAL_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env["REFERRAL_INSTANCE_PATH"] = str(tmp / "instance")
    flask = [str(bin_dir / "flask"), "--app", "referral"]

    assert re.search(r"Database at \w+", run([*flask, "db", "upgrade"], elsewhere, env))
    seeded = run([*flask, "seed"], elsewhere, env)
    assert "States: 32 added" in seeded
    assert re.search(r"Services: \d{3} added", seeded)

    (elsewhere / "record.json").write_text(json.dumps(MAN_IN_GUERRERO), encoding="utf-8")
    results = {
        lang: json.loads(run([*flask, "route", "record.json", "--lang", lang], elsewhere, env))
        for lang in ("es", "en")
    }
    for result in results.values():
        assert result["screening"]["status"] == "likely"
        assert "forced_labor" in result["screening"]["forms"]
        assert result["options"]["labor_rights"][0]["service"] == "svc-stps-labor-inspection"
        assert result["options"]["shelter"] == []
    assert "Works in Spanish" in results["en"]["options"]["legal_aid"][0]["why"]
    assert "Atiende en español" in results["es"]["options"]["legal_aid"][0]["why"]

    served = json.loads(run([str(bin_dir / "python"), "-c", PAGE_SCRIPT], elsewhere, env))
    assert Path(served["package"]).is_relative_to(installed["venv"])
    spanish, english = served["pages"]["es"], served["pages"]["en"]
    assert '<html lang="es">' in spanish and "Ruta ayuda" in spanish
    assert '<html lang="en">' in english and "Ruta helps" in english
    status, report = served["report"]
    assert status == 200 and 'id="PROTECTION-4"' in report
