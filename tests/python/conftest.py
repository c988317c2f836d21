"""Fixtures of the Python package tests: a tiny synthetic checkpoint written by voxtral-rt-synth,
the voxtral-rt CLI of the same build (the expected transcripts), and the published clips.

Environment (tests/python/run.sh sets them): VRT_BINARY_DIR (the build's bin/), VRT_SHARED_DATA,
VRT_SOURCE_DIR.
"""
import json
import os
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

SOURCE = Path(os.environ.get("VRT_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN = Path(os.environ.get("VRT_BINARY_DIR", SOURCE / "build" / "bin"))
DATA = Path(os.environ.get("VRT_SHARED_DATA", SOURCE.parent / "shared" / "data"))

CLIP = DATA / "audio" / "jfk.wav"  # 11 s, 16 kHz mono 16-bit
LONG_CLIP = DATA / "audio" / "night1968_60s_i_dont_want_anyones_life_on_my_hands.wav"


def read_wav(path):
    """int16 samples [frames] or [frames, channels] and the rate, by Python's wave module."""
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2
        a = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
        if w.getnchannels() > 1:
            a = a.reshape(-1, w.getnchannels())
        return a, w.getframerate()


def write_wav(path, samples, rate):
    """A 16-bit WAV by Python's wave module; samples int16 [frames] or [frames, channels]."""
    samples = np.asarray(samples, dtype=np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if samples.ndim == 1 else samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def run_cli(*args):
    """The voxtral-rt CLI's stdout (it must succeed)."""
    r = subprocess.run([str(BIN / "voxtral-rt"), *map(str, args)], capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout


def cli_transcript(model_dir, audio):
    """The CLI's JSON transcript of one file: {"text", "tokens": [{"id", ...}], ...}."""
    return json.loads(run_cli("transcribe", "--no-progress", "-t", "2", "-m", model_dir, "-f", "json", audio))


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A tiny checkpoint whose weights are large enough that its tokens vary with the audio."""
    d = tmp_path_factory.mktemp("tiny")
    subprocess.run([str(BIN / "voxtral-rt-synth"), "-q", "--config", "tiny", "--seed", "7", "--weight-scale", "1.6",
                    "--vocab-ranks", "400", "-o", str(d)], check=True, timeout=300)
    return d


@pytest.fixture(scope="session")
def model(model_dir):
    import voxtral_rt
    return voxtral_rt.Model(model_dir, threads=2)


@pytest.fixture(scope="session")
def clip():
    """jfk.wav as int16 samples."""
    samples, rate = read_wav(CLIP)
    assert rate == 16000 and samples.ndim == 1
    return samples
