"""Write the scan tones the tablet plays (storeapp/assets/tone-*.wav), with the standard library.

    python scripts/make_tones.py

ok: one short high beep (120 ms, 880 Hz). error: two low beeps (120 ms, 220 Hz, 80 ms apart).
16-bit mono 22.05 kHz PCM, 10 ms fade in/out (no clicks); a few kB each.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22_050
ASSETS = Path(__file__).resolve().parent.parent / "storeapp" / "assets"


def beep(freq: float, ms: int, volume: float = 0.6) -> list[float]:
    n, fade = RATE * ms // 1000, RATE * 10 // 1000
    return [
        volume * min(1.0, i / fade, (n - i) / fade) * math.sin(2 * math.pi * freq * i / RATE)
        for i in range(n)
    ]


def silence(ms: int) -> list[float]:
    return [0.0] * (RATE * ms // 1000)


def write(path: Path, samples: list[float]) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", round(s * 32767)) for s in samples))


def main() -> None:
    ASSETS.mkdir(parents=True, exist_ok=True)
    write(ASSETS / "tone-ok.wav", beep(880, 120))
    write(ASSETS / "tone-error.wav", beep(220, 120) + silence(80) + beep(220, 120))


if __name__ == "__main__":
    main()
