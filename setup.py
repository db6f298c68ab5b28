"""Build step: compile the translation catalogs (.po -> .mo) when the package is built.

Metadata lives in pyproject.toml; this file only adds the compile step to setuptools'
build_py, which runs for `pip wheel .`, `pip install .` and `pip install -e .` (editable:
setuptools calls build_py with ``editable_mode`` set, and the .mo files written beside the
.po files in the source tree are the ones the editable install reads). The .mo files are
build output, kept out of git.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

CATALOGS = Path(__file__).resolve().parent / "referral" / "translations"


def compile_catalogs(directory: Path = CATALOGS) -> list[Path]:
    """Write ``messages.mo`` beside every ``messages.po``; refuse a catalog Babel cannot read."""
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, abort_invalid=True)
        mo_path = po_path.with_suffix(".mo")
        partial = mo_path.with_suffix(f".mo.{os.getpid()}")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(partial, mo_path)  # a running app never reads half a file
        written.append(mo_path)
    if not written:
        raise SystemExit(f"no messages.po under {directory}: the translations are missing")
    return written


class BuildPyWithCatalogs(build_py):
    def run(self) -> None:
        for mo_path in compile_catalogs():
            self.announce(f"compiled {mo_path}", level=2)
        self.__dict__.pop("data_files", None)  # globbed lazily: find the new .mo files
        super().run()


class SdistWithCatalogs(sdist):
    """An sdist carries the .po sources, so a wheel built from it compiles them too."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        for po_path in CATALOGS.glob("*/LC_MESSAGES/messages.po"):
            target = Path(base_dir) / po_path.relative_to(CATALOGS.parent.parent)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(po_path, target)


setup(cmdclass={"build_py": BuildPyWithCatalogs, "sdist": SdistWithCatalogs})
