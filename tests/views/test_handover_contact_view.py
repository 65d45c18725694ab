"""The hand-over screen's "Contact & notice" dialog without a browser: a real tablet file,
the real view-model, Flet's session."""

from __future__ import annotations

from pathlib import Path

import flet as ft

from storeapp.app import make_main
from storeapp.local import LocalStore
from tests.storeapp.builders import order_doc
from tests.views.flet_fake import FletFake
from tests.views.test_pick_view import Services, sign_in, tablet_file


def test_a_mistyped_email_is_corrected_and_the_notice_sent_again(tmp_path: Path) -> None:
    path = tablet_file(
        tmp_path,
        order_doc(
            "W-7",
            [("1", "DOG2", 1)],
            state="staged",
            picked={"1": 1},
            pickup_code="PK7007",
            customer=("Jo Smith", "jo@exmaple.com", "555 0100"),
        ),
    )
    services = Services(path)
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        app.change(app.find(ft.NavigationRail), 2, prop="selected_index")  # Hand-over
        app.submit(app.find(ft.TextField, label="Find order"), "PK7007")
        app.click(app.find(ft.Button, text="Contact & notice"))
        email = app.find(ft.TextField, label="Customer email")
        assert email.value == "jo@exmaple.com"
        app.type(email, "jo at example")
        app.click(app.find(ft.Button, text="Save contact"))
        assert app.text_of("contact-message") == (
            "“jo at example” is not an email address (like name@example.com)."
        )  # the dialog stays open with the words
        app.type(app.find(ft.TextField, label="Customer email"), "jo@example.com")
        app.click(app.find(ft.Button, text="Save contact"))
        assert app.find_all(ft.TextField, label="Customer email") == []  # closed
        assert app.text_of("handover-message") == "Contact corrected."
        assert "W-7 · Jo Smith" in app.texts()
        assert "jo@example.com · 555 0100" in app.texts()
        app.click(app.find(ft.Button, text="Contact & notice"))
        app.click(app.find(ft.Button, text="Send notice again"))
        assert app.text_of("handover-message") == "The notice goes out again."
    with LocalStore(path) as store:
        assert [(op.type, dict(op.payload)) for op in store.outbox()] == [
            ("order.contact", {"order_id": "W-7", "email": "jo@example.com", "phone": None}),
            ("order.notify", {"order_id": "W-7"}),
        ]
    assert services.errors == [] and services.syncs == 2
