"""The snapshot load writes a document's stored text with orjson (issue #9): for data without
floats it must be the very text `canonical` writes, or the replica checksums (issue #12)
would differ from central's and every first download would be reloaded."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.checksums import canonical, canonical_plain

_text = st.text(st.characters(codec="utf-8"), max_size=12)  # any code point but surrogates
_scalar = st.none() | st.booleans() | st.integers(-(2**63) + 1, 2**63 - 1) | _text
_json = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_text, _json, max_size=8))
def test_the_plain_text_is_the_canonical_text(data: dict[str, Any]) -> None:
    assert canonical_plain(data) == canonical(data)


def test_what_orjson_refuses_still_gets_the_canonical_text() -> None:
    for data in ({"a": "\ud800"}, {"n": 2**70}, {"b": [1, {"c": -(2**65)}]}):
        assert canonical_plain(data) == canonical(data)
