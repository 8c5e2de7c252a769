"""Every entity survives a JSON round trip through the shared converter.

unstructure -> json.dumps -> json.loads -> structure gives back an equal object,
for each type the strategies of :mod:`crmcore.testing.strategies` cover.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.serialization import structure, unstructure
from crmcore.testing.strategies import STRATEGIES, for_type


@pytest.mark.parametrize("cls", list(STRATEGIES), ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_json_round_trip(cls: type[Any], data: st.DataObject) -> None:
    original = data.draw(for_type(cls), label=cls.__name__)
    text = json.dumps(unstructure(original), ensure_ascii=False, allow_nan=False)
    assert structure(json.loads(text), cls) == original


def test_every_model_class_has_a_strategy() -> None:
    import crmcore.model

    model_classes = {
        value for name in crmcore.model.__all__
        if isinstance(value := getattr(crmcore.model, name), type)
        and hasattr(value, "__attrs_attrs__") and name != "EntityType"
    }
    assert model_classes <= set(STRATEGIES)
