"""The one code table: docs/errors.md lists exactly the codes both ends use."""

from __future__ import annotations

import re
from pathlib import Path

from fulfillment.codes import CODES, LINE_CODES, Code, LineCode

ERRORS_MD = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def first_column_codes(heading: str) -> set[str]:
    """The backticked codes in the first column of the markdown table under `heading`."""
    text = ERRORS_MD.read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    codes: set[str] = set()
    for row in rows[2:]:  # header and separator
        first = row.split("|")[1]
        codes.update(re.findall(r"`([A-Z][A-Z_]+)`", first))
    return codes


def test_the_docs_per_op_and_exception_tables_list_exactly_the_codes_of_the_enum() -> None:
    documented = first_column_codes("Per-op results of a push") | first_column_codes(
        "Manager exceptions central opens on its own"
    )
    assert documented == {code.value for code in Code}


def test_every_code_has_its_meaning_and_a_status_the_protocol_knows() -> None:
    assert set(CODES) == set(Code)
    for info in CODES.values():
        assert info.meaning
        assert info.status in (None, "applied", "compensated", "rejected")


def test_the_docs_list_exactly_the_codes_a_till_line_is_refused_with() -> None:
    assert first_column_codes("Till sales: refused lines") == {code.value for code in LineCode}
    assert set(LINE_CODES) == set(LineCode) and all(LINE_CODES.values())
