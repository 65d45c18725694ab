"""Flet screens: each renders a view-model's frozen screen and turns each event into
one view-model call. `start_session` wires one browser session."""

from .frame import start_session

__all__ = ["start_session"]
