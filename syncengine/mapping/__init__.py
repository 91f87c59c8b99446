"""Mappings: which objects of two connectors correspond and how their fields translate.

A YAML file is loaded with its positions (``yaml_source``), its shape validated by pydantic
(``schema``), every name and path checked against the connectors' ``ObjectSpec`` (``validate``),
its transforms built from the registry (``registry``: ``transforms``, ``money``, ``dates``,
``refs``), and compiled into :class:`PairMapping` objects (``compile``) whose ``project`` /
``render`` / ``match_key`` the reconciler calls. Every mistake of a file is reported at once as
:class:`~syncengine.errors.ConfigErrors`, each with file:line:column. The full reference is
``docs/mapping.md``; in short::

    pairs:
      - name: clients                 # unique; other pairs' `ref` use it
        left: clients                 # object on the left connector
        right: customers              # object on the right connector
        direction: both               # both | left_to_right | right_to_left
        conflict: newest_wins         # newest_wins | left_wins | right_wins | manual
        deletes: propagate            # propagate | archive | ignore
        match: {left: email, right: email}
        fields:
          - {left: email, right: email, transform: lower}
          - {left: currency_code, right: currency, transform: [upper, {default: USD}]}
          - {left: outstanding, right: balance_cents, transform: {money: {right: minor, currency_field: currency}}}
          - {left: status, right: state, transform: {map: {"1": draft, "2": sent}, default: draft}}
          - {left: customerid, right: customer_id, transform: {ref: clients}}
          - {left: updated, right: modified_at, transform: {datetime: {left_tz: America/New_York, right: unix}}}
          - {name: total, left: amount.amount, right: total}

Using it::

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
