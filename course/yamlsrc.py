"""Load YAML keeping the line of every value, so errors can say ``file:line``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Located:
    """YAML data plus the 1-based line of every node, keyed by its path."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int:
        """Line of the deepest known node on ``path`` (the file's first line if none)."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return 1


class _Loader(yaml.SafeLoader):
    pass


# libyaml's parser when PyYAML has it (its wheels do): the same nodes and marks, several times faster;
# on a syntax error the pure-Python parser reads the file again for its clearer message
_FAST: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", _Loader)


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], data: Any) -> None:
    lines.setdefault(path, node.start_mark.line + 1)  # a key's own line wins over its value's
    if isinstance(node, yaml.MappingNode) and isinstance(data, dict):
        for key_node, value_node in node.value:
            key = _Loader("").construct_object(key_node, deep=True)
            key = str(key) if not isinstance(key, str) else key
            if key in data:
                lines[(*path, key)] = key_node.start_mark.line + 1
                _walk(value_node, (*path, key), lines, data[key])
    elif isinstance(node, yaml.SequenceNode) and isinstance(data, list):
        for index, (child, value) in enumerate(zip(node.value, data, strict=False)):
            _walk(child, (*path, index), lines, value)


def _str_keys(value: Any) -> Any:
    # YAML reads `1:` as an int key; content keys are always text.
    if isinstance(value, dict):
        return {str(k): _str_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_str_keys(v) for v in value]
    return value


def display_path(root: Path, path: Path, shipped: Path) -> str:
    """How errors name a content file: from the repo root for the shipped content, else from its parent."""
    base = root.parent.parent if root.resolve() == shipped.resolve() else root.parent
    return path.relative_to(base).as_posix()


def _parse(loader_class: type[yaml.SafeLoader], text: str) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (_str_keys(loader.construct_document(node)) if node is not None else None)
    finally:
        loader.dispose()


def load(path: Path, display: str) -> Located:
    """Parse ``path``; raise ``yaml.YAMLError`` (with a mark) on bad syntax."""
    text = path.read_text(encoding="utf-8")
    try:
        node, data = _parse(_FAST, text)
    except yaml.YAMLError:
        node, data = _parse(_Loader, text)  # raises, with the pure parser's wording
    lines: dict[Path_, int] = {}
    if node is not None:
        _walk(node, (), lines, data)
    return Located(display, data, lines)
