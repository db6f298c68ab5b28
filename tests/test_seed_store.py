"""One SeedStore: every seed file read once per seeds directory, validated, shared by readers."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from referral import create_app
from referral.directory.catalogue import catalogue_cache
from referral.rules import SeedErrors
from referral.seeds import loader
from referral.seeds.loader import SeedStore, packaged_seeds, seed_store
from tests.conftest import ROOT, SEEDS


def copy_seeds(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


def test_the_seeds_live_in_the_package_and_seeds_links_there() -> None:
    assert Path(str(packaged_seeds())) == ROOT / "referral" / "seeds" / "data"
    assert (ROOT / "seeds").resolve() == (ROOT / "referral" / "seeds" / "data").resolve()
    assert (ROOT / "translations").resolve() == (ROOT / "referral" / "translations").resolve()
    # The link and the package are one directory, so one shared store.
    assert seed_store(ROOT / "seeds") is seed_store(None) is seed_store("")


def test_every_file_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: Counter[str] = Counter()
    read_text = loader.read_text

    def counting(root, name):  # every seed file, YAML or text, is read through read_text
        reads[name] += 1
        return read_text(root, name)

    monkeypatch.setattr(loader, "read_text", counting)
    store = SeedStore(SEEDS)
    seeds = store.seed_set()
    assert (store.rules, store.states, store.report) == (seeds.rules, seeds.states, seeds.report)
    assert store.regions.states.region_of("MX-CHP") == "south"
    assert store.recommendations["coverage"].paragraph.section == "RECOMMENDATIONS"
    assert store.demo["total_victims_2024"] == 860
    store.seed_set()
    assert set(reads) == {*loader.YAML_FILES, loader.REPORT_FILE}
    assert set(reads.values()) == {1}, reads


def test_the_c_yaml_loader_is_used_where_installed() -> None:
    if not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("PyYAML without libyaml")
    assert loader.SafeLoader is yaml.CSafeLoader


def test_apps_share_the_store_of_their_seeds_directory(tmp_path: Path) -> None:
    first = create_app({"INSTANCE_PATH": str(tmp_path / "a"), "AUTO_SETUP": False})
    second = create_app({"INSTANCE_PATH": str(tmp_path / "b"), "AUTO_SETUP": False})
    assert catalogue_cache(first).rules is catalogue_cache(second).rules
    assert catalogue_cache(first).rules is seed_store(None).rules


def test_the_report_page_reads_the_configured_directory_once(app, client, tmp_path) -> None:
    seeds = copy_seeds(tmp_path)
    report = seeds / "report.txt"
    report.write_text(
        report.read_text(encoding="utf-8").replace(
            "Labor inspectors had", "Inspectors-of-the-copy had"
        ),
        encoding="utf-8",
    )
    app.config["SEEDS_DIR"] = str(seeds)
    assert "Inspectors-of-the-copy" in client.get("/sources/report").get_data(as_text=True)
    report.write_text("# PROTECTION\n\nEdited under a running app.\n", encoding="utf-8")
    page = client.get("/sources/report").get_data(as_text=True)
    assert "Inspectors-of-the-copy" in page  # read once: an edit needs a restart
    assert "Edited under a running app" not in page


def test_a_broken_demo_file_is_named_with_its_field(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path)
    document = yaml.safe_load((seeds / "demo.yaml").read_text(encoding="utf-8"))
    document["likely_share"] = 3
    del document["until"]
    (seeds / "demo.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(SeedErrors) as caught:
        SeedStore(seeds).seed_set()
    messages = [str(e) for e in caught.value.errors]
    assert any(m.startswith("demo.yaml") and "likely_share" in m for m in messages), messages
    assert any(m.startswith("demo.yaml") and "until" in m for m in messages), messages


def test_seed_refuses_broken_regions_and_names_every_broken_file(tmp_path: Path) -> None:
    seeds = copy_seeds(tmp_path)
    text = (seeds / "regions.yaml").read_text(encoding="utf-8")
    (seeds / "regions.yaml").write_text(text.replace(", MX-TLA]", "]"), encoding="utf-8")
    (seeds / "report.txt").unlink()
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "AUTO_SETUP": False,
            "SEEDS_DIR": str(seeds),
        }
    )
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 2
    assert "report.txt" in result.output and "missing" in result.output
    (seeds / "report.txt").write_text((SEEDS / "report.txt").read_text(encoding="utf-8"))
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 2
    assert "regions.yaml: states" in result.output and "MX-TLA" in result.output
