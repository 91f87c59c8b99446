"""Mappings: which objects of two connectors correspond and how their fields translate.

A YAML file (see ``docs/mapping.md``) is loaded with its positions, validated (pydantic for the
shape, the connectors' ``ObjectSpec`` for names and paths), and compiled into
:class:`PairMapping` objects whose ``project``/``render``/``match_key`` the reconciler calls.

    m = load_mapping("mappings/freshbooks-stripe.yaml", fb.objects(), stripe.objects())
    for pair in m.pairs:            # referenced pairs first
        common = pair.project("left", record.fields, ledger_refs)
"""

from syncengine.mapping.compile import CompiledMapping, PairMapping
from syncengine.mapping.errors import RecordMappingError, UnresolvedRef
from syncengine.mapping.fields import FieldMapping
from syncengine.mapping.loader import load_mapping
from syncengine.mapping.transforms import NO_REFS, RefResolver, Side, Transform

__all__ = [
    "NO_REFS",
    "CompiledMapping",
    "FieldMapping",
    "PairMapping",
    "RecordMappingError",
    "RefResolver",
    "Side",
    "Transform",
    "UnresolvedRef",
    "load_mapping",
]
