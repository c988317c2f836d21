"""ctypes declarations of the C API (include/vrt.h), loaded from the libvrt.so beside this file.

ctypes rather than a compiled extension: the package then rides on the C ABI that vrt.h promises
to keep (no coupling to one Python version's ABI, nothing to compile against Python headers),
and every foreign call releases the GIL while the engine computes.
"""
from __future__ import annotations

import ctypes
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int32, c_int64, c_size_t,
                    c_uint32, c_void_p)
from pathlib import Path

# vrt.h's major.minor this module was written against; the struct layouts below follow it.
ABI_VERSION = (0, 2)


class Token(Structure):
    _fields_ = [("id", c_int32), ("piece", c_void_p), ("piece_len", c_size_t), ("special", c_int32),
                ("time_s", c_double)]


class Word(Structure):
    _fields_ = [("text", c_void_p), ("text_len", c_size_t), ("start_s", c_double), ("end_s", c_double)]


class Segment(Structure):
    _fields_ = [("text", c_void_p), ("text_len", c_size_t), ("start_s", c_double), ("end_s", c_double)]


class Stats(Structure):
    _fields_ = [("size", c_uint32), ("audio_s", c_double), ("mel_ms", c_double), ("encoder_ms", c_double),
                ("prefill_ms", c_double), ("decode_ms", c_double), ("prefill_positions", c_int64),
                ("decode_steps", c_int64), ("generated_tokens", c_int64), ("total_ms", c_double),
                ("cached_positions", c_int64), ("decode_passes", c_int64)]


TOKEN_CALLBACK = CFUNCTYPE(None, POINTER(Token), c_void_p)
TEXT_CALLBACK = CFUNCTYPE(None, c_void_p, c_size_t, c_void_p)


class ModelParams(Structure):
    _fields_ = [("size", c_uint32), ("threads", c_int32), ("kv_cache", c_int32), ("group_size", c_int32),
                ("qlinear", c_char_p), ("qlinear_encoder", c_char_p), ("qembedding", c_char_p),
                ("qhead", c_char_p)]


class TranscribeParams(Structure):
    _fields_ = [("size", c_uint32), ("delay_ms", c_int32), ("max_new_tokens", c_int64),
                ("on_token", TOKEN_CALLBACK), ("user_data", c_void_p), ("verify_tokens", c_int32)]


class SessionParams(Structure):
    _fields_ = [("size", c_uint32), ("delay_ms", c_int32), ("stop_on_eos", c_int32), ("max_kept_tokens", c_int64),
                ("on_token", TOKEN_CALLBACK), ("on_text", TEXT_CALLBACK), ("user_data", c_void_p),
                ("verify_tokens", c_int32)]


KV_CACHE = {"f32": 0, "f16": 1}
KV_CACHE_NAMES = {v: k for k, v in KV_CACHE.items()}

_status = c_int32
_model_p = c_void_p
_transcript_p = c_void_p
_session_p = c_void_p
_floats = POINTER(c_float)

# name: (restype, argtypes)
_SIGNATURES = {
    "vrt_status_name": (c_char_p, [_status]),
    "vrt_version": (c_char_p, []),
    "vrt_system_info": (c_char_p, []),
    "vrt_last_error": (c_char_p, []),
    "vrt_model_default_params": (ModelParams, []),
    "vrt_model_load": (_status, [c_char_p, POINTER(ModelParams), POINTER(_model_p)]),
    "vrt_model_free": (None, [_model_p]),
    "vrt_model_sample_rate": (c_int32, [_model_p]),
    "vrt_model_vocab_size": (c_int32, [_model_p]),
    "vrt_model_default_delay_ms": (c_int32, [_model_p]),
    "vrt_model_threads": (c_int32, [_model_p]),
    "vrt_model_kv_cache": (c_int32, [_model_p]),
    "vrt_model_schemes": (c_char_p, [_model_p]),
    "vrt_transcript_free": (None, [_transcript_p]),
    "vrt_transcript_text": (c_void_p, [_transcript_p]),
    "vrt_transcript_text_len": (c_size_t, [_transcript_p]),
    "vrt_transcript_n_tokens": (c_size_t, [_transcript_p]),
    "vrt_transcript_n_words": (c_size_t, [_transcript_p]),
    "vrt_transcript_n_segments": (c_size_t, [_transcript_p]),
    "vrt_transcript_token": (_status, [_transcript_p, c_size_t, POINTER(Token)]),
    "vrt_transcript_word": (_status, [_transcript_p, c_size_t, POINTER(Word)]),
    "vrt_transcript_segment": (_status, [_transcript_p, c_size_t, POINTER(Segment)]),
    "vrt_transcript_stats": (_status, [_transcript_p, POINTER(Stats)]),
    "vrt_transcribe_default_params": (TranscribeParams, []),
    "vrt_transcribe_file": (_status, [_model_p, c_char_p, POINTER(TranscribeParams), POINTER(_transcript_p)]),
    "vrt_transcribe_memory": (_status, [_model_p, c_void_p, c_size_t, POINTER(TranscribeParams),
                                        POINTER(_transcript_p)]),
    "vrt_transcribe_pcm": (_status, [_model_p, _floats, c_size_t, c_int32, c_int32, POINTER(TranscribeParams),
                                     POINTER(_transcript_p)]),
    "vrt_session_default_params": (SessionParams, []),
    "vrt_session_new": (_status, [_model_p, POINTER(SessionParams), POINTER(_session_p)]),
    "vrt_session_free": (None, [_session_p]),
    "vrt_session_feed_pcm": (_status, [_session_p, _floats, c_size_t, c_int32, c_int32]),
    "vrt_session_flush": (_status, [_session_p]),
    "vrt_session_finish": (_status, [_session_p, POINTER(_transcript_p)]),
    "vrt_session_snapshot": (_status, [_session_p, POINTER(_transcript_p)]),
    "vrt_session_reset": (_status, [_session_p]),
}


def _load() -> ctypes.CDLL:
    # VOXTRAL_RT_LIBRARY points at another build of libvrt.so (development only).
    path = os.environ.get("VOXTRAL_RT_LIBRARY") or str(Path(__file__).resolve().parent / "libvrt.so")
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(f"voxtral_rt: cannot load the engine library {path}: {e}. Reinstall the package "
                          "(pip install --no-build-isolation ./python)") from e
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    version = lib.vrt_version().decode()
    if tuple(int(x) for x in version.split(".")[:2]) != ABI_VERSION:
        raise ImportError(f"voxtral_rt: {path} is version {version}; this package needs "
                          f"{ABI_VERSION[0]}.{ABI_VERSION[1]}.x")
    return lib


lib = _load()


def string_at(pointer: int | None, size: int) -> bytes:
    """The `size` bytes at a char pointer the library owns (b"" for NULL)."""
    return ctypes.string_at(pointer, size) if pointer else b""
