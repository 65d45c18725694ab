"""The store settings an OMS sends: the carriers list is optional and bounded."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fulfillment.model import Policy
from sync.protocol import StorePolicyIn


def test_carriers_default_to_the_policys_and_pass_through() -> None:
    assert StorePolicyIn().carriers == Policy().carriers
    body = StorePolicyIn.model_validate({"carriers": ["Evri", "DPD"]})
    assert Policy.model_validate(body.model_dump()).carriers == ("Evri", "DPD")


@pytest.mark.parametrize("carriers", [[], [""], ["x" * 41], [f"C{i}" for i in range(21)]])
def test_an_empty_or_oversized_carrier_list_is_refused(carriers: list[str]) -> None:
    with pytest.raises(ValidationError):
        StorePolicyIn.model_validate({"carriers": carriers})
