#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ (small, deterministic files).

Run from anywhere: python3 fuzz/make_seeds.py. The seeds are checked in; rerun only to change
them. Audio seeds for FLAC, Ogg and MP3 are encoded with the system libsndfile through ctypes
(skipped if it cannot write that format).
"""
import ctypes
import ctypes.util
import json
import math
import os
import struct
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- safetensors

DTYPE_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "I32": 4, "U32": 4, "I64": 8,
              "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1, "F16": 2, "BF16": 2, "F32": 4, "F64": 8}


def safetensors(tensors, metadata=None, data=True):
    """tensors: [(name, dtype, shape)], laid out by decreasing element size as writers do.
    Returns (header bytes 8+N, data size)."""
    order = sorted(tensors, key=lambda t: -DTYPE_SIZE[t[1]])
    hdr = {}
    if metadata is not None:
        hdr["__metadata__"] = metadata
    off = 0
    for name, dt, shape in order:
        n = DTYPE_SIZE[dt] * math.prod(shape)
        hdr[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    text = json.dumps(hdr, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    head = struct.pack("<Q", len(text)) + text.encode()
    return head, off


def st_file(tensors, metadata=None):
    head, n = safetensors(tensors, metadata)
    return head + bytes((i * 7) & 0xFF for i in range(n))


def st_raw(header_text, data_bytes):
    return struct.pack("<Q", len(header_text)) + header_text.encode() + bytes(data_bytes)


def seeds_safetensors():
    t = "fuzz_safetensors"
    put(t, "two_tensors", st_file([("a", "BF16", [2, 3]), ("b", "F32", [4])], {"format": "pt"}))
    put(t, "all_dtypes", st_file([(f"t_{d}", d, [2]) for d in DTYPE_SIZE]))
    put(t, "zero_and_scalar", st_file([("z", "F32", [0, 5]), ("s", "F32", [])]))
    put(t, "rank8", st_file([("r", "U8", [1, 2, 1, 2, 1, 2, 1, 1])]))
    put(t, "empty_object", st_raw("{}      ", 0))
    put(t, "metadata_only", st_raw('{"__metadata__":{"a":"b"}}     ', 0))
    # Hostile shapes from hardening.md §1a (rejected; seeds steer the fuzzer to the checks).
    put(t, "overlap", st_raw('{"a":{"dtype":"U8","shape":[16],"data_offsets":[0,16]},'
                             '"b":{"dtype":"U8","shape":[16],"data_offsets":[0,16]}}', 16))
    put(t, "huge_shape", st_raw('{"a":{"dtype":"F32","shape":[2,18446744073709551614],'
                                '"data_offsets":[0,16]}}', 16))
    put(t, "zero_dim_big", st_raw('{"a":{"dtype":"F32","shape":[140737488355327,65536,0],'
                                  '"data_offsets":[0,0]}}', 0))
    put(t, "exponent_int", st_raw('{"a":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}', 4))
    put(t, "high_len", b"\xff" * 8 + b"{}")


# ---------------------------------------------------------------- params.json

def params(dim=8, layers=1, head_dim=2, hidden=8, heads=2, kv=1, vocab=1256, mels=8,
           edim=8, elayers=1, ehead=2, ehidden=8, eheads=2, ekv=2, ada_dim=2, tied=True):
    aea = {"sampling_rate": 16000, "frame_rate": 12.5, "num_mel_bins": mels, "hop_length": 160,
           "window_size": 400, "chunk_length_s": None, "global_log_mel_max": 1.5,
           "transcription_format": "streaming"}
    ea = {"audio_encoding_args": aea, "dim": edim, "n_layers": elayers, "head_dim": ehead,
          "hidden_dim": ehidden, "n_heads": eheads, "vocab_size": vocab, "n_kv_heads": ekv,
          "use_biases": True, "use_cache": False, "rope_theta": 1000000.0, "causal": True,
          "norm_eps": 1e-05, "pos_embed": "rope", "max_source_positions": None,
          "ffn_type": "swiglu", "norm_type": "rms_norm", "sliding_window": 750}
    return {"dim": dim, "n_layers": layers, "head_dim": head_dim, "hidden_dim": hidden,
            "n_heads": heads, "n_kv_heads": kv, "use_biases": False, "causal": True,
            "rope_theta": 1000000.0, "norm_eps": 1e-05, "vocab_size": vocab, "model_parallel": 1,
            "tied_embeddings": tied, "sliding_window": 8192, "model_max_length": 131072,
            "multimodal": {"whisper_model_args": {"encoder_args": ea,
                                                  "downsample_args": {"downsample_factor": 4}}},
            "ada_rms_norm_t_cond": True, "ada_rms_norm_t_cond_dim": ada_dim}


REAL = dict(dim=3072, layers=26, head_dim=128, hidden=9216, heads=32, kv=8, vocab=131072,
            mels=128, edim=1280, elayers=32, ehead=64, ehidden=5120, eheads=32, ekv=32, ada_dim=32)


def seeds_params():
    t = "fuzz_params_json"
    put(t, "real", json.dumps(params(**REAL), indent=2))
    put(t, "micro", json.dumps(params(), separators=(",", ":")))
    put(t, "untied", json.dumps(params(tied=False), separators=(",", ":")))
    bad = params()
    bad["n_heads"] = 3
    put(t, "heads_not_multiple", json.dumps(bad, separators=(",", ":")))


# ---------------------------------------------------------------- checkpoint

ENC = "mm_streams_embeddings.embedding_module.whisper_encoder."
ADA = "mm_streams_embeddings.embedding_module.audio_language_projection."
TOK = "mm_streams_embeddings.embedding_module.tok_embeddings.weight"


def tensor_set(p):
    """expected_tensors() of src/model/tensor_names.cpp for a params dict."""
    e = p["multimodal"]["whisper_model_args"]["encoder_args"]
    ed, eq, ekv, eh = e["dim"], e["n_heads"] * e["head_dim"], e["n_kv_heads"] * e["head_dim"], e["hidden_dim"]
    mels = e["audio_encoding_args"]["num_mel_bins"]
    t = [(ENC + "conv_layers.0.conv.weight", [ed, mels, 3]), (ENC + "conv_layers.0.conv.bias", [ed]),
         (ENC + "conv_layers.1.conv.weight", [ed, ed, 3]), (ENC + "conv_layers.1.conv.bias", [ed])]
    for i in range(e["n_layers"]):
        n = lambda s: f"{ENC}transformer.layers.{i}.{s}"
        t += [(n("attention_norm.weight"), [ed]), (n("attention.wq.weight"), [eq, ed])]
        if e["use_biases"]: t.append((n("attention.wq.bias"), [eq]))
        t += [(n("attention.wk.weight"), [ekv, ed]), (n("attention.wv.weight"), [ekv, ed])]
        if e["use_biases"]: t.append((n("attention.wv.bias"), [ekv]))
        t.append((n("attention.wo.weight"), [ed, eq]))
        if e["use_biases"]: t.append((n("attention.wo.bias"), [ed]))
        t += [(n("ffn_norm.weight"), [ed]), (n("feed_forward.w1.weight"), [eh, ed]),
              (n("feed_forward.w2.weight"), [ed, eh])]
        if e["use_biases"]: t.append((n("feed_forward.w2.bias"), [ed]))
        t.append((n("feed_forward.w3.weight"), [eh, ed]))
    t.append((ENC + "transformer.norm.weight", [ed]))
    d = p["dim"]
    ds = p["multimodal"]["whisper_model_args"]["downsample_args"]["downsample_factor"]
    t += [(ADA + "0.weight", [d, ed * ds]), (ADA + "2.weight", [d, d]), (TOK, [p["vocab_size"], d])]
    q, kv, h = p["n_heads"] * p["head_dim"], p["n_kv_heads"] * p["head_dim"], p["hidden_dim"]
    for i in range(p["n_layers"]):
        n = lambda s: f"layers.{i}.{s}"
        t += [(n("attention_norm.weight"), [d]), (n("attention.wq.weight"), [q, d]),
              (n("attention.wk.weight"), [kv, d]), (n("attention.wv.weight"), [kv, d]),
              (n("attention.wo.weight"), [d, q]), (n("ffn_norm.weight"), [d]),
              (n("feed_forward.w1.weight"), [h, d]), (n("feed_forward.w2.weight"), [d, h]),
              (n("feed_forward.w3.weight"), [h, d])]
        if p["ada_rms_norm_t_cond"]:
            a = p["ada_rms_norm_t_cond_dim"]
            t += [(n("ada_rms_norm_t_cond.0.weight"), [a, d]), (n("ada_rms_norm_t_cond.2.weight"), [d, a])]
    t.append(("norm.weight", [d]))
    if not p["tied_embeddings"]:
        t.append(("output.weight", [p["vocab_size"], d]))
    return t


def checkpoint_input(p, tensors, dtype="BF16"):
    head, n = safetensors([(name, dtype, shape) for name, shape in tensors], {"format": "pt"})
    return (json.dumps(p, separators=(",", ":")).encode() + b"\n#vrt-safetensors#\n" +
            struct.pack("<I", n) + head)


def seeds_checkpoint():
    t = "fuzz_checkpoint"
    p = params(vocab=260)  # the harness's fixed tekken.json: 256 byte ranks + 4 specials
    ts = tensor_set(p)
    put(t, "micro_bf16", checkpoint_input(p, ts))
    put(t, "micro_f32", checkpoint_input(p, ts, "F32"))
    put(t, "micro_extra_tensor", checkpoint_input(p, ts + [("extra.weight", [3])]))
    put(t, "micro_missing_tensor", checkpoint_input(p, ts[:-1]))
    pu = params(vocab=260, tied=False)
    put(t, "micro_untied", checkpoint_input(pu, tensor_set(pu)))
    put(t, "micro_i32", checkpoint_input(p, ts, "I32"))


# ---------------------------------------------------------------- tekken.json

def b64(b):
    import base64
    return base64.b64encode(b).decode()


def tekken(merges=(b"ab", b"th", b"the", b" t", b"\xc3\xa9"), specials=("<unk>", "<s>", "</s>",
           "[STREAMING_PAD]", "[STREAMING_WORD]"), version="v7", pattern=None, audio=True):
    vocab = [{"rank": i, "token_bytes": b64(bytes([i])), "token_str": None} for i in range(256)]
    for m in merges:
        vocab.append({"rank": len(vocab), "token_bytes": b64(m), "token_str": None})
    if pattern is None:
        pattern = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
                   r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}|"
                   r" ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
    doc = {"config": {"pattern": pattern, "num_vocab_tokens": len(vocab),
                      "default_vocab_size": len(vocab) + len(specials),
                      "default_num_special_tokens": len(specials), "version": version},
           "vocab": vocab,
           "special_tokens": [{"rank": i, "token_str": s, "is_control": True}
                              for i, s in enumerate(specials)]}
    if audio:
        doc["audio"] = {"sampling_rate": 16000, "frame_rate": 12.5,
                        "audio_encoding_config": {"num_mel_bins": 128, "hop_length": 160,
                                                  "window_size": 400},
                        "transcription_delay_ms": 480, "streaming_look_ahead_ms": 2.5,
                        "streaming_look_back_ms": 52.5, "streaming_n_left_pad_tokens": 32,
                        "transcription_format": "streaming"}
    return json.dumps(doc, separators=(",", ":"))


def seeds_tekken():
    t = "fuzz_tekken"
    put(t, "small_v7", tekken())
    put(t, "one_special", tekken(specials=("<s>",), merges=()))
    put(t, "simple_pattern", tekken(pattern=r"\w+|\s+|[^\w\s]+", version="v13"))
    put(t, "no_audio", tekken(audio=False))
    put(t, "dup_token", tekken(merges=(b"ab", b"ab")))


def seeds_tokenizer_text():
    t = "fuzz_tokenizer_text"
    texts = ["Hello world! And so, my fellow Americans: ask not.", "  leading\n\nnewlines\r\n\t tabs",
             "caf\u00e9 na\u00efve \u65e5\u672c\u8a9e \U0001F600 emoji", "1234567890 3.14 -42",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]
    for i, s in enumerate(texts):
        put(t, f"text_{i}", b"\x00" + s.encode())
    put(t, "text_invalid_utf8", b"\x00ab\xff\xfe c\xc3 \xe2\x82 \xf0\x9f\x98 \xed\xa0\x80 z")
    ids = [1000, 1001, 1100, 2000, 4000, 5095, 0, 1, 2, 999]
    put(t, "ids_valid", b"\x01" + b"".join(struct.pack("<I", (i + 1) << 8) for i in ids))
    put(t, "ids_out_of_range", b"\x01" + struct.pack("<iii", -1, 0x7fffffff, 5096 << 8 | 0x80))


# ---------------------------------------------------------------- JSON

def seeds_json():
    t = "fuzz_json"
    put(t, "params", json.dumps(params()))
    put(t, "numbers", '{"a":0,"b":-0,"c":18446744073709551615,"d":-9223372036854775808,'
                      '"e":1e400,"f":-1.5e-300,"g":3.0,"h":[1,2.5,true,false,null]}')
    put(t, "strings", '{"s":"\\u00e9\\ud83d\\ude00\\n\\"","":"empty key","k\\u0000":1}')
    put(t, "duplicate", '{"a":1,"a":2}')
    put(t, "deep64", "[" * 64 + "]" * 64)
    put(t, "deep65", "[" * 65 + "]" * 65)
    put(t, "scalar", "  42  ")


# ---------------------------------------------------------------- audio

def wav(channels=1, rate=16000, bits=16, fmt_tag=1, frames=64, data_size=None, extensible=False,
        extra_chunks=b"", rf64=False):
    bps = bits // 8
    align = channels * bps
    if extensible:
        sub = struct.pack("<H", fmt_tag) + bytes([0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71])
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * align, align, bits, 22, bits, 0) + sub
    else:
        fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * align, align, bits)
    samples = bytearray()
    for i in range(frames * channels):
        v = math.sin(i * 0.3)
        if fmt_tag == 3 and bits == 32:
            samples += struct.pack("<f", v)
        elif fmt_tag == 3:
            samples += struct.pack("<d", v)
        elif bits == 8:
            samples += struct.pack("<B", int(128 + 100 * v))
        elif bits == 16:
            samples += struct.pack("<h", int(20000 * v))
        elif bits == 24:
            samples += struct.pack("<i", int(4000000 * v))[:3]
        else:
            samples += struct.pack("<i", int(1e9 * v))
    size = len(samples) if data_size is None else data_size
    body = b"WAVE"
    if rf64:
        body += b"ds64" + struct.pack("<IQQQI", 28, 0, len(samples), frames, 0)
    body += b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunks
    body += b"data" + struct.pack("<I", 0xFFFFFFFF if rf64 else size) + bytes(samples)
    return (b"RF64" if rf64 else b"RIFF") + struct.pack("<I", 0xFFFFFFFF if rf64 else len(body)) + body


def wav_seeds():
    return {
        "pcm16_mono": wav(),
        "pcm8_stereo": wav(channels=2, bits=8, rate=8000),
        "pcm24": wav(bits=24, rate=44100),
        "pcm32_3ch": wav(channels=3, bits=32, rate=48000),
        "float32": wav(fmt_tag=3, bits=32),
        "float64": wav(fmt_tag=3, bits=64, frames=16),
        "extensible": wav(extensible=True, channels=2),
        "size_zero_pipe": wav(data_size=0),
        "size_ffffffff": wav(data_size=0xFFFFFFFF),
        "list_odd_chunk": wav(extra_chunks=b"LIST" + struct.pack("<I", 5) + b"INFOx\x00"),
        "rf64": wav(rf64=True),
        "adpcm_tag": wav(fmt_tag=2, bits=4 * 4),
    }


def seeds_wav_stream():
    t = "fuzz_wav_stream"
    plans = [b"\x01\x00\x00", b"\x03\x01\x07\x40\x00", b"\x08\x00\x01\x02\x03\x05\x08\x0d\xff\x00",
             b"\x02\x00\x0b\x10"]  # chunk plan, then the duration-cap byte
    for i, (name, data) in enumerate(sorted(wav_seeds().items())):
        put(t, name, plans[i % len(plans)] + data)


def sndfile_encode(major, sub, rate=8000, frames=800, channels=1):
    """Encodes a sine with libsndfile; None if this libsndfile cannot write the format."""
    path = ctypes.util.find_library("sndfile")
    if not path:
        return None
    sf = ctypes.CDLL(path)

    class SF_INFO(ctypes.Structure):
        _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                    ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]
    sf.sf_open.restype = ctypes.c_void_p
    sf.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SF_INFO)]
    sf.sf_writef_short.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_short), ctypes.c_int64]
    sf.sf_close.argtypes = [ctypes.c_void_p]
    info = SF_INFO(0, rate, channels, major | sub, 0, 0)
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x").encode()
        h = sf.sf_open(p, 0x20, ctypes.byref(info))  # SFM_WRITE
        if not h:
            return None
        buf = (ctypes.c_short * (frames * channels))(*[int(8000 * math.sin(i * 0.2)) for i in range(frames * channels)])
        sf.sf_writef_short(h, buf, frames)
        sf.sf_close(h)
        with open(p, "rb") as f:
            return f.read()


def seeds_audio_decode():
    t = "fuzz_audio_decode"
    for name, data in sorted(wav_seeds().items()):
        put(t, name, data)
    formats = {"flac16": (0x170000, 0x0002), "ogg_vorbis": (0x200000, 0x0060),
               "ogg_opus": (0x200000, 0x0064), "mp3": (0x230000, 0x0082)}
    for name, (major, sub) in formats.items():
        if os.path.exists(os.path.join(ROOT, t, name)):
            continue  # Ogg encoders pick random stream serials: keep the checked-in bytes
        data = sndfile_encode(major, sub, rate=8000 if name != "ogg_opus" else 8000)
        if data is not None and len(data) <= 65536:
            put(t, name, data)
    put(t, "id3_then_wav", b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10) + wav(frames=4))
    put(t, "aiff_magic", b"FORM\x00\x00\x00\x04AIFF")


def seeds_pcm():
    t = "fuzz_pcm_stdin"
    sine = b"".join(struct.pack("<h", int(20000 * math.sin(i * 0.1))) for i in range(400))
    put(t, "s16_mono_16k", b"\x00\x00\x40\x00\x01\x00" + sine)
    put(t, "f32_stereo_44k", b"\x03\x04\x00\x04\x03\x01\x05\x00" +
        b"".join(struct.pack("<f", math.sin(i * 0.05)) for i in range(600)) + b"\x01")
    put(t, "f32_nan_inf", b"\x01\x01\x10\x00\x01\x03" + struct.pack("<4f", float("nan"), float("inf"), -float("inf"), 0.5) + b"\x7f\xc0")
    put(t, "s16_8ch_odd", b"\x0e\x02\x07\x00\x02\x05\x11" + sine[:333])


def seeds_resample_mel():
    t = "fuzz_resample_mel"
    sine = b"".join(struct.pack("<h", int(15000 * math.sin(i * 0.07))) for i in range(3000))
    for i, (rate, mel, plan) in enumerate([(0, 0, b"\x01\x00"), (1, 1, b"\x03\x01\x10\x40"),
                                           (2, 2, b"\x02\x07\xff"), (3, 3, b"\x04\x00\x05\x0f\x20"),
                                           (6, 4, b"\x01\x03"), (7, 6, b"\x02\x30\x02"), (0, 5, b"\x01\x01")]):
        put(t, f"seed_{i}", bytes([rate, mel]) + plan + sine[: 400 + 700 * i])


def seeds_base64():
    t = "fuzz_base64"
    for name, text in {"abc": "QUJD", "pad2": "QQ==", "pad1": "QUI=", "noncanonical": "QUJ=",
                       "newline": "8J+YgA==\n"}.items():
        put(t, name, text)


# ---------------------------------------------------------------- realtime WebSocket sessions

def seeds_ws_session():
    """Scripts for fuzz_ws_session (the format is described at the top of fuzz/fuzz_ws_session.cpp):
    byte 0 handshake, byte 1 flags, byte 2 mask seed, then ops."""
    t = "fuzz_ws_session"
    wave = bytes(range(90, 106))          # 16 bytes tiled into the waveform of a large append
    update = [0, 0x00]                    # session.update, model voxtral-fuzz
    update_words = [0, 0x24]              # delay_ms 480, timestamp_granularities ["word"]
    big = lambda n: [1, n, 0] + list(wave)  # append (n - 127) * 64 samples
    sync, final = [14], [4]

    def text(b):
        return [5, len(b)] + list(b)

    # Two utterances on one socket (options changed in between), final sync, close 1000.
    put(t, "two_utterances", bytes([0, 0x00, 0x37] + update + big(200) + big(200) + final + sync +
                                   update_words + big(180) + final))
    # Hostile events, each answered by its error; then a valid session.
    put(t, "bad_json", bytes([0, 0x00, 0x11] + [3] + text(b'{"type":') +
                             text(b'{"type":"session.update","model":1}') + [6, 3] + list(b"abc") +
                             [0, 0x02, 0, 0x03, 0, 0x14] + text(b"[1,2]") +
                             text(b'{"type":"input_audio_buffer.append","audio":"AAA"}') +
                             text(b'{"type":"x"}') + update + [1, 3, 1] + list(b"\x01\x02\x03\x04\x05\x06") +
                             final))
    # Fragmented messages with pings between the fragments, sent a byte at a time.
    put(t, "fragmented", bytes([0, 0x01, 0x55] + [7, 0x0F, 0, 0x00, 1, 2, 0, 1] +
                               [7, 0x05, 1, 40] + list(range(80)) + [0, 2] + [8, 4] + list(b"ping") +
                               [7, 0x04, 2, 1] + [7, 0x06, 3, 12] + list(b'{"type":"y"}') + [0, 1]))
    # Messages past max_message_bytes: one frame (close 1009), and fragments adding up past it.
    put(t, "oversized_frame", bytes([0, 0x00, 0x22] + update + [11, 0x05]))
    put(t, "oversized_fragments", bytes([0, 0x00, 0x23] + update + [11, 0x85]))
    # Abrupt close (reset, no sync) in the middle of an utterance's appends.
    put(t, "abrupt_mid_append", bytes([0, 0xE0, 0x01] + update + big(255) + big(255)))
    # Audio past the backlog before any session.update: error, close 1008.
    put(t, "backlog_before_update", bytes([0, 0x00, 0x02] + big(255)))
    # Graceful server shutdown with an open utterance: its done, then close 1001.
    put(t, "shutdown_open_utterance", bytes([0, 0x00, 0x09] + update + big(200) + [15]))
    # Handshake variants: version 12 (426), and a raw request (flags, mask, u16 length, bytes)
    # that is a valid upgrade, then a sync.
    put(t, "handshake_version", bytes([23]))
    raw = b"GET /v1/realtime HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n" \
          b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n"
    put(t, "handshake_raw", bytes([30, 0x00, 0x48, len(raw) & 0xFF, len(raw) >> 8]) + raw + bytes([14]))
    # A text frame with a non-minimal 64-bit length: Beast fails the connection (1002).
    put(t, "edge_frame", bytes([0, 0x00, 0x44] + update + [10, 0x41, 0x01, 4] + list(b"abcd")))
    # A close frame with code 3000 and a reason: echoed.
    put(t, "close_3000", bytes([0, 0x00, 0x45] + update + [12, 7, 5] + list(b"bye!!")))
    # A second session beside this one (batched decoding; a third connection gets 503).
    put(t, "concurrent", bytes([0, 0x00, 0x46] + update + big(200) + [9, 200, 0] + list(wave) + final))
    # A shutdown racing an utterance's frames.
    put(t, "shutdown_unsynced", bytes([0, 0x00, 0x47] + update + big(200) + final + big(150) + [0x1F]))


def seeds_mistral_event():
    """Mistral's realtime events, frames separated by 0xFF (fuzz_mistral_event)."""
    def frames(*events):
        return b"\xff".join(e if isinstance(e, bytes) else json.dumps(e).encode() for e in events)
    pcm = bytes(range(0, 200, 3))
    put("fuzz_mistral_event", "sdk_session", frames(
        {"type": "session.update", "session": {"audio_format": {"encoding": "pcm_s16le", "sample_rate": 16000}}},
        {"type": "input_audio.append", "audio": b64(pcm)},
        {"type": "input_audio.flush"}, {"type": "input_audio.end"}))
    for enc, rate in (("pcm_f32le", 48000), ("pcm_f16le", 22050), ("pcm_s32le", 44100), ("pcm_mulaw", 8000),
                      ("pcm_alaw", 8000)):
        put("fuzz_mistral_event", enc, frames(
            {"type": "session.update", "session": {"audio_format": {"encoding": enc, "sample_rate": rate},
                                                   "target_streaming_delay_ms": 480}},
            {"type": "input_audio.append", "audio": b64(pcm[:7])},
            {"type": "input_audio.append", "audio": b64(pcm[7:])}, {"type": "input_audio.end"}))
    put("fuzz_mistral_event", "errors", frames(
        b"not json", {"type": "input_audio.commit"}, {"type": "input_audio.append", "audio": "%%"},
        {"type": "session.update", "session": {"audio_format": {"encoding": "pcm_s24le", "sample_rate": 1}}},
        {"type": "session.update", "session": {"target_streaming_delay_ms": 100}}, {"type": "session.update"}))
    put("fuzz_mistral_event", "limit", b" " + frames({"type": "input_audio.append", "audio": b64(pcm)}))


if __name__ == "__main__":
    seeds_base64()
    seeds_json()
    seeds_safetensors()
    seeds_params()
    seeds_checkpoint()
    seeds_tekken()
    seeds_tokenizer_text()
    seeds_wav_stream()
    seeds_audio_decode()
    seeds_pcm()
    seeds_resample_mel()
    seeds_ws_session()
    seeds_mistral_event()
