"""Field and rail labels a person can read, and the tones a scan asks for, without a
browser (issue #10, finding 11): Chromium draws Flutter on a canvas, so the label's font
size is not in the DOM; the tones are counted on a 1 px node the browser tests read."""

from __future__ import annotations

from pathlib import Path

import flet as ft

from storeapp.app import make_main
from tests.storeapp.builders import gtin14_of
from tests.views.flet_fake import FletFake
from tests.views.test_count_view import COUNT, count_tablet
from tests.views.test_pick_view import Services, sign_in


def test_field_and_rail_labels_are_16_px_on_every_screen(tmp_path: Path) -> None:
    with FletFake(make_main(Services(count_tablet(tmp_path)).app)) as app:
        sign_in(app)
        rail = app.find(ft.NavigationRail)
        for style in (rail.selected_label_text_style, rail.unselected_label_text_style):
            assert style is not None and style.size is not None and style.size >= 16
        seen = 0
        for index in range(len(rail.destinations)):
            app.change(app.find(ft.NavigationRail), index, prop="selected_index")
            for field in app.find_all(ft.TextField):
                style = field.label_style
                assert style is not None and (style.size or 0) >= 16, (index, field.label)
                seen += 1
            for dropdown in app.find_all(ft.Dropdown):
                style = dropdown.label_style
                assert style is not None and (style.size or 0) >= 16, (index, dropdown.label)
        assert seen >= 5  # the scanning screens' fields were looked at


def test_a_scan_counts_its_tone_where_a_browser_test_reads_it(tmp_path: Path) -> None:
    with FletFake(make_main(Services(count_tablet(tmp_path)).app)) as app:
        node = app.page.overlay[0]
        assert isinstance(node, ft.Semantics) and node.identifier == "tone-played"
        assert node.label == "ok 0 · fail 0"
        sign_in(app)
        app.change(app.find(ft.NavigationRail), COUNT, prop="selected_index")
        scan = app.find(ft.TextField, label="Scan item")
        app.submit(scan, gtin14_of("DOG2"))
        assert node.label == "ok 1 · fail 0"
        app.submit(scan, "0000000000000")  # no such item: the error tone
        assert node.label == "ok 1 · fail 1"
        assert (node.content.width, node.content.height) == (1, 1)  # type: ignore[union-attr]
