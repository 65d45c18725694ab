"""Scan validation: GTIN-8/12/13/14 and GS1-128 with AI (01), check digits enforced.

Every GTIN is normalised to its 14-digit form so that a GTIN-13 printed on a
shelf label and the same GTIN inside a GS1-128 carton code compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# biip (≈ 50 ms to import: GS1's prefix tables) is imported by the functions that parse with
# it: normalising a well-formed GTIN, what a snapshot's 50,000 items need, does without it

__all__ = ["InvalidBarcode", "Scan", "check_digit", "normalize_gtin", "parse_scan", "printed_gtin"]


class InvalidBarcode(ValueError):
    """The scanned or typed code is not a valid GTIN or GS1-128 code with a GTIN."""


@dataclass(frozen=True)
class Scan:
    gtin: str  # 14 digits
    raw: str


def check_digit(payload: str) -> str:
    """The GS1 check digit for `payload` (the GTIN without its last digit)."""
    from biip.checksums import gs1_standard_check_digit

    return str(gs1_standard_check_digit(payload))


def parse_scan(code: str) -> Scan:
    """Parse what a scanner (keyboard wedge) or a person typed.

    Raises InvalidBarcode with a sentence a store associate understands.
    Memoised (a store scans the same few thousand codes all day, and parsing
    one costs about 1 ms); a code that fails is parsed again each time.
    """
    return _parse_scan((code or "").strip())


@lru_cache(maxsize=8192)
def _parse_scan(raw: str) -> Scan:
    if not raw:
        raise InvalidBarcode("Nothing was scanned.")
    digits_only = raw.isdigit()
    if digits_only and len(raw) < 14 and len(raw) not in (8, 12, 13):
        raise InvalidBarcode(
            f"{raw} is not a product barcode: a GTIN has 8, 12, 13 or 14 digits, this has {len(raw)}."
        )
    import biip

    result = biip.parse(raw)
    gtin = result.gtin
    if gtin is None and result.gs1_message is not None:
        for element in result.gs1_message.element_strings:
            if element.gtin is not None:
                gtin = element.gtin
                break
    if gtin is None:
        if digits_only:
            raise InvalidBarcode(f"{raw} has a wrong check digit: check the code and scan again.")
        raise InvalidBarcode(f"{raw} is not a product barcode (GTIN or GS1-128 with a GTIN).")
    return Scan(gtin=gtin.as_gtin_14(), raw=raw)


def normalize_gtin(code: str) -> str:
    """A GTIN-8/12/13/14 as 14 digits; raises InvalidBarcode for anything else."""
    raw = (code or "").strip()
    if not (raw.isascii() and raw.isdigit()):  # str.isdigit() alone admits '４' or '²'
        raise InvalidBarcode(f"{raw!r} is not a GTIN: only the digits 0–9 are allowed.")
    if len(raw) in (8, 12, 13, 14) and _check_digit_ok(raw):
        # what biip answers for such a code (tests/fulfillment/test_barcodes.py compares them),
        # without parsing it every way: an OMS catalogue load normalises tens of thousands
        return raw.zfill(14)
    return parse_scan(raw).gtin


def printed_gtin(gtin: str) -> str:
    """The digits a shop's bar code carries for a GTIN kept as GTIN-14 (`normalize_gtin`):
    a leading 0 makes it a GTIN-13, printed as an EAN-13 (what a person reads under it).

    >>> printed_gtin("05039042486119"), printed_gtin("15039042486116")
    ('5039042486119', '15039042486116')
    """
    return gtin[1:] if len(gtin) == 14 and gtin.startswith("0") else gtin


def _check_digit_ok(digits: str) -> bool:
    """The GS1 check digit: weights 3, 1, 3, … from the right, the last digit excluded."""
    # on the ASCII codes (the caller checked for digits 0-9): each weighted digit is its code
    # less 48, summed without an int() per digit (a catalogue load checks tens of thousands)
    code = digits.encode()
    odd, even = code[-2::-2], code[-3::-2]
    total = (sum(odd) - 48 * len(odd)) * 3 + sum(even) - 48 * len(even)
    return (10 - total % 10) % 10 == code[-1] - 48
