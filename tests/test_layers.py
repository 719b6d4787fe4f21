"""The package's floors: every import points down (or sideways within a floor), never up.

Parsed from the source with ``ast``, so an upward import anywhere (module level or inside a
function, where the CLI and lazy paths import) fails here rather than turning into a cycle later.
The floor list is the map in the README's "How it knows".
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "arena"

#: Lowest floor first. A module may import its own floor and any floor below.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("arena", "arena.errors", "arena._io", "arena.units"),
    ("arena.allocators",),
    ("arena.model",),
    ("arena.kernels",),
    ("arena.lifetimes",),
    ("arena.tail",),
    ("arena.targets",),
    ("arena.cost",),
    ("arena.plan",),
    ("arena.shrink",),
    ("arena.proofs",),
    ("arena.commands",),
    ("arena.render",),
    ("arena.cli",),
)
#: Third-party modules only one room may import: the flatbuffer schema and runtime (model/),
#: and the interpreters (proofs/).
CONFINED = {
    "flatbuffers": "arena.model",
    "tflite": "arena.model",
    "tflite_micro": "arena.proofs",
    "ai_edge_litert": "arena.proofs",
}
#: The style guide's hard limit for a hand-written module.
MAX_MODULE_LINES = 800


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _floor(module: str) -> int:
    best = None
    for level, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if prefix == "arena" and module != "arena":
                continue
            if module == prefix or module.startswith(prefix + "."):
                best = level
    if best is None:
        raise AssertionError(f"{module} is on no floor: add it to FLOORS and to the README map")
    return best


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno, id(node) in top))
            if node.module == "arena":  # from arena import x: x may be a subpackage
                found += [
                    (f"arena.{a.name}", node.lineno, id(node) in top) for a in node.names if a.name != "__version__"
                ]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_point_down(path: Path) -> None:
    importer = _module_name(path)
    floor = _floor(importer)
    upward = [
        f"line {line}: {importer} (floor {floor}) imports {module} (floor {_floor(module)})"
        for module, line, _ in _imports(path)
        if module.split(".")[0] == "arena" and _floor(module) > floor
    ]
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_confined_libraries(path: Path) -> None:
    importer = _module_name(path)
    wrong = [
        f"line {line}: {importer} imports {module}, which only {CONFINED[module.split('.')[0]]} may"
        for module, line, _ in _imports(path)
        if module.split(".")[0] in CONFINED and not (importer + ".").startswith(CONFINED[module.split(".")[0]] + ".")
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles_at_module_level() -> None:
    graph = nx.DiGraph()
    names = {_module_name(path) for path in MODULES}
    for path in MODULES:
        for module, _, top in _imports(path):
            if top and module in names and module != _module_name(path):
                graph.add_edge(_module_name(path), module)
    assert list(nx.simple_cycles(graph)) == []


def test_modules_stay_small() -> None:
    sizes = {str(path.relative_to(PACKAGE.parent)): len(path.read_text().splitlines()) for path in MODULES}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_the_checker_catches_an_upward_import(tmp_path: Path) -> None:
    # The test must be able to fail: a model-floor module importing the CLI is upward.
    assert _floor("arena.model.reader") < _floor("arena.cli.group")
    assert _floor("arena.allocators.problem") < _floor("arena.model")
    with pytest.raises(AssertionError, match="on no floor"):
        _floor("arena.nowhere")
