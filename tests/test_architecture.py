"""The package's shape (issue 11): no import cycle between its parts, a pure rules core.

The graph is computed from the code: every ``import`` and ``from … import`` anywhere in a
module counts, inside functions and under ``TYPE_CHECKING`` too. A part is a subpackage of
``referral`` (``referral.casework``) or a top-level module (``referral.db``).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "referral"
STDLIB = set(sys.stdlib_module_names)


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


KNOWN = {name for name, _ in modules()}


def imported(module: str, path: Path) -> Iterator[str]:
    """Every module name this module imports, resolved to absolute names."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:  # ``from referral import db`` imports referral.db
                submodule = f"{target}.{alias.name}"
                yield submodule if submodule in KNOWN else target


def part(module: str) -> str | None:
    """The part of the package a module belongs to; None outside the package."""
    pieces = module.split(".")
    if pieces[0] != "referral" or (module not in KNOWN and ".".join(pieces[:2]) not in KNOWN):
        return None
    return pieces[1] if len(pieces) > 1 else "referral"


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module, path in modules():
        source = part(module)
        if source is None:
            continue
        for target in imported(module, path):
            if target not in KNOWN:
                continue
            destination = part(target)
            if destination is not None and destination != source:
                edges.setdefault(source, set()).add(destination)
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for following in sorted(edges.get(node, ())):
            cycle = visit(following)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(edges):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def test_the_parts_of_the_package_import_each_other_without_a_cycle() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None


def test_no_feature_imports_the_model_registry() -> None:
    importers = [
        module
        for module, path in modules()
        if "referral.models" in set(imported(module, path)) and module != "referral"
    ]
    assert importers == []


def test_access_imports_nothing_from_auth() -> None:
    path = PACKAGE / "access.py"
    assert not [m for m in imported("referral.access", path) if m.startswith("referral.auth")]


def test_the_rules_core_imports_only_the_standard_library_and_pydantic() -> None:
    foreign = set()
    for module, path in modules():
        if not module.startswith("referral.rules"):
            continue
        for target in imported(module, path):
            top = target.split(".")[0]
            if top in STDLIB or top in {"pydantic", "__future__"}:
                continue
            if target.startswith("referral.rules"):
                continue
            foreign.add(f"{module}: {target}")
    assert sorted(foreign) == []
