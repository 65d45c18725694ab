from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fulfillment.barcodes import InvalidBarcode, check_digit, normalize_gtin, parse_scan


@pytest.mark.parametrize(
    ("code", "gtin14"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("5012345678900", "05012345678900"),  # GTIN-13
        ("05012345678900", "05012345678900"),  # GTIN-14
        ("]C1010501234567890010ABC123", "05012345678900"),  # GS1-128 with AI (01) and a lot
        ("0105012345678900", "05012345678900"),  # GS1 element string without symbology id
    ],
)
def test_every_gtin_form_normalises_to_14_digits(code: str, gtin14: str) -> None:
    assert parse_scan(code).gtin == gtin14


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("5012345678901", "wrong check digit"),
        ("12345", "has 8, 12, 13 or 14 digits, this has 5"),
        ("hello", "not a product barcode"),
        ("", "Nothing was scanned"),
    ],
)
def test_a_bad_code_is_refused_in_words(code: str, words: str) -> None:
    with pytest.raises(InvalidBarcode, match=words):
        parse_scan(code)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_a_gtin13_made_with_its_check_digit_always_parses(payload: str) -> None:
    code = payload + check_digit(payload)
    assert normalize_gtin(code) == code.zfill(14)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(1, 9))
def test_any_other_check_digit_is_refused(payload: str, shift: int) -> None:
    wrong = str((int(check_digit(payload)) + shift) % 10)
    with pytest.raises(InvalidBarcode):
        normalize_gtin(payload + wrong)


@given(
    st.sampled_from([8, 12, 13, 14]).flatmap(
        lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)
    )
)
def test_normalising_a_digit_code_agrees_with_parsing_it(code: str) -> None:
    # normalize_gtin answers a well-formed code without biip: the same answer, or the same refusal
    try:
        parsed: str | None = parse_scan(code).gtin
    except InvalidBarcode:
        parsed = None
    try:
        normalised: str | None = normalize_gtin(code)
    except InvalidBarcode:
        normalised = None
    assert normalised == parsed


def test_a_code_of_non_ascii_digits_is_never_a_gtin() -> None:
    # full-width digits pass str.isdigit(): a GTIN stored from one would match no scan
    ascii_code = "400000000001" + check_digit("400000000001")
    assert normalize_gtin(ascii_code) == "0" + ascii_code
    wide = ascii_code.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    with pytest.raises(InvalidBarcode):
        normalize_gtin(wide)
