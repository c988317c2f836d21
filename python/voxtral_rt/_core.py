"""Model, Session, Transcription and the error classes, over the C API (_lib)."""
from __future__ import annotations

import ctypes
import numbers
import os
import threading
from dataclasses import dataclass
from typing import Iterable, Iterator, List, Optional, Tuple, Union

import numpy as np

from . import _lib
from ._lib import lib

DEFAULT_MODEL = "mistralai/Voxtral-Mini-4B-Realtime-2602"
SAMPLE_RATE = 16000  # the model's input rate; arrays without a sample_rate are taken to be at it
MAX_CHANNELS = 8  # as for files (vrt.h: vrt_transcribe_pcm)

# ---------------------------------------------------------------------------------------------
# Errors: one class per vrt_status, each also deriving from the closest built-in exception so
# that `except ValueError` / `except FileNotFoundError` code keeps working.


class Error(Exception):
    """An error reported by the engine. `code` is the C API's vrt_status value, `status` its name."""

    code: int = 10
    status: str = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidArgumentError(Error, ValueError):
    """An argument outside the documented contract (type, range, shape)."""
    code, status = 1, "invalid_argument"


class NotFoundError(Error, FileNotFoundError):
    """A model, file or directory that does not exist."""
    code, status = 2, "not_found"


class IoError(Error, OSError):
    """The OS refused a read, write or mmap."""
    code, status = 3, "io_error"


class BadCheckpointError(Error):
    """A checkpoint file that is corrupt or inconsistent."""
    code, status = 4, "bad_checkpoint"


class UnsupportedModelError(Error):
    """A well-formed checkpoint this engine does not support."""
    code, status = 5, "unsupported_model"


class BadTokenizerError(Error):
    """A tekken.json that is corrupt or violates its invariants."""
    code, status = 6, "bad_tokenizer"


class BadAudioError(Error, ValueError):
    """Audio that cannot be decoded, breaks the limits, or holds NaN/infinite samples."""
    code, status = 7, "bad_audio"


class BadStateError(Error, RuntimeError):
    """A call made in the wrong order (feed after finish), or a session used by two threads at once."""
    code, status = 8, "bad_state"


class OutOfMemoryError(Error, MemoryError):
    """An allocation failed or would exceed a limit."""
    code, status = 9, "out_of_memory"


class InternalError(Error, RuntimeError):
    """A bug in the engine: please report it with the message."""
    code, status = 10, "internal"


_ERRORS = {cls.code: cls for cls in (InvalidArgumentError, NotFoundError, IoError, BadCheckpointError,
                                     UnsupportedModelError, BadTokenizerError, BadAudioError, BadStateError,
                                     OutOfMemoryError, InternalError)}


def _check(status: int) -> None:
    if status != 0:
        raise _ERRORS.get(status, InternalError)(lib.vrt_last_error().decode("utf-8", "replace"))


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Token:
    """One generated token: `piece` holds its bytes (a text fragment, or a special token's name)."""
    id: int
    piece: bytes
    special: bool
    time: float  # seconds of audio it refers to (docs/TIMESTAMPS.md)


@dataclass(frozen=True)
class Word:
    """A word with its timing in seconds (docs/TIMESTAMPS.md)."""
    start: float
    end: float
    word: str


@dataclass(frozen=True)
class Segment:
    """A subtitle line: words up to . ! ?, a pause of 1 s or 84 characters."""
    id: int
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Stats:
    """Timings (milliseconds) and counts of one transcription."""
    audio_s: float
    mel_ms: float
    encoder_ms: float
    prefill_ms: float
    decode_ms: float
    total_ms: float
    prefill_positions: int
    cached_positions: int
    decode_steps: int
    decode_passes: int
    generated_tokens: int


@dataclass(frozen=True)
class Transcription:
    """The result of Model.transcribe() or Session.finish()."""
    text: str
    segments: List[Segment]
    words: List[Word]
    tokens: List[Token]
    stats: Stats


def _text(pointer: Optional[int], size: int) -> str:
    return _lib.string_at(pointer, size).decode("utf-8", "replace")


def _take_transcript(handle: ctypes.c_void_p) -> Transcription:
    """Copies a vrt_transcript into Python objects and frees it."""
    h = handle.value
    try:
        text = _text(lib.vrt_transcript_text(h), lib.vrt_transcript_text_len(h))
        tokens, words, segments = [], [], []
        t, w, s = _lib.Token(), _lib.Word(), _lib.Segment()
        for i in range(lib.vrt_transcript_n_tokens(h)):
            _check(lib.vrt_transcript_token(h, i, ctypes.byref(t)))
            tokens.append(Token(t.id, _lib.string_at(t.piece, t.piece_len), bool(t.special), t.time_s))
        for i in range(lib.vrt_transcript_n_words(h)):
            _check(lib.vrt_transcript_word(h, i, ctypes.byref(w)))
            words.append(Word(w.start_s, w.end_s, _text(w.text, w.text_len)))
        for i in range(lib.vrt_transcript_n_segments(h)):
            _check(lib.vrt_transcript_segment(h, i, ctypes.byref(s)))
            segments.append(Segment(i, s.start_s, s.end_s, _text(s.text, s.text_len)))
        st = _lib.Stats()
        st.size = ctypes.sizeof(st)
        _check(lib.vrt_transcript_stats(h, ctypes.byref(st)))
        stats = Stats(st.audio_s, st.mel_ms, st.encoder_ms, st.prefill_ms, st.decode_ms, st.total_ms,
                      st.prefill_positions, st.cached_positions, st.decode_steps, st.decode_passes,
                      st.generated_tokens)
        return Transcription(text, segments, words, tokens, stats)
    finally:
        lib.vrt_transcript_free(h)


# ---------------------------------------------------------------------------------------------
# Argument checks: Python values that ctypes would silently truncate or misread are refused here.

_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1


def _int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(f"{name} must be an integer, got {type(value).__name__}")
    if not lo <= int(value) <= hi:
        raise InvalidArgumentError(f"{name} must be in {lo}..{hi}, got {value}")
    return int(value)


def _rate(sample_rate: Optional[int]) -> int:
    if sample_rate is None:
        return SAMPLE_RATE
    try:
        return _int("sample_rate", sample_rate, 1, _INT32_MAX)
    except InvalidArgumentError:
        raise InvalidArgumentError(f"sample_rate must be a positive whole number of Hz, got {sample_rate!r}") from None


def _frames(audio: object, sample_rate: Optional[int]) -> Tuple[np.ndarray, int, int]:
    """A float32 C-contiguous [frames, channels] copy or view of `audio`, its channels and rate."""
    if not isinstance(audio, np.ndarray):
        raise InvalidArgumentError(f"audio must be a numpy array, got {type(audio).__name__}")
    if audio.dtype == np.int16:
        a = audio.astype(np.float32) * np.float32(1.0 / 32768.0)  # as libsndfile reads 16-bit files (exact)
    elif audio.dtype in (np.float32, np.float64):
        a = audio.astype(np.float32, copy=False)
    else:
        raise InvalidArgumentError(f"audio must be float32, float64 or int16 samples, got dtype {audio.dtype}")
    if a.ndim == 1:
        channels = 1
    elif a.ndim == 2:
        channels = a.shape[1]
        if not 1 <= channels <= MAX_CHANNELS:
            hint = " (a [channels, frames] array needs .T)" if 1 <= a.shape[0] <= MAX_CHANNELS else ""
            raise InvalidArgumentError(f"audio must be [frames, channels] with 1..{MAX_CHANNELS} channels, "
                                       f"got shape {a.shape}{hint}")
    else:
        raise InvalidArgumentError(f"audio must be 1-D (mono) or 2-D [frames, channels], got shape {a.shape}")
    return np.ascontiguousarray(a), channels, _rate(sample_rate)


def _floats(a: np.ndarray) -> "ctypes._Pointer[ctypes.c_float]":
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


def _delay(delay_ms: Optional[int]) -> int:
    # 0 is the C API's "default"; from Python the default is None, so 0 is a mistake.
    return 0 if delay_ms is None else _int("delay_ms", delay_ms, 1, _INT32_MAX)


def _verify(verify_tokens: Optional[int]) -> int:
    return 0 if verify_tokens is None else _int("verify_tokens", verify_tokens, 0, _INT32_MAX)


AudioInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, np.ndarray]

# ---------------------------------------------------------------------------------------------
# Model


class Model:
    """A loaded Voxtral Realtime checkpoint.

    `model` is a checkpoint directory, a packed .vxrt file, or a Hugging Face repo id found in the
    local Hugging Face cache (nothing is downloaded; scripts/download-model.sh fetches it). Weight
    schemes (`qlinear`, ...) are the CLI's: "native", "f32", "bf16", "8w", "4w", "8da8w", "8da4w".
    A Model is immutable and may be used from several threads at once.
    """

    def __init__(self, model: Union[str, "os.PathLike[str]"] = DEFAULT_MODEL, threads: Optional[int] = None,
                 qlinear: Optional[str] = None, qlinear_encoder: Optional[str] = None, kv_cache: str = "f32", *,
                 qembedding: Optional[str] = None, qhead: Optional[str] = None,
                 group_size: Optional[int] = None) -> None:
        self._handle: Optional[int] = None
        if not isinstance(model, (str, os.PathLike)):
            raise InvalidArgumentError(f"model must be a path or a repo id, got {type(model).__name__}")
        params = lib.vrt_model_default_params()
        if threads is not None:
            params.threads = _int("threads", threads, 0, _INT32_MAX)
        if kv_cache not in _lib.KV_CACHE:
            raise InvalidArgumentError(f"kv_cache must be one of {sorted(_lib.KV_CACHE)}, got {kv_cache!r}")
        params.kv_cache = _lib.KV_CACHE[kv_cache]
        if group_size is not None:
            params.group_size = _int("group_size", group_size, 1, _INT32_MAX)
        for name, value in (("qlinear", qlinear), ("qlinear_encoder", qlinear_encoder),
                            ("qembedding", qembedding), ("qhead", qhead)):
            if value is not None:
                if not isinstance(value, str):
                    raise InvalidArgumentError(f"{name} must be a scheme name, got {type(value).__name__}")
                setattr(params, name, value.encode())
        handle = ctypes.c_void_p()
        _check(lib.vrt_model_load(os.fsencode(model), ctypes.byref(params), ctypes.byref(handle)))
        self._handle = handle.value
        self.path = os.fspath(model)

    def __del__(self) -> None:
        if getattr(self, "_handle", None):
            lib.vrt_model_free(self._handle)
            self._handle = None

    def __repr__(self) -> str:
        return f"voxtral_rt.Model({self.path!r}, threads={self.threads}, kv_cache={self.kv_cache!r}, {self.schemes})"

    @property
    def sample_rate(self) -> int:
        """The model's input rate (16000); other rates are resampled."""
        return lib.vrt_model_sample_rate(self._handle)

    @property
    def vocab_size(self) -> int:
        return lib.vrt_model_vocab_size(self._handle)

    @property
    def default_delay_ms(self) -> int:
        """The checkpoint's transcription delay (480 ms for the real model)."""
        return lib.vrt_model_default_delay_ms(self._handle)

    @property
    def threads(self) -> int:
        return lib.vrt_model_threads(self._handle)

    @property
    def kv_cache(self) -> str:
        return _lib.KV_CACHE_NAMES[lib.vrt_model_kv_cache(self._handle)]

    @property
    def schemes(self) -> str:
        """The weight schemes in use, e.g. "linear=8da4w encoder=8da4w embedding=8w head=8da4w group=32"."""
        return lib.vrt_model_schemes(self._handle).decode()

    def transcribe(self, audio: AudioInput, sample_rate: Optional[int] = None, delay_ms: Optional[int] = None, *,
                   max_new_tokens: Optional[int] = None, verify_tokens: Optional[int] = None) -> Transcription:
        """Transcribes a whole recording.

        `audio` is a file path (WAV, FLAC, Ogg Vorbis/Opus, MP3), the bytes of such a file, or a
        numpy array of float32/float64 (nominally in [-1, 1]) or int16 samples, mono or
        [frames, channels], at `sample_rate` Hz (default 16000; 8000 to 192000). Channels are
        averaged and the rate converted as for a file, so an array gives the file's transcript.
        `delay_ms`: 80 to 1200 in steps of 80, or 2400 (default: the model's). `verify_tokens`:
        positions checked per decoder pass (0/None: 4); it changes speed, never the output.
        """
        params = lib.vrt_transcribe_default_params()
        params.delay_ms = _delay(delay_ms)
        params.verify_tokens = _verify(verify_tokens)
        if max_new_tokens is not None:
            params.max_new_tokens = _int("max_new_tokens", max_new_tokens, 0, _INT64_MAX)
        out = ctypes.c_void_p()
        if isinstance(audio, (str, os.PathLike)):
            if sample_rate is not None:
                raise InvalidArgumentError("sample_rate is for arrays; a file says its own rate")
            status = lib.vrt_transcribe_file(self._handle, os.fsencode(audio), ctypes.byref(params), ctypes.byref(out))
        elif isinstance(audio, (bytes, bytearray, memoryview)):
            if sample_rate is not None:
                raise InvalidArgumentError("sample_rate is for arrays; a file says its own rate")
            data = bytes(audio)
            status = lib.vrt_transcribe_memory(self._handle, data, len(data), ctypes.byref(params), ctypes.byref(out))
        else:
            frames, channels, rate = _frames(audio, sample_rate)
            status = lib.vrt_transcribe_pcm(self._handle, _floats(frames), frames.shape[0], channels, rate,
                                            ctypes.byref(params), ctypes.byref(out))
        _check(status)
        return _take_transcript(out)

    def session(self, delay_ms: Optional[int] = None, *, stop_on_eos: bool = False,
                max_kept_tokens: Optional[int] = None, verify_tokens: Optional[int] = None) -> "Session":
        """A streaming session on this model (see Session)."""
        return Session(self, delay_ms=delay_ms, stop_on_eos=stop_on_eos, max_kept_tokens=max_kept_tokens,
                       verify_tokens=verify_tokens)

    def stream(self, chunks: Iterable[np.ndarray], sample_rate: Optional[int] = None,
               delay_ms: Optional[int] = None) -> Iterator[str]:
        """Feeds `chunks` to a new session and yields each piece of text as it is decided, the
        end of the stream's last words included."""
        with self.session(delay_ms) as s:
            for chunk in chunks:
                text = s.feed(chunk, sample_rate)
                if text:
                    yield text
            text, _ = s._finish()
            if text:
                yield text


# ---------------------------------------------------------------------------------------------
# Session


class Session:
    """A live stream: feed audio as it arrives, get the text each call decides.

    Fed the same audio, a session gives Model.transcribe()'s tokens whatever the chunk sizes. A
    session serves one thread at a time (a second thread gets BadStateError); several sessions
    may share one Model. Use it as a context manager, or call close().
    """

    def __init__(self, model: Model, delay_ms: Optional[int] = None, *, stop_on_eos: bool = False,
                 max_kept_tokens: Optional[int] = None, verify_tokens: Optional[int] = None) -> None:
        self._handle: Optional[int] = None
        self._lock = threading.Lock()
        pending: List[bytes] = []
        self._pending = pending
        # The callback closes over the list, not over self: no reference cycle through C.
        self._on_text = _lib.TEXT_CALLBACK(lambda text, size, _user: pending.append(ctypes.string_at(text, size)))
        params = lib.vrt_session_default_params()
        params.delay_ms = _delay(delay_ms)
        params.stop_on_eos = 1 if stop_on_eos else 0
        params.verify_tokens = _verify(verify_tokens)
        if max_kept_tokens is not None:
            params.max_kept_tokens = _int("max_kept_tokens", max_kept_tokens, 0, _INT64_MAX)
        params.on_text = self._on_text
        handle = ctypes.c_void_p()
        _check(lib.vrt_session_new(model._handle, ctypes.byref(params), ctypes.byref(handle)))
        self._handle = handle.value
        self.sample_rate: Optional[int] = None  # the rate of this stream, fixed by its first feed

    def __del__(self) -> None:
        if getattr(self, "_handle", None):
            lib.vrt_session_free(self._handle)
            self._handle = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, fn, *args) -> str:  # type: ignore[no-untyped-def]
        """Runs one C call under the session's lock; returns the text its callbacks delivered."""
        if not self._lock.acquire(blocking=False):
            raise BadStateError("this session is in use by another thread (a session serves one thread at a time)")
        try:
            if self._handle is None:
                raise BadStateError("the session is closed")
            self._pending.clear()
            _check(fn(self._handle, *args))
            return b"".join(self._pending).decode("utf-8", "replace")
        finally:
            self._pending.clear()
            self._lock.release()

    def feed(self, audio: np.ndarray, sample_rate: Optional[int] = None) -> str:
        """Appends audio (a numpy array, as for Model.transcribe) and returns the text this call
        decided ("" when none). The rate must stay the same within a stream."""
        frames, channels, rate = _frames(audio, sample_rate)
        if self.sample_rate is not None and rate != self.sample_rate:
            raise InvalidArgumentError(f"this stream is at {self.sample_rate} Hz; got {rate} Hz "
                                       "(reset() starts a new stream)")
        text = self._call(lib.vrt_session_feed_pcm, _floats(frames), frames.shape[0], channels, rate)
        self.sample_rate = rate
        return text

    def flush(self) -> str:
        """Decides everything said so far (appends the end-of-stream silence); the stream goes on."""
        return self._call(lib.vrt_session_flush)

    def _finish(self) -> Tuple[str, Transcription]:
        out = ctypes.c_void_p()
        text = self._call(lib.vrt_session_finish, ctypes.byref(out))
        return text, _take_transcript(out)

    def finish(self) -> Transcription:
        """Ends the stream and returns the whole transcript; feed() then needs reset()."""
        return self._finish()[1]

    def snapshot(self) -> Transcription:
        """The transcript so far; the stream goes on."""
        out = ctypes.c_void_p()
        self._call(lib.vrt_session_snapshot, ctypes.byref(out))
        return _take_transcript(out)

    def reset(self) -> None:
        """Starts a new stream with the same settings."""
        self._call(lib.vrt_session_reset)
        self.sample_rate = None

    def close(self) -> None:
        """Releases the session (idempotent)."""
        if not self._lock.acquire(blocking=False):
            raise BadStateError("this session is in use by another thread")
        try:
            if self._handle is not None:
                lib.vrt_session_free(self._handle)
                self._handle = None
        finally:
            self._lock.release()


def version() -> str:
    """The engine's version, e.g. "0.2.0"."""
    return lib.vrt_version().decode()


def system_info() -> str:
    """The build and the machine in one line: version, kernel table (ISA), CPU features, threads."""
    return lib.vrt_system_info().decode()
