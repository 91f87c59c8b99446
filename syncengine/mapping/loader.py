"""``load_mapping``: text or file -> positions -> checks -> compiled pairs, or every mistake at once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from syncengine.connector import ObjectSpec
from syncengine.errors import ConfigError, ConfigErrors
from syncengine.mapping.compile import CompiledMapping, PairMapping, ref_order
from syncengine.mapping.diagnostics import Problems
from syncengine.mapping.validate import check_document
from syncengine.mapping.yaml_source import load_yaml

__all__ = ["load_mapping"]


def _read(path_or_text: str | Path, source_name: str | None) -> tuple[str, str]:
    """(text, name). A ``Path``, or a one-line string naming an existing file, is read from disk;
    any other string is the YAML itself."""
    if (
        isinstance(path_or_text, Path)
        or ("\n" not in path_or_text and path_or_text.endswith((".yaml", ".yml")))
        or ("\n" not in path_or_text and ":" not in path_or_text and Path(path_or_text).is_file())
    ):
        path = Path(path_or_text)
        name = source_name or str(path)
        try:
            return path.read_text(encoding="utf-8"), name
        except FileNotFoundError:
            raise ConfigErrors([ConfigError(f"mapping file not found: {path}", file=name)]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigErrors([ConfigError(f"cannot read mapping file: {exc}", file=name)]) from None
    return str(path_or_text), source_name or "<mapping>"


def load_mapping(
    path_or_text: str | Path,
    left_specs: Mapping[str, ObjectSpec],
    right_specs: Mapping[str, ObjectSpec],
    *,
    source_name: str | None = None,
) -> CompiledMapping:
    """Load, check and compile a mapping file against the two connectors' object specs.

    Raises :class:`~syncengine.errors.ConfigErrors` listing every mistake (file:line:column)."""
    text, name = _read(path_or_text, source_name)
    source = load_yaml(text, name)
    problems = Problems(source)
    drafts = check_document(problems, left_specs, right_specs)
    problems.raise_if_any()
    return CompiledMapping([PairMapping(d) for d in ref_order(drafts)], source=name)
