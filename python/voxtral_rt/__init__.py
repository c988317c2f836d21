"""voxtral_rt: Voxtral Realtime speech-to-text on CPUs, offline and streaming.

    import voxtral_rt
    model = voxtral_rt.Model("mistralai/Voxtral-Mini-4B-Realtime-2602", qlinear="8da4w")
    result = model.transcribe("speech.wav")
    print(result.text)
    for segment in result.segments:
        print(f"[{segment.start:.2f} -> {segment.end:.2f}] {segment.text}")

    with model.session() as session:      # live audio
        for chunk in chunks:               # numpy arrays, any size
            print(session.feed(chunk, 16000), end="", flush=True)
        print(session.finish().text)

The engine is the C++ library libvrt.so (include/vrt.h), called through ctypes; the GIL is
released while it computes. docs/PYTHON.md has the whole API and the threading rules.
"""
from ._core import (DEFAULT_MODEL, SAMPLE_RATE, BadAudioError, BadCheckpointError, BadStateError,
                    BadTokenizerError, Error, InternalError, InvalidArgumentError, IoError, Model, NotFoundError,
                    OutOfMemoryError, Segment, Session, Stats, Token, Transcription, UnsupportedModelError, Word,
                    system_info, version)

__version__ = "0.2.0"

__all__ = [
    "DEFAULT_MODEL", "SAMPLE_RATE", "Model", "Session", "Transcription", "Segment", "Word", "Token", "Stats",
    "Error", "InvalidArgumentError", "NotFoundError", "IoError", "BadCheckpointError", "UnsupportedModelError",
    "BadTokenizerError", "BadAudioError", "BadStateError", "OutOfMemoryError", "InternalError", "version",
    "system_info", "__version__",
]
