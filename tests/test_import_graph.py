"""No import cycles between the modules of the installed `qec` package (issue 19: layers pass records; no cycles).

Every module of `qec`, `qec.codes`, `qec.decoders`, `qec.mitigation` and `qec.cli` (found through the installed
package, which maps the repo folders qec/, decoders/, mitigation/ and cli/ into one namespace) is parsed with
`ast`, and every import statement naming a qec module is an edge: those inside functions too (a lazy import
hides a cycle, it does not remove it), but not those under `if TYPE_CHECKING:`, which never run.
`from qec.codes import gf2`, gf2 a submodule, is an edge to `qec.codes.gf2`; `from qec.codes import family`, a
name the package's __init__ defines, an edge to `qec.codes`. `importlib.import_module` calls (the lazy names of
`qec/__init__.py`) are not edges: what such a call loads is not known without running it.
"""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGES = ("qec", "qec.decoders", "qec.mitigation", "qec.cli")  # their subpackages (qec.codes) are found


@dataclass(frozen=True)
class Edge:
    """One import of qec module `target` by module `source`, at `path`:`line`."""

    source: str
    target: str
    path: str
    line: int

    def describe(self) -> str:
        return f"{self.source} -> {self.target} ({self.path}:{self.line})"


def module_files() -> dict[str, Path]:
    """Every module of the installed qec package (packages by their __init__.py), by dotted name; nothing is
    imported but `qec` itself (whose names load lazily) to find where the packages were installed."""
    files: dict[str, Path] = {}
    pending = []
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.origin and spec.submodule_search_locations, f"{package} is not installed"
        files[package] = Path(spec.origin)
        pending.append((package, list(spec.submodule_search_locations)))
    while pending:
        package, locations = pending.pop()
        for info in pkgutil.iter_modules(locations):
            name = f"{package}.{info.name}"
            spec = info.module_finder.find_spec(name, None)  # type: ignore[call-arg]
            if spec is None or not spec.origin or not spec.origin.endswith(".py"):
                continue
            files[name] = Path(spec.origin)
            if spec.submodule_search_locations:
                pending.append((name, list(spec.submodule_search_locations)))
    return files


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of `tree` at any depth, but those in the body of an `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _within_qec(name: str) -> bool:
    return name == "qec" or name.startswith("qec.")


def imports(files: dict[str, Path]) -> tuple[list[Edge], list[Edge]]:
    """(edges between qec modules, imports of a qec name that is no module of the package)."""
    edges: list[Edge] = []
    unknown: list[Edge] = []
    for source, path in sorted(files.items()):
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _import_nodes(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                for alias in node.names:
                    # `import qec.a.b` names qec.a.b (the packages above it run too, as for every import).
                    targets.append(alias.name)
            else:
                if node.level:
                    base = source if is_package else source.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    module = f"{base}.{node.module}" if node.module else base
                else:
                    module = node.module or ""
                for alias in node.names:
                    submodule = f"{module}.{alias.name}"
                    targets.append(submodule if submodule in files else module)
            for target in targets:
                if not _within_qec(target):
                    continue
                edge = Edge(source, target, str(path), node.lineno)
                if target not in files:
                    unknown.append(edge)
                elif target != source:
                    edges.append(edge)
    return edges, unknown


@dataclass(frozen=True)
class Cycle:
    """A strongly connected component of the import graph: a shortest cycle through it (`path`, as its edges) and
    every import between its modules (`edges`), any one of which may be the one to cut."""

    path: list[Edge]
    edges: list[Edge]

    def describe(self) -> str:
        modules = " -> ".join([edge.source for edge in self.path] + [self.path[0].source])
        lines = [f"{modules}", "  imports among these modules:"]
        lines += [f"    {edge.describe()}" for edge in self.edges]
        return "\n".join(lines)


def cycles(edges: list[Edge]) -> list[Cycle]:
    """Each strongly connected component of more than one module, with one shortest cycle through it."""
    graph: dict[str, dict[str, Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, {}).setdefault(edge.target, edge)
        graph.setdefault(edge.target, {})
    # Tarjan's strongly connected components, iteratively.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    found = []
    for component in components:
        members = set(component)
        start = component[0]
        # Breadth-first from `start` inside the component, back to `start`: a shortest cycle through it.
        parent: dict[str, str] = {}
        frontier = [start]
        closing = None
        while frontier and closing is None:
            following = []
            for node in frontier:
                for child in sorted(graph[node]):
                    if child not in members:
                        continue
                    if child == start:
                        closing = node
                        break
                    if child not in parent:
                        parent[child] = node
                        following.append(child)
                if closing is not None:
                    break
            frontier = following
        assert closing is not None
        path = [closing]
        while path[-1] != start:
            path.append(parent[path[-1]])
        path.reverse()
        inside = [graph[a][b] for a in component for b in sorted(graph[a]) if b in members]
        found.append(Cycle([graph[a][b] for a, b in zip(path, path[1:] + [start])], inside))
    return found


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, Path], list[Edge], list[Edge]]:
    files = module_files()
    edges, unknown = imports(files)
    return files, edges, unknown


def test_every_package_and_some_modules_are_found(graph):
    files, edges, _ = graph
    expected = {"qec", "qec.codes", "qec.codes.css", "qec.decoders.bp_osd_kernels", "qec.mitigation", "qec.cli.main"}
    assert expected <= set(files)
    assert len(edges) > 50


def test_no_import_cycles(graph):
    _, edges, _ = graph
    found = cycles(edges)
    report = "\n".join(cycle.describe() for cycle in found)
    print(report)
    assert not found, f"{len(found)} import cycle(s) among qec modules (one shown per cycle):\n{report}"


def test_every_qec_import_names_a_module_of_the_package(graph):
    _, _, unknown = graph
    assert not unknown, "imports of qec modules that do not exist:\n" + "\n".join(e.describe() for e in unknown)


def test_the_graph_reads_lazy_relative_and_submodule_imports(tmp_path):
    package = tmp_path / "demo"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from qec.x.sub import thing\n")
    (package / "sub" / "__init__.py").write_text("thing = 1\n")
    (package / "sub" / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from qec.x.sub import b\n"
        "def f():\n    from . import b\n"
    )
    (package / "sub" / "b.py").write_text("from ..sub import a\nimport qec.x.sub\n")
    files = {
        "qec.x": package / "__init__.py",
        "qec.x.sub": package / "sub" / "__init__.py",
        "qec.x.sub.a": package / "sub" / "a.py",
        "qec.x.sub.b": package / "sub" / "b.py",
    }
    edges, unknown = imports(files)
    assert sorted((e.source, e.target) for e in edges) == [
        ("qec.x", "qec.x.sub"),
        ("qec.x.sub.a", "qec.x.sub.b"),
        ("qec.x.sub.b", "qec.x.sub"),
        ("qec.x.sub.b", "qec.x.sub.a"),
    ]
    assert not unknown
    (cycle,) = cycles(edges)
    assert {(e.source, e.target) for e in cycle.path} == {
        ("qec.x.sub.a", "qec.x.sub.b"),
        ("qec.x.sub.b", "qec.x.sub.a"),
    }
