"""The Python package against the CLI (the same engine through another door), Python's own wave
module (an independent WAV writer), the C header (the error codes), and its own promises:
streaming equals offline, bad input raises voxtral_rt.Error subclasses, no growth over long
streams, the GIL released while the engine computes."""
import ast
import gc
import inspect
import re
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import voxtral_rt
from conftest import CLIP, LONG_CLIP, SOURCE, cli_transcript, read_wav, run_cli, write_wav


def ids(result):
    return [t.id for t in result.tokens]


# ---- transcripts equal the CLI's -------------------------------------------------------------


def test_file_bytes_and_array_give_the_cli_transcript(model, model_dir, clip):
    expected = cli_transcript(model_dir, CLIP)
    expected_ids = [t["id"] for t in expected["tokens"]]
    assert len(set(expected_ids)) > 5, "the tiny model must emit varied tokens for this test to mean anything"
    from_file = model.transcribe(CLIP)
    from_str = model.transcribe(str(CLIP))
    from_bytes = model.transcribe(CLIP.read_bytes())
    from_array = model.transcribe(clip, 16000)
    from_default_rate = model.transcribe(clip)
    for r in (from_file, from_str, from_bytes, from_array, from_default_rate):
        assert r.text == expected["text"]
        assert ids(r) == expected_ids
    # Words and segments as the CLI times them.
    assert [(w.word, w.start, w.end) for w in from_file.words] == \
        [(w["text"], w["start"], w["end"]) for w in expected["words"]]
    assert [(s.text, s.start, s.end) for s in from_file.segments] == \
        [(s["text"], s["start"], s["end"]) for s in expected["segments"]]
    assert from_file.stats.audio_s == pytest.approx(11.0)
    assert from_file.stats.generated_tokens == len(expected_ids)


def test_python_m_prints_what_the_cli_prints(model_dir):
    expected = run_cli("transcribe", "--no-progress", "-m", model_dir, CLIP)
    r = subprocess.run([sys.executable, "-m", "voxtral_rt", "-t", "2", "-m", str(model_dir), str(CLIP)],
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout == expected
    r = subprocess.run([sys.executable, "-m", "voxtral_rt", "-m", "/nonexistent/model", str(CLIP)],
                       capture_output=True, timeout=60)
    assert r.returncode == 1
    assert b"not_found" in r.stderr and b"/nonexistent/model" in r.stderr


def test_stereo_44k1_array_equals_the_same_file(model, model_dir, clip, tmp_path):
    # The clip's samples taken as 44.1 kHz audio, left the clip and right the clip halved, written by
    # Python's wave module: the array path must mix and resample exactly as the file decoder does.
    stereo = np.stack([clip, clip // 2], axis=1).astype(np.int16)
    path = tmp_path / "stereo44k1.wav"
    write_wav(path, stereo, 44100)
    expected = cli_transcript(model_dir, path)
    expected_ids = [t["id"] for t in expected["tokens"]]
    assert len(set(expected_ids)) > 5
    for r in (model.transcribe(path),
              model.transcribe(stereo, 44100),
              model.transcribe(stereo.astype(np.float32) / 32768, 44100),
              model.transcribe(stereo.astype(np.float64) / 32768, 44100),
              model.transcribe(np.asfortranarray(stereo), 44100)):  # any memory layout
        assert r.text == expected["text"]
        assert ids(r) == expected_ids
    # Mono at 44.1 kHz differs from the stereo mix (the test can fail).
    assert ids(model.transcribe(clip, 44100)) != expected_ids


# ---- streaming -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_chunks_give_the_offline_transcript(model, clip, seed):
    offline = model.transcribe(clip)
    rng = np.random.default_rng(seed)
    with model.session() as s:
        deltas, i = [], 0
        while i < len(clip):
            n = int(rng.integers(1, 12000))
            deltas.append(s.feed(clip[i:i + n], 16000))
            i += n
        result = s.finish()
    assert ids(result) == ids(offline)
    assert result.text == offline.text
    # Text arrives while audio is fed, not only at the end; the deltas and finish's tail add up.
    assert sum(1 for d in deltas if d) > 3
    assert "".join(deltas) == offline.text[:len("".join(deltas))]


def test_stream_helper_yields_the_whole_text(model, clip):
    offline = model.transcribe(clip)
    chunks = (clip[i:i + 1234] for i in range(0, len(clip), 1234))
    pieces = list(model.stream(chunks, sample_rate=16000))
    assert len(pieces) > 3
    assert "".join(pieces) == offline.text


def test_session_flush_snapshot_reset(model, clip):
    offline = model.transcribe(clip)
    with model.session(stop_on_eos=True) as s:  # stops at </s> as offline transcription does
        text = s.feed(clip)
        text += s.flush()
        assert text == offline.text  # flush decides everything said so far
        snap = s.snapshot()
        assert snap.text == offline.text
        assert ids(snap) == ids(offline)[:len(snap.tokens)]
        s.finish()
        with pytest.raises(voxtral_rt.BadStateError, match="reset"):
            s.feed(clip[:100])
        s.reset()
        s.feed(clip[:8000])
        short = ids(model.transcribe(clip[:8000]))
        assert short[-1] == 2  # this piece ends in </s>
        assert ids(s.finish()) == short
    # A live session (the default) goes on after </s>: the speaker may go on too.
    with model.session() as s:
        s.feed(clip[:8000])
        live = ids(s.finish())
        assert live[:len(short)] == short and len(live) > len(short)


def test_non_default_delay_and_verify_tokens(model, clip):
    base = model.transcribe(clip)
    assert model.transcribe(clip, delay_ms=480).text == base.text  # the tiny model's default is 480
    other = model.transcribe(clip, delay_ms=160)
    assert ids(other) != ids(base)
    with model.session(delay_ms=160) as s:
        s.feed(clip)
        assert ids(s.finish()) == ids(other)
    one = model.transcribe(clip, verify_tokens=1)
    assert ids(one) == ids(base)
    assert one.stats.decode_passes == one.stats.decode_steps
    assert base.stats.decode_passes < base.stats.decode_steps
    capped = model.transcribe(clip, max_new_tokens=7)
    assert ids(capped) == ids(base)[:7]


# ---- bad input raises ------------------------------------------------------------------------


def test_model_errors(model_dir):
    with pytest.raises(voxtral_rt.NotFoundError, match="/nonexistent/model") as e:
        voxtral_rt.Model("/nonexistent/model")
    assert isinstance(e.value, FileNotFoundError) and e.value.code == 2 and e.value.status == "not_found"
    for kwargs, pattern in [({"qlinear": "9w"}, "9w"), ({"kv_cache": "f8"}, "kv_cache"),
                            ({"threads": -1}, "threads"), ({"group_size": 48}, "48"),
                            ({"qembedding": "8da4w"}, "embedding"), ({"threads": 2**40}, "threads"),
                            ({"threads": "2"}, "threads")]:
        with pytest.raises(voxtral_rt.InvalidArgumentError, match=pattern):
            voxtral_rt.Model(model_dir, **kwargs)
    with pytest.raises(voxtral_rt.InvalidArgumentError):
        voxtral_rt.Model(12345)


def test_audio_errors(model, clip, tmp_path):
    nan = clip.astype(np.float32) / 32768
    nan[100] = np.nan
    inf = clip.astype(np.float32) / 32768
    inf[5] = np.inf
    cases = [
        (lambda: model.transcribe(clip.astype(np.int32)), voxtral_rt.InvalidArgumentError, "dtype int32"),
        (lambda: model.transcribe(clip.astype(np.complex64)), voxtral_rt.InvalidArgumentError, "dtype"),
        (lambda: model.transcribe(np.zeros((2, 16000), np.float32)), voxtral_rt.InvalidArgumentError, r"\.T"),
        (lambda: model.transcribe(np.zeros((4, 4, 4), np.float32)), voxtral_rt.InvalidArgumentError, "shape"),
        (lambda: model.transcribe(np.zeros((100, 0), np.float32)), voxtral_rt.InvalidArgumentError, "channels"),
        (lambda: model.transcribe(list(range(100))), voxtral_rt.InvalidArgumentError, "numpy array"),
        (lambda: model.transcribe(nan), voxtral_rt.BadAudioError, "sample 100 is NaN"),
        (lambda: model.transcribe(inf, 22050), voxtral_rt.BadAudioError, "infinite"),
        (lambda: model.transcribe(clip, 0), voxtral_rt.InvalidArgumentError, "sample_rate"),
        (lambda: model.transcribe(clip, -16000), voxtral_rt.InvalidArgumentError, "sample_rate"),
        (lambda: model.transcribe(clip, 1.5), voxtral_rt.InvalidArgumentError, "sample_rate"),
        (lambda: model.transcribe(clip, True), voxtral_rt.InvalidArgumentError, "sample_rate"),
        (lambda: model.transcribe(clip, 4000), voxtral_rt.InvalidArgumentError, "8000"),
        (lambda: model.transcribe(CLIP, 16000), voxtral_rt.InvalidArgumentError, "sample_rate"),
        (lambda: model.transcribe(clip, delay_ms=100), voxtral_rt.InvalidArgumentError, "80"),
        (lambda: model.transcribe(clip, delay_ms=0), voxtral_rt.InvalidArgumentError, "delay_ms"),
        (lambda: model.transcribe(clip, verify_tokens=17), voxtral_rt.InvalidArgumentError, "verify_tokens"),
        (lambda: model.transcribe(clip, max_new_tokens=-1), voxtral_rt.InvalidArgumentError, "max_new_tokens"),
        (lambda: model.transcribe(tmp_path / "missing.wav"), voxtral_rt.NotFoundError, "missing.wav"),
        (lambda: model.transcribe(b"RIFF\x24\x00\x00\x00WAVEfmt "), voxtral_rt.BadAudioError, ""),
        (lambda: model.transcribe(b"these are not audio samples"), voxtral_rt.BadAudioError, ""),
    ]
    for call, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            call()
    # Every one is a voxtral_rt.Error, and the engine is still fine afterwards.
    with pytest.raises(voxtral_rt.Error):
        model.transcribe(nan)
    assert model.transcribe(clip).text
    assert model.transcribe(np.zeros(0, np.float32)).text == ""


def test_session_errors(model, clip):
    s = model.session()
    nan = np.full(1600, np.nan, np.float32)
    with pytest.raises(voxtral_rt.BadAudioError):
        s.feed(nan)
    with pytest.raises(voxtral_rt.InvalidArgumentError):
        s.feed(clip, 0)
    with pytest.raises(voxtral_rt.InvalidArgumentError):
        s.feed(clip.tolist())
    s.feed(clip[:4000], 16000)
    with pytest.raises(voxtral_rt.InvalidArgumentError, match="16000 Hz"):
        s.feed(clip[4000:8000], 44100)
    s.feed(clip[4000:], 16000)  # the refused chunks left no trace
    assert ids(s.finish()) == ids(model.transcribe(clip))
    with pytest.raises(voxtral_rt.BadStateError):
        s.feed(clip[:100])
    with pytest.raises(voxtral_rt.BadStateError):
        s.finish()
    s.close()
    s.close()
    with pytest.raises(voxtral_rt.BadStateError, match="closed"):
        s.feed(clip[:100])
    with pytest.raises(voxtral_rt.InvalidArgumentError):
        model.session(delay_ms=100)
    with pytest.raises(voxtral_rt.InvalidArgumentError):
        model.session(max_kept_tokens=-5)


def test_error_codes_are_the_c_headers(model):
    # The values of enum vrt_status in include/vrt.h, read from the header.
    header = (SOURCE / "include" / "vrt.h").read_text()
    codes = {m.group(1).lower(): int(m.group(2)) for m in re.finditer(r"VRT_STATUS_(\w+) = (\d+)", header)}
    classes = [c for c in vars(voxtral_rt).values()
               if isinstance(c, type) and issubclass(c, voxtral_rt.Error) and c is not voxtral_rt.Error]
    assert len(classes) == len(codes) - 1  # every status but ok
    for c in classes:
        assert codes[c.status] == c.code, c


def test_a_session_serves_one_thread_at_a_time(model, clip):
    s = model.session()
    long_chunk = np.tile(clip, 8)  # 88 s: most of a second of compute
    errors, done = [], threading.Event()

    def feeder():
        try:
            while True:  # until it gets the session (the main thread may hold it for a moment)
                try:
                    s.feed(long_chunk)
                    return
                except voxtral_rt.BadStateError:
                    continue
        finally:
            done.set()

    t = threading.Thread(target=feeder)
    t.start()
    time.sleep(0.02)
    while not done.is_set():
        try:
            s.feed(clip[:160])
        except voxtral_rt.BadStateError as e:
            errors.append(e)
            break
    t.join()
    assert errors and "another thread" in str(errors[0])
    s.close()


# ---- resources and threads -------------------------------------------------------------------


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_memory_does_not_grow_over_thousands_of_feeds(model, clip):
    chunk = clip[:160]  # 10 ms
    with model.session(max_kept_tokens=64) as s:
        for _ in range(1000):
            s.feed(chunk)
        gc.collect()
        tracemalloc.start()
        rss0 = rss_bytes()
        py0 = tracemalloc.get_traced_memory()[0]
        for _ in range(4000):
            s.feed(chunk)
        gc.collect()
        py1 = tracemalloc.get_traced_memory()[0]
        rss1 = rss_bytes()
        tracemalloc.stop()
    # 4000 feeds of 640 bytes: keeping each chunk (or its ctypes objects) would hold >= 2.5 MB.
    assert py1 - py0 < 256 * 1024
    assert rss1 - rss0 < 16 * 1024 * 1024


def test_another_thread_runs_while_transcribe_computes(model_dir):
    model = voxtral_rt.Model(model_dir, threads=1)  # leaves a core for the ticker
    audio, rate = read_wav(LONG_CLIP)
    model.transcribe(audio[:16000], rate)  # warm up
    audio = np.concatenate([audio] * 3)  # long enough to tell on a fast machine (0.15 s once)
    stamps, stop = [], threading.Event()

    def ticker():
        while not stop.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    time.sleep(0.05)
    start = time.perf_counter()
    model.transcribe(audio, rate)
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in stamps if start <= x <= end]
    assert end - start > 0.2, "the call must be long enough to tell"
    gaps = np.diff([start, *during, end])
    # Holding the GIL would stop the ticker for the whole call.
    assert gaps.max() < (end - start) / 4, (gaps.max(), end - start)


def test_threads_share_a_model(model, clip):
    expected = ids(model.transcribe(clip))
    results = [None] * 3

    def work(i):
        results[i] = ids(model.transcribe(clip[: 16000 * (4 + i)]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, r in enumerate(results):
        assert r == ids(model.transcribe(clip[: 16000 * (4 + i)]))
    assert expected


# ---- the package's surface -------------------------------------------------------------------


def test_type_stubs_match_the_module():
    stub = ast.parse((SOURCE / "python" / "voxtral_rt" / "__init__.pyi").read_text())
    public = set(voxtral_rt.__all__)
    stubbed = set()
    for node in stub.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            stubbed.add(node.name)
            obj = getattr(voxtral_rt, node.name)
            members = [(node.name, node, obj)]
            if isinstance(node, ast.ClassDef):
                members = [(f"{node.name}.{f.name}", f, getattr(obj, f.name)) for f in node.body
                           if isinstance(f, ast.FunctionDef)]
                fields = [f.target.id for f in node.body if isinstance(f, ast.AnnAssign)]
                if hasattr(obj, "__dataclass_fields__"):
                    assert fields == list(obj.__dataclass_fields__), node.name
            for name, fn, runtime in members:
                if isinstance(runtime, property):
                    continue
                a = fn.args
                stub_params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
                if a.vararg:
                    stub_params.append("*" + a.vararg.arg)
                runtime_params = [("*" + p.name if p.kind == p.VAR_POSITIONAL else p.name)
                                  for p in inspect.signature(runtime).parameters.values()]
                if isinstance(obj, type) and runtime_params[:1] != ["self"]:
                    runtime_params.insert(0, "self")
                assert stub_params == runtime_params, name
        elif isinstance(node, ast.AnnAssign):
            stubbed.add(node.target.id)
    assert public - stubbed == set()


def test_version_and_system_info():
    assert voxtral_rt.version() == voxtral_rt.__version__
    info = voxtral_rt.system_info()
    assert info.startswith("voxtral-rt " + voxtral_rt.__version__) and "isa " in info


def test_live_stdin_example_prints_the_offline_transcript(model, model_dir, clip):
    script = SOURCE / "python" / "examples" / "live_stdin.py"
    r = subprocess.run([sys.executable, str(script), str(model_dir)], input=clip.astype("<i2").tobytes(),
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == model.transcribe(clip).text + "\n"
