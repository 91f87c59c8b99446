"""A mapping as a Markdown field reference, made from the mapping file and the objects' specs.

Generated rather than written, so the documentation of a ready mapping cannot drift from it:
a test regenerates the shipped documents and compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from syncengine.connector import ObjectSpec
from syncengine.mapping.yaml_source import load_yaml

__all__ = ["describe_mapping"]

_ARROWS = {"both": "⇄", "left_to_right": "→", "right_to_left": "←"}


def _transform_text(spec: Any) -> str:
    if spec is None:
        return ""
    if isinstance(spec, list):
        return ", then ".join(_transform_text(s) for s in spec)
    if isinstance(spec, str):
        return f"`{spec}`"
    if isinstance(spec, dict):
        parts = []
        for name, args in spec.items():
            if name == "default" and "map" in spec:
                continue
            if isinstance(args, dict):
                inner = ", ".join(f"{k}: {v}" for k, v in args.items())
                parts.append(f"`{name}` ({inner})")
            else:
                parts.append(f"`{name}: {args}`")
        if "map" in spec and "default" in spec:
            parts.append(f"default `{spec['default']}`")
        return ", ".join(parts)
    return str(spec)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def describe_mapping(
    path: str | Path,
    left_specs: Mapping[str, ObjectSpec],
    *,
    left_name: str = "left",
    right_name: str = "right",
) -> str:
    """Markdown: per pair its rules, then a row per field (both paths, direction, transform, the
    left field's type and description). The file is assumed valid (run `validate` first)."""
    path = Path(path)
    source = load_yaml(path.read_text(encoding="utf-8"), str(path))
    lines: list[str] = []
    for pair in source.data.get("pairs", []):
        spec = left_specs.get(pair["left"])
        direction = pair.get("direction", "both")
        lines.append(f"### {pair['name']}: {left_name} `{pair['left']}` {_ARROWS[direction]} "
                     f"{right_name} `{pair['right']}`")
        lines.append("")
        if spec is not None and spec.description:
            lines.append(spec.description)
            lines.append("")
        rules = [f"direction `{direction}`", f"conflicts `{pair.get('conflict', 'newest_wins')}`",
                 f"deletes `{pair.get('deletes', 'propagate')}`"]
        match = pair.get("match")
        if match:
            matches = match if isinstance(match, list) else [match]
            rules.append("match " + " and ".join(f"`{m['left']}` = `{m['right']}`" for m in matches))
        lines.append("; ".join(rules) + ".")
        lines.append("")
        lines.append(f"| {left_name} field | type | {right_name} field | flows | transform | meaning |")
        lines.append("|---|---|---|---|---|---|")
        for entry in pair.get("fields", []):
            field = spec.field_at(entry["left"]) if spec is not None else None
            kind: str = field.type if field is not None else ""
            if field is not None and field.read_only:
                kind += ", read-only"
            flows = _ARROWS[entry.get("direction", direction)]
            lines.append(
                f"| `{entry['left']}` | {kind} | `{entry['right']}` | {flows} | "
                f"{_cell(_transform_text(entry.get('transform')))} | {_cell(field.description if field else '')} |"
            )
        lines.append("")
    return "\n".join(lines)
