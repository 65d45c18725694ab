"""The returns screen's Print (issue #11 loose end): the receipt of the return just saved,
also one taken on a receipt whose order is not on this tablet; the store printer too."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from storeapp.local import LocalStore
from storeapp.printing import Printers
from storeapp.viewmodels import ReturnsVM, SessionVM
from storeapp.viewmodels.printing import PrintVM
from tests.storeapp.builders import gtin
from tests.storeapp.conftest import FakeClock
from tests.support.printed import text


def _receipt_return(store: LocalStore, ana: SessionVM, clock: FakeClock) -> str:
    returns = ReturnsVM(store, ana, clock=clock)
    returns.without_order("W-77")
    returns.scan(gtin(2))
    before = returns.screen()
    assert before.saved_return_id is None  # nothing to print before it is saved
    done = returns.submit()
    assert done.tone == "ok" and done.saved_return_id is not None
    assert returns.start().saved_return_id is None  # the next customer: no Print
    return done.saved_return_id


def test_the_receipt_of_a_return_without_its_order_opens_and_prints_on_the_store_printer(
    store: LocalStore, ana: SessionVM, clock: FakeClock, tmp_path: Path
) -> None:
    return_id = _receipt_return(store, ana, clock)
    out = tmp_path / "printed.pdf"
    copy = "import sys; open(sys.argv[1], 'wb').write(sys.stdin.buffer.read())"
    lp = f'{sys.executable} -c "{copy}" {out}'  # a stand-in `lp`: the PDF on its stdin
    vm = PrintVM(store, ana, Printers(printer="front", pdf_print_command=lp))
    screen = vm.open_return(return_id)
    assert [(r.kind, r.title, r.to_printer) for r in screen.rows] == [
        ("receipt", "Return receipt", True)
    ]
    assert screen.rows[0].url.startswith(f"/pages/print/receipt/{return_id}.pdf?t=")
    sent = asyncio.run(vm.send("receipt"))
    assert (sent.tone, [r.kind for r in sent.rows]) == ("ok", ["receipt"])  # still this return
    printed = text(out.read_bytes())
    assert f"Return receipt - {return_id}" in printed and "order W-77" in printed


def test_an_unknown_return_or_nobody_signed_in_prints_nothing(
    store: LocalStore, ana: SessionVM, clock: FakeClock, tmp_path: Path
) -> None:
    vm = PrintVM(store, ana)
    unknown = vm.open_return("R-NOPE")
    assert (unknown.rows, unknown.message, unknown.tone) == (
        (),
        "Return R-NOPE is not on this tablet.",
        "error",
    )
    return_id = _receipt_return(store, ana, clock)
    nobody = PrintVM(store, SessionVM(store)).open_return(return_id)
    assert (nobody.rows, nobody.message) == ((), "Sign in first.")
