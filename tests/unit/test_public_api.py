"""The public surface of the engine, pinned: it changes only on purpose (and with this file).
The ledger and the HTTP layer pin theirs in their own test folders."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "syncengine.records": [
        "Money",
        "Record",
        "canonical_bytes",
        "canonical_bytes_stdlib",
        "canonical_decimal",
        "decode_value",
        "encode_value",
        "fields_hash",
        "from_json",
        "get_path",
        "set_path",
        "to_json",
    ],
    "syncengine.connector": [
        "BaseConnector",
        "BatchConnector",
        "Capability",
        "Connector",
        "FieldSpec",
        "FieldType",
        "ObjectSpec",
        "Page",
        "WriteOp",
        "WriteResult",
    ],
    "syncengine.errors": [
        "AuthError",
        "BusyError",
        "ConfigError",
        "ConfigErrors",
        "ConflictError",
        "ConnectorError",
        "NotFoundError",
        "RateLimitedError",
        "RecordError",
        "SyncEngineError",
        "TransientError",
        "UnsupportedError",
        "ValidationError",
        "WriteBlockedError",
    ],
    "syncengine.incremental": ["Watermark", "advance", "decode_cursor", "encode_cursor"],
    "syncengine.currencies": ["ISO_MINOR_UNITS", "is_iso_currency", "minor_unit", "quantum", "round_to_minor_unit"],
    "syncengine.tokens": ["MemoryTokenStore", "TokenSlot", "TokenStore"],
    "syncengine.engine": ["Engine", "RecordKeys", "SyncOptions"],
    "syncengine.reconcile": [
        "Action",
        "MassDeleteError",
        "PairOptions",
        "PairReport",
        "PairSync",
        "RunReport",
        "describe_change",
        "run_pipeline",
    ],
    "syncengine.mapping": [
        "CompiledMapping",
        "FieldMapping",
        "NO_REFS",
        "PairMapping",
        "RecordMappingError",
        "RefResolver",
        "Side",
        "Transform",
        "UnresolvedRef",
        "load_mapping",
    ],
    "syncengine.config": [
        "Config",
        "ConnectorConfig",
        "ConnectorFactory",
        "DaemonSettings",
        "PipelineConfig",
        "Safety",
        "connector_types",
        "load_config",
        "ready_mappings",
        "resolve_mapping",
    ],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_are_pinned(module: str) -> None:
    loaded = importlib.import_module(module)
    assert sorted(loaded.__all__) == PUBLIC[module]
    for name in loaded.__all__:
        assert hasattr(loaded, name), f"{module}.{name} is exported but missing"
