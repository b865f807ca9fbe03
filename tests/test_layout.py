"""The package layout: rooms depend on each other one way (no import cycle between them).

A room is a sub-package (`wavfusion.data`, `wavfusion.model`, ...) or a top-level module
(`wavfusion.config`, `wavfusion.batching`, ...). The command line (`wavfusion/cli.py`, its
shared options, and each room's `cli.py` or `*_cli.py`) sits above every room: it may import any of them, and no room imports
it. Imports are read with `ast`, lazy ones (inside functions) included.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "wavfusion"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_command_line(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last in ("cli", "cli_options") or last.endswith("_cli")


def _room(module: str) -> str:
    """`wavfusion.data.media` -> `data`; `wavfusion` itself -> `wavfusion`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            # `from wavfusion import atomic` imports the module wavfusion.atomic
            names.update(f"{node.module}.{alias.name}" for alias in node.names
                         if _exists(f"{node.module}.{alias.name}"))
    return {name for name in names if name == "wavfusion" or name.startswith("wavfusion.")}


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:])
    return (PACKAGE / relative).is_dir() or (PACKAGE / relative).with_suffix(".py").is_file()


def _imports() -> list[tuple[str, str]]:
    """(importing module, imported module) for every import of wavfusion in wavfusion."""
    pairs = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module_name(path)
        for target in _imported(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            pairs.append((source, target))
    return pairs


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one room (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for following in sorted(edges.get(node, ())):
            if following not in index:
                visit(following)
                low[node] = min(low[node], low[following])
            elif following in on_stack:
                low[node] = min(low[node], index[following])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_room_imports_the_command_line():
    wrong = [(source, target) for source, target in _imports()
             if _is_command_line(target) and not _is_command_line(source)]
    assert not wrong, f"library modules importing a cli module: {wrong}"


def test_rooms_import_each_other_without_cycles():
    edges: dict[str, set[str]] = defaultdict(set)
    why: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, target in _imports():
        if _is_command_line(source) or _room(source) == _room(target):
            continue
        edges[_room(source)].add(_room(target))
        why[_room(source), _room(target)].append(f"{source} -> {target}")
    cycles = _cycles(edges)
    details = [f"{a} -> {b}: {why[a, b]}" for cycle in cycles for a in cycle for b in cycle
               if (a, b) in why]
    assert not cycles, f"import cycles between rooms {cycles}:\n" + "\n".join(details)


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
