"""The layering of glassnet, checked on its source: imports flow one way.

Every ``import`` in ``glassnet/`` counts, also inside functions (a function-level
import hides a cycle, it does not remove it); only ``if TYPE_CHECKING:`` blocks,
which never run, are left out. The units are the subpackages and top-level
modules (``glassnet.saving``, ``glassnet.optim``...): there must be no cycle
between them, and no library module may import the command line.
"""

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "glassnet"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, modules: set[str], name: str | None = None) -> set[str]:
    """The glassnet modules ``path`` (module ``name``) imports; ``from a import
    b`` counts ``a.b`` too when that is one of ``modules``."""
    name = _module_name(path) if name is None else name
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if _is_type_checking(node.test):
                for child in node.orelse:
                    self.visit(child)
            else:
                self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names if a.name.startswith("glassnet"))

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.startswith("glassnet"):
                found.add(target)
                found.update(
                    f"{target}.{a.name}"
                    for a in node.names
                    if f"{target}.{a.name}" in modules
                )

    Visitor().visit(ast.parse(path.read_text(), str(path)))
    return found


def unit(module: str) -> str:
    """``glassnet.saving.spec`` -> ``glassnet.saving``."""
    return ".".join(module.split(".")[:2])


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module -> modules it imports, unit -> units it imports)."""
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    by_module = {_module_name(p): imports_of(p, modules) for p in paths}
    by_unit: dict[str, set[str]] = defaultdict(set)
    for module, targets in by_module.items():
        if module == "glassnet":  # the package root gathers the public API
            continue
        for target in targets:
            if unit(target) not in (unit(module), "glassnet"):
                by_unit[unit(module)].add(unit(target))
    return by_module, by_unit


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_subpackages_or_modules():
    _, by_unit = import_graph()
    found = cycles(by_unit)
    detail = [
        f"{a} -> {sorted(b for b in by_unit[a] if b in c)}" for c in found for a in c
    ]
    assert not found, "import cycles:\n" + "\n".join(detail)


def test_no_library_module_imports_the_command_line():
    by_module, _ = import_graph()
    offenders = {
        module: sorted(t for t in targets if unit(t) == "glassnet.cli")
        for module, targets in by_module.items()
        if unit(module) != "glassnet.cli" and module != "glassnet.__main__"
    }
    assert not {m: t for m, t in offenders.items() if t}


def test_the_helpers_import_nothing_of_glassnet_above_them():
    # glassnet._internal is below everything: backend and errors only.
    by_module, _ = import_graph()
    allowed = {"glassnet._internal", "glassnet.backend", "glassnet.errors"}
    for module, targets in by_module.items():
        if unit(module) == "glassnet._internal":
            assert {unit(t) for t in targets} <= allowed, module


def test_the_checker_sees_a_cycle_and_a_function_level_import(tmp_path):
    # The oracle for the checks above: a hand-made graph and file, known answers.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import glassnet.models\n"
        "def f():\n    from glassnet.saving import api\n"
    )
    found = imports_of(source, {"glassnet.saving.api"}, name="glassnet.mod")
    assert found == {"glassnet.saving", "glassnet.saving.api"}
