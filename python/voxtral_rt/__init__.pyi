# Type stubs of the public API (python/tests/test_api.py checks them against the module).
import os
from dataclasses import dataclass
from typing import ClassVar, Iterable, Iterator, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
DEFAULT_MODEL: str
SAMPLE_RATE: int

AudioArray = Union[npt.NDArray[np.float32], npt.NDArray[np.float64], npt.NDArray[np.int16]]
AudioInput = Union[str, os.PathLike[str], bytes, bytearray, memoryview, AudioArray]

class Error(Exception):
    code: ClassVar[int]
    status: ClassVar[str]
    message: str
    def __init__(self, message: str) -> None: ...

class InvalidArgumentError(Error, ValueError): ...
class NotFoundError(Error, FileNotFoundError): ...
class IoError(Error, OSError): ...
class BadCheckpointError(Error): ...
class UnsupportedModelError(Error): ...
class BadTokenizerError(Error): ...
class BadAudioError(Error, ValueError): ...
class BadStateError(Error, RuntimeError): ...
class OutOfMemoryError(Error, MemoryError): ...
class InternalError(Error, RuntimeError): ...

@dataclass(frozen=True)
class Token:
    id: int
    piece: bytes
    special: bool
    time: float

@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str

@dataclass(frozen=True)
class Segment:
    id: int
    start: float
    end: float
    text: str

@dataclass(frozen=True)
class Stats:
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
    text: str
    segments: List[Segment]
    words: List[Word]
    tokens: List[Token]
    stats: Stats

class Model:
    path: str
    def __init__(self, model: Union[str, os.PathLike[str]] = ..., threads: Optional[int] = None,
                 qlinear: Optional[str] = None, qlinear_encoder: Optional[str] = None, kv_cache: str = "f32", *,
                 qembedding: Optional[str] = None, qhead: Optional[str] = None,
                 group_size: Optional[int] = None) -> None: ...
    @property
    def sample_rate(self) -> int: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def default_delay_ms(self) -> int: ...
    @property
    def threads(self) -> int: ...
    @property
    def kv_cache(self) -> str: ...
    @property
    def schemes(self) -> str: ...
    def transcribe(self, audio: AudioInput, sample_rate: Optional[int] = None, delay_ms: Optional[int] = None, *,
                   max_new_tokens: Optional[int] = None, verify_tokens: Optional[int] = None) -> Transcription: ...
    def session(self, delay_ms: Optional[int] = None, *, stop_on_eos: bool = False,
                max_kept_tokens: Optional[int] = None, verify_tokens: Optional[int] = None) -> Session: ...
    def stream(self, chunks: Iterable[AudioArray], sample_rate: Optional[int] = None,
               delay_ms: Optional[int] = None) -> Iterator[str]: ...

class Session:
    sample_rate: Optional[int]
    def __init__(self, model: Model, delay_ms: Optional[int] = None, *, stop_on_eos: bool = False,
                 max_kept_tokens: Optional[int] = None, verify_tokens: Optional[int] = None) -> None: ...
    def __enter__(self) -> Session: ...
    def __exit__(self, *exc: object) -> None: ...
    def feed(self, audio: AudioArray, sample_rate: Optional[int] = None) -> str: ...
    def flush(self) -> str: ...
    def finish(self) -> Transcription: ...
    def snapshot(self) -> Transcription: ...
    def reset(self) -> None: ...
    def close(self) -> None: ...

def version() -> str: ...
def system_info() -> str: ...
