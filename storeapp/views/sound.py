"""Scan tones, played by the browser: "ok" (one short high beep) and "error" (two low beeps).

One `flet_audio.Audio` service per tone and per browser session, created while the
session starts (a service registers with the page in context). The files are in
`storeapp/assets/` (`scripts/make_tones.py` writes them), the directory the app serves.

Playing never breaks a handler: a tablet without sound, a client that refuses
(autoplay policy) or does not answer in time only leaves a line in the log.
"""

from __future__ import annotations

import asyncio
import logging

import flet_audio as fta

from storeapp.viewmodels.screen import Tone

__all__ = ["PLAY_TIMEOUT_S", "TONE_FILES", "Tones"]

log = logging.getLogger(__name__)

PLAY_TIMEOUT_S = 2.0
TONE_FILES: dict[Tone, str] = {"ok": "tone-ok.wav", "error": "tone-error.wav"}


class Tones:
    def __init__(self) -> None:
        # STOP keeps the decoded file: the next scan's tone starts at once.
        self.audio: dict[Tone, fta.Audio] = {
            tone: fta.Audio(src=src, release_mode=fta.ReleaseMode.STOP)
            for tone, src in TONE_FILES.items()
        }

    async def play(self, tone: Tone) -> None:
        """Play `tone` ("ok" or "error"; other tones are silent). Never raises."""
        audio = self.audio.get(tone)
        if audio is None:
            return
        try:
            await asyncio.wait_for(audio.play(), PLAY_TIMEOUT_S)
        except Exception:
            log.debug("tone %s not played", tone, exc_info=True)
