"""Write a folder of WAV clips for trying `ebnn` on audio without downloading any: three
classes of noisy sounds (a low hum, a whistle, a two-tone chirp), 16-bit mono at 8 kHz, clips of
uneven length (0.0875 to 0.1 s) as recordings are, in ROOT/train/<class>/ and ROOT/test/<class>/.

    .venv/bin/python examples/audio/make_tones.py out/tones [--train 60 --test 20 --seed 0]

The folder is what `ebnn train --data ROOT` reads (docs/data.md, "A folder of WAV clips"):
every clip is padded with silence to the longest (800 frames), so the model's input is
[800, 1]: examples/audio/tones.toml.
"""

import argparse
import wave
from pathlib import Path

import numpy as np

RATE = 8000


def clip(kind: str, frames: int, rng: np.random.Generator) -> np.ndarray:
    """One clip's samples (int16): its class's sound at a random pitch and phase, in noise."""
    t = np.arange(frames) / RATE
    jitter = 1 + 0.05 * rng.standard_normal()
    phase = rng.uniform(0, 2 * np.pi)
    if kind == "hum":
        x = np.sin(2 * np.pi * 150 * jitter * t + phase)
    elif kind == "whistle":
        x = np.sin(2 * np.pi * 1800 * jitter * t + phase)
    else:  # chirp: low then high
        f = np.where(t < t[-1] / 2, 400, 1200) * jitter
        x = np.sin(2 * np.pi * np.cumsum(f) / RATE + phase)
    x = 0.5 * x + 0.25 * rng.standard_normal(frames)
    return (np.clip(x, -1, 1) * 32767).astype("<i2")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--train", type=int, default=60, help="clips per class in train/")
    ap.add_argument("--test", type=int, default=20, help="clips per class in test/")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    for split, count in (("train", args.train), ("test", args.test)):
        for kind in ("hum", "whistle", "chirp"):
            folder = args.root / split / kind
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                samples = clip(kind, int(rng.integers(700, 801)), rng)
                with wave.open(str(folder / f"{i:03d}.wav"), "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(RATE)
                    w.writeframes(samples.tobytes())
    print(f"wrote {3 * (args.train + args.test)} clips to {args.root}")


if __name__ == "__main__":
    main()
