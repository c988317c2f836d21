#!/usr/bin/python3
"""Independent float64 numpy reference of the whole Voxtral-Mini-4B-Realtime-2602 model.

Written from shared/docs/voxtral-spec.md only (section numbers below are that spec's "§").
It does not look at the C++ engine; it is the oracle the C++ tests compare against, stage by stage.

Pipeline (offline mode, §8.2):
  audio -> offline padding (§5.2; mel_ref.pad_offline) -> log-mel (§5; mel_ref.log_mel)
        -> causal conv stem (§6.1) -> encoder layers with sliding window (§6.2) -> final norm
        -> stack 4 frames -> adapter (§6.3) -> T audio embeddings a[0..T-1]
        -> decoder (§7) fed a[p] + E[token_p], greedy argmax (§8)

Generated-token rule (§8.1, §8.2, SOURCES.md note 3):
  prompt = [BOS=1] + [STREAMING_PAD=32] * (n_left_pad_tokens + delay_tokens), length P = 33 + delay_tokens.
  Positions 0..P-1 take a[p] + E[prompt[p]]; argmax of the logits at position P-1 is y0.
  For p = P .. T-1: input a[p] + E[y_{p-P}] -> y_{p-P+1}.  Positions therefore run 0..T-1 (the "AZ"
  variant of §14 #13, i.e. a[T-1] is used too) and the number of generated tokens is T - P + 1.
  With T = 32 + ceil(L/1280) + (delay_tokens + 1 + 10) (§8.2 step 1) and P = 33 + delay_tokens:
      T - P + 1 = ceil(L/1280) + 11        (independent of the delay)
  which is exactly the 56 / 69 / 111 tokens of the golden streams for 8297-275156-000{0,1,2}
  (SOURCES.md note 3: "ceil(samples/1280) + 11").  Generation stops early right after an EOS (id 2,
  which is then the last generated token), or when --max-new-tokens tokens have been generated.
  Argmax ties resolve to the lowest token id (np.argmax).

Numerics: weights are decoded exactly from BF16 / F16 / F32 and cast to float64; every operation is
float64.  The one exception is the log-mel, which mel_ref computes in float64 and returns rounded to
float32; that float32 mel is what mel.npy holds and what the conv stem consumes (as float64).

Usage:
  model_ref.py --model DIR --audio FILE [--delay-ms N] [--max-new-tokens N] --dump OUTDIR [--quiet]
  model_ref.py --self-test [--model DIR]
FILE: 16-bit PCM mono 16 kHz WAV, or a float32 .npy of 16 kHz mono samples.
Dumps (float32 unless noted): mel.npy [n_mels, frames], encoder.npy [enc_frames, enc_dim] (after the
final encoder norm), adapter.npy [T, dim], logits.npy [steps, vocab], tokens.npy int32 [steps],
top2.npy float64 [steps, 2] (best and second-best logit per step).  A JSON summary goes to stdout.
"""
import argparse
import json
import math
import os
import struct
import sys
import tempfile
import time
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mel_ref  # noqa: E402  (the validated log-mel front end, §5)

# §4.2 special token ids
BOS_ID = 1
EOS_ID = 2
STREAMING_PAD_ID = 32
STREAMING_WORD_ID = 33

ENC_PREFIX = "mm_streams_embeddings.embedding_module.whisper_encoder."
EMB_PREFIX = "mm_streams_embeddings.embedding_module."

# The encoder is processed in blocks of this many query frames (each block only sees the keys inside its
# sliding window), so memory is O(block * window), never O(T_enc^2).
ENC_QUERY_BLOCK = 256


# ----------------------------------------------------------------------------------------------------
# Checkpoint reading (§1; safetensors format: u64 LE header length N, JSON header, data after 8 + N)
# ----------------------------------------------------------------------------------------------------

_DTYPES = {"BF16": 2, "F16": 2, "F32": 4}


def decode_tensor(raw, dtype, shape):
    """Decode little-endian raw bytes of a safetensors tensor exactly, return float64 array."""
    if dtype == "BF16":
        # bfloat16 is the high half of an IEEE float32: widen to u32, shift, reinterpret.
        u16 = np.frombuffer(raw, dtype="<u2")
        f32 = (u16.astype(np.uint32) << np.uint32(16)).view(np.float32)
        out = f32.astype(np.float64)
    elif dtype == "F16":
        out = np.frombuffer(raw, dtype="<f2").astype(np.float64)
    elif dtype == "F32":
        out = np.frombuffer(raw, dtype="<f4").astype(np.float64)
    else:
        raise ValueError("unsupported dtype %r" % dtype)
    return out.reshape(shape)


def read_safetensors(path):
    """Return {name: float64 ndarray} of every tensor in a .safetensors file."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("%s: too short for a safetensors header" % path)
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError("%s: header length %d beyond end of file" % (path, n))
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (begin, end) = info["dtype"], list(info["shape"]), info["data_offsets"]
        if dtype not in _DTYPES:
            raise ValueError("%s: tensor %s has unsupported dtype %s" % (path, name, dtype))
        if end - begin != _DTYPES[dtype] * int(np.prod(shape, dtype=np.int64)) or end > len(data):
            raise ValueError("%s: tensor %s has inconsistent data_offsets" % (path, name))
        tensors[name] = decode_tensor(data[begin:end], dtype, shape)
    return tensors


def write_safetensors(path, tensors, dtype="BF16"):
    """Writer used only by --self-test to build an in-test checkpoint (BF16 by truncation of float32)."""
    header, chunks, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype=np.float32)
        if dtype == "BF16":
            raw = (a.view(np.uint32) >> np.uint32(16)).astype("<u2").tobytes()
        elif dtype == "F16":
            raw = a.astype("<f2").tobytes()
        else:
            raw = a.astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    hj = json.dumps(header).encode("utf-8")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for c in chunks:
            f.write(c)


# ----------------------------------------------------------------------------------------------------
# Configuration (§2 params.json, §4.3 tekken.json audio block).  Every shape comes from here.
# ----------------------------------------------------------------------------------------------------

def _window(v):
    if v is None:
        return None
    if int(v) < 1:
        raise ValueError("sliding_window must be >= 1, got %r" % (v,))
    return int(v)


class Config:
    def __init__(self, params, audio):
        enc = params["multimodal"]["whisper_model_args"]["encoder_args"]
        aea = enc["audio_encoding_args"]
        # decoder (§2, §7)
        self.dim = int(params["dim"])
        self.n_layers = int(params["n_layers"])
        self.head_dim = int(params["head_dim"])
        self.hidden_dim = int(params["hidden_dim"])
        self.n_heads = int(params["n_heads"])
        self.n_kv_heads = int(params["n_kv_heads"])
        self.rope_theta = float(params["rope_theta"])
        self.norm_eps = float(params["norm_eps"])
        self.vocab_size = int(params["vocab_size"])
        self.sliding_window = _window(params.get("sliding_window"))  # None = unlimited
        self.tied_embeddings = bool(params.get("tied_embeddings", True))
        self.ada_norm = bool(params.get("ada_rms_norm_t_cond", False))
        self.ada_dim = int(params.get("ada_rms_norm_t_cond_dim", 0) or 0)
        if params.get("use_biases", False):
            raise ValueError("decoder use_biases=true is not part of the spec (§2: false)")
        # encoder (§2, §6)
        self.enc_dim = int(enc["dim"])
        self.enc_layers = int(enc["n_layers"])
        self.enc_head_dim = int(enc["head_dim"])
        self.enc_hidden_dim = int(enc["hidden_dim"])
        self.enc_heads = int(enc["n_heads"])
        self.enc_kv_heads = int(enc.get("n_kv_heads", enc["n_heads"]))
        self.enc_rope_theta = float(enc["rope_theta"])
        self.enc_norm_eps = float(enc["norm_eps"])
        self.enc_biases = bool(enc.get("use_biases", False))
        self.enc_window = _window(enc.get("sliding_window"))  # None = unlimited
        self.downsample = int(params["multimodal"]["whisper_model_args"]["downsample_args"]["downsample_factor"])
        # front end (§5): the numbers mel_ref is built for must be the ones in params.json / tekken.json
        self.n_mels = int(aea["num_mel_bins"])
        self.samples_per_token = int(round(aea["sampling_rate"] / aea["frame_rate"]))
        checks = [
            ("num_mel_bins", self.n_mels, mel_ref.N_MELS),
            ("hop_length", int(aea["hop_length"]), mel_ref.HOP),
            ("window_size", int(aea["window_size"]), mel_ref.N_FFT),
            ("sampling_rate", int(aea["sampling_rate"]), mel_ref.SAMPLE_RATE),
            ("global_log_mel_max", float(aea["global_log_mel_max"]), mel_ref.LOG_MEL_MAX),
            ("samples per token", self.samples_per_token, mel_ref.SAMPLES_PER_TOKEN),
            # 8 mel frames per token -> conv2 stride 2 -> 4 encoder frames -> stacked into 1 embedding (§6.3)
            ("mel frames per token / 2", self.samples_per_token // mel_ref.HOP // 2, self.downsample),
        ]
        if audio is not None:
            checks.append(("streaming_n_left_pad_tokens", int(audio.get("streaming_n_left_pad_tokens", 32)),
                           mel_ref.LEFT_PAD_TOKENS))
        for what, got, want in checks:
            if got != want:
                raise ValueError("%s = %r but the front end (mel_ref) implements %r" % (what, got, want))
        if self.n_heads % self.n_kv_heads or self.enc_heads % self.enc_kv_heads:
            raise ValueError("n_heads must be a multiple of n_kv_heads")
        self.default_delay_ms = None if audio is None else audio.get("transcription_delay_ms")

    def expected_shapes(self):
        """§3: tensor name -> shape, all derived from params.json."""
        s = {}
        E, D = ENC_PREFIX, self.enc_dim
        s[E + "conv_layers.0.conv.weight"] = (D, self.n_mels, 3)
        s[E + "conv_layers.0.conv.bias"] = (D,)
        s[E + "conv_layers.1.conv.weight"] = (D, D, 3)
        s[E + "conv_layers.1.conv.bias"] = (D,)
        qd, kvd = self.enc_heads * self.enc_head_dim, self.enc_kv_heads * self.enc_head_dim
        for i in range(self.enc_layers):
            p = E + "transformer.layers.%d." % i
            s[p + "attention_norm.weight"] = (D,)
            s[p + "attention.wq.weight"] = (qd, D)
            s[p + "attention.wk.weight"] = (kvd, D)
            s[p + "attention.wv.weight"] = (kvd, D)
            s[p + "attention.wo.weight"] = (D, qd)
            s[p + "ffn_norm.weight"] = (D,)
            s[p + "feed_forward.w1.weight"] = (self.enc_hidden_dim, D)
            s[p + "feed_forward.w2.weight"] = (D, self.enc_hidden_dim)
            s[p + "feed_forward.w3.weight"] = (self.enc_hidden_dim, D)
            if self.enc_biases:  # §3.1: biases on wq, wv, wo, w2; none on wk
                s[p + "attention.wq.bias"] = (qd,)
                s[p + "attention.wv.bias"] = (kvd,)
                s[p + "attention.wo.bias"] = (D,)
                s[p + "feed_forward.w2.bias"] = (D,)
        s[E + "transformer.norm.weight"] = (D,)
        s[EMB_PREFIX + "audio_language_projection.0.weight"] = (self.dim, D * self.downsample)
        s[EMB_PREFIX + "audio_language_projection.2.weight"] = (self.dim, self.dim)
        s[EMB_PREFIX + "tok_embeddings.weight"] = (self.vocab_size, self.dim)
        qd, kvd = self.n_heads * self.head_dim, self.n_kv_heads * self.head_dim
        for i in range(self.n_layers):
            p = "layers.%d." % i
            s[p + "attention_norm.weight"] = (self.dim,)
            s[p + "attention.wq.weight"] = (qd, self.dim)
            s[p + "attention.wk.weight"] = (kvd, self.dim)
            s[p + "attention.wv.weight"] = (kvd, self.dim)
            s[p + "attention.wo.weight"] = (self.dim, qd)
            s[p + "ffn_norm.weight"] = (self.dim,)
            s[p + "feed_forward.w1.weight"] = (self.hidden_dim, self.dim)
            s[p + "feed_forward.w2.weight"] = (self.dim, self.hidden_dim)
            s[p + "feed_forward.w3.weight"] = (self.hidden_dim, self.dim)
            if self.ada_norm:
                s[p + "ada_rms_norm_t_cond.0.weight"] = (self.ada_dim, self.dim)
                s[p + "ada_rms_norm_t_cond.2.weight"] = (self.dim, self.ada_dim)
        s["norm.weight"] = (self.dim,)
        if not self.tied_embeddings:
            s["output.weight"] = (self.vocab_size, self.dim)
        return s


class Model:
    def __init__(self, cfg, tensors):
        self.cfg = cfg
        want = cfg.expected_shapes()
        missing = [n for n in want if n not in tensors]
        if missing:
            raise ValueError("checkpoint lacks %d tensors, e.g. %s" % (len(missing), missing[0]))
        for n, shp in want.items():
            if tuple(tensors[n].shape) != shp:
                raise ValueError("tensor %s has shape %s, params.json implies %s" % (n, tensors[n].shape, shp))
        self.w = tensors

    def __getitem__(self, name):
        return self.w[name]

    @property
    def embeddings(self):  # §3.3
        return self.w[EMB_PREFIX + "tok_embeddings.weight"]

    @property
    def head(self):  # §7.2 tied head: logits = h . E^T
        return self.embeddings if self.cfg.tied_embeddings else self.w["output.weight"]


def load_model(model_dir):
    with open(os.path.join(model_dir, "params.json"), "r", encoding="utf-8") as f:
        params = json.load(f)
    audio = None
    tek = os.path.join(model_dir, "tekken.json")
    if os.path.exists(tek):
        with open(tek, "r", encoding="utf-8") as f:
            audio = json.load(f).get("audio")
    cfg = Config(params, audio)
    return Model(cfg, read_safetensors(os.path.join(model_dir, "consolidated.safetensors")))


# ----------------------------------------------------------------------------------------------------
# Elementary functions
# ----------------------------------------------------------------------------------------------------

_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(x):
    """Exact (erf) GELU, §6.1: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); libm erf, element by element."""
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def silu(x):
    """SiLU(x) = x * sigmoid(x), with the sigmoid written so exp never overflows."""
    e = np.exp(-np.abs(x))
    sig = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return x * sig


def rms_norm(x, weight, eps):
    """§6.2: y = x * rsqrt(mean(x^2) + eps) * w, over the last axis."""
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def linear(x, w, b=None):
    """nn.Linear convention (§3): y = x . W^T + b, W is [out, in]."""
    y = x @ w.T
    return y if b is None else y + b


def rope_interleaved(x, pos, theta):
    """Interleaved (GPT-J) RoPE on native weights, §3.5 / §6.2.

    x: [n, heads, d]; pos: [n] absolute positions.  For j = 0..d/2-1, phi = pos * theta^(-2j/d):
      x'[2j]   = x[2j] cos(phi) - x[2j+1] sin(phi)
      x'[2j+1] = x[2j] sin(phi) + x[2j+1] cos(phi)
    """
    d = x.shape[-1]
    inv_freq = theta ** (-np.arange(0, d, 2, dtype=np.float64) / d)          # [d/2]
    phi = np.asarray(pos, dtype=np.float64)[:, None] * inv_freq[None, :]     # [n, d/2]
    c, s = np.cos(phi)[:, None, :], np.sin(phi)[:, None, :]                  # broadcast over heads
    xe, xo = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = xe * c - xo * s
    out[..., 1::2] = xe * s + xo * c
    return out


def attend(q, pos_q, k, v, pos_k, window):
    """Scaled dot-product attention with an explicit causal sliding-window mask over absolute positions.

    q: [nq, Hq, d]; k, v: [nk, Hkv, d]; query head h uses KV head h // (Hq / Hkv) (GQA, §7.2).
    Key j is visible to query i iff 0 <= pos_q[i] - pos_k[j] < window (window None = unlimited), §6.2 / §7.2.
    Returns [nq, Hq, d].
    """
    nq, hq, d = q.shape
    hkv = k.shape[1]
    group = hq // hkv
    delta = np.asarray(pos_q)[:, None] - np.asarray(pos_k)[None, :]          # [nq, nk]
    visible = delta >= 0
    if window is not None:
        visible &= delta < window
    kk = np.repeat(k, group, axis=1)                                          # [nk, Hq, d] (repeat_interleave)
    vv = np.repeat(v, group, axis=1)
    scores = np.einsum("qhd,khd->hqk", q, kk) / math.sqrt(d)                  # [Hq, nq, nk]
    scores = np.where(visible[None], scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    return np.einsum("hqk,khd->qhd", p, vv)


def swiglu(x, w1, w2, w3, b2=None):
    """§6.2 / §7.2 feed-forward: (SiLU(x W1^T) * (x W3^T)) W2^T (+ b2)."""
    return linear(silu(linear(x, w1)) * linear(x, w3), w2, b2)


# ----------------------------------------------------------------------------------------------------
# Audio encoder (§6)
# ----------------------------------------------------------------------------------------------------

def causal_conv1d(x, w, b, stride, left_pad):
    """x: [C_in, T]; w: [C_out, C_in, K]; zero left padding only; out[:, i] = b + sum_j W[:,:,j] xp[:, i*s + j]."""
    c_in, t = x.shape
    k = w.shape[2]
    xp = np.concatenate([np.zeros((c_in, left_pad)), x], axis=1)
    n_out = (t + left_pad - k) // stride + 1
    out = np.repeat(b[:, None], n_out, axis=1)
    for j in range(k):
        out += w[:, :, j] @ xp[:, j: j + stride * (n_out - 1) + 1: stride]
    return out


def conv_stem(model, mel):
    """§6.1.  mel: [n_mels, T_mel] -> [T_mel/2, enc_dim].

    conv1: k3 s1, 2 zeros of left padding, GELU:  h1[t] = GELU(b1 + sum_j W1[:,:,j] x[t-2+j])
    conv2: k3 s2, 1 zero of left padding (= k - s, §14 #1), GELU:  h2[i] = GELU(b2 + sum_j W2[:,:,j] h1[2i-1+j])
    """
    t_mel = mel.shape[1]
    if t_mel % 2:
        raise ValueError("odd mel frame count %d (padded input always has a multiple of 8)" % t_mel)
    h1 = gelu(causal_conv1d(mel, model[ENC_PREFIX + "conv_layers.0.conv.weight"],
                            model[ENC_PREFIX + "conv_layers.0.conv.bias"], stride=1, left_pad=2))
    h2 = gelu(causal_conv1d(h1, model[ENC_PREFIX + "conv_layers.1.conv.weight"],
                            model[ENC_PREFIX + "conv_layers.1.conv.bias"], stride=2, left_pad=1))
    assert h1.shape[1] == t_mel and h2.shape[1] == t_mel // 2
    return h2.T.copy()


def encoder_attention_blocked(q, k, v, pos, window, block=ENC_QUERY_BLOCK):
    """Causal sliding-window attention over the whole encoder sequence, one block of queries at a time.

    Each block [a, b) only needs keys from positions >= a - window + 1 (the mask in attend() decides the
    exact visibility), so memory stays O(block * (block + window)).
    """
    n = q.shape[0]
    out = np.empty_like(q)
    for a in range(0, n, block):
        b = min(n, a + block)
        k0 = 0 if window is None else max(0, a - window + 1)
        out[a:b] = attend(q[a:b], pos[a:b], k[k0:b], v[k0:b], pos[k0:b], window)
    return out


def encoder_layer(model, i, x, pos):
    """§6.2 pre-norm layer; x: [n, enc_dim], pos: absolute encoder frame positions."""
    c = model.cfg
    p = ENC_PREFIX + "transformer.layers.%d." % i
    bias = (lambda name: model[p + name]) if c.enc_biases else (lambda name: None)
    n = rms_norm(x, model[p + "attention_norm.weight"], c.enc_norm_eps)
    q = linear(n, model[p + "attention.wq.weight"], bias("attention.wq.bias"))
    k = linear(n, model[p + "attention.wk.weight"])                      # wk has no bias (§3.1)
    v = linear(n, model[p + "attention.wv.weight"], bias("attention.wv.bias"))
    q = q.reshape(len(x), c.enc_heads, c.enc_head_dim)
    k = k.reshape(len(x), c.enc_kv_heads, c.enc_head_dim)
    v = v.reshape(len(x), c.enc_kv_heads, c.enc_head_dim)
    q = rope_interleaved(q, pos, c.enc_rope_theta)                       # bias added BEFORE RoPE
    k = rope_interleaved(k, pos, c.enc_rope_theta)
    a = encoder_attention_blocked(q, k, v, pos, c.enc_window)
    x = x + linear(a.reshape(len(x), -1), model[p + "attention.wo.weight"], bias("attention.wo.bias"))
    m = rms_norm(x, model[p + "ffn_norm.weight"], c.enc_norm_eps)
    return x + swiglu(m, model[p + "feed_forward.w1.weight"], model[p + "feed_forward.w2.weight"],
                      model[p + "feed_forward.w3.weight"], bias("feed_forward.w2.bias"))


def encoder(model, mel):
    """§6: conv stem, layers on absolute frame positions 0.., final RMSNorm.  Returns [T_mel/2, enc_dim]."""
    x = conv_stem(model, mel)
    pos = np.arange(len(x))
    for i in range(model.cfg.enc_layers):
        x = encoder_layer(model, i, x, pos)
    return rms_norm(x, model[ENC_PREFIX + "transformer.norm.weight"], model.cfg.enc_norm_eps)


def adapter(model, enc):
    """§6.3: stack `downsample` consecutive frames (frame 4p first) then Linear - GELU - Linear, no biases."""
    f = model.cfg.downsample
    if len(enc) % f:
        raise ValueError("encoder frame count %d not a multiple of %d" % (len(enc), f))
    s = enc.reshape(len(enc) // f, f * enc.shape[1])
    w_in = model[EMB_PREFIX + "audio_language_projection.0.weight"]
    w_out = model[EMB_PREFIX + "audio_language_projection.2.weight"]
    return linear(gelu(linear(s, w_in)), w_out)


# ----------------------------------------------------------------------------------------------------
# Decoder (§7)
# ----------------------------------------------------------------------------------------------------

def time_embedding(n_delay, dim):
    """§7.3: inv_freq[i] = exp(-ln(10000) i / (dim/2)); t_cond = [cos(n_delay inv_freq), sin(n_delay inv_freq)]."""
    half = dim // 2
    inv_freq = np.exp(-math.log(10000.0) * np.arange(half, dtype=np.float64) / half)
    emb = float(n_delay) * inv_freq
    return np.concatenate([np.cos(emb), np.sin(emb)])


def ada_scales(model, delay_tokens):
    """§7.3: per layer s_l = W2 GELU(W1 t_cond), constant for a given delay (None when ada-norm is off)."""
    c = model.cfg
    if not c.ada_norm:
        return [None] * c.n_layers
    t_cond = time_embedding(delay_tokens, c.dim)
    return [linear(gelu(linear(t_cond, model["layers.%d.ada_rms_norm_t_cond.0.weight" % i])),
                   model["layers.%d.ada_rms_norm_t_cond.2.weight" % i]) for i in range(c.n_layers)]


class KVCache:
    """Per-layer K/V of every decoder position so far (positions 0..length-1, contiguous).

    Storage grows by doubling so that appending one position at a time stays linear overall.
    """

    def __init__(self, n_layers):
        self.k = [None] * n_layers
        self.v = [None] * n_layers
        self.length = [0] * n_layers

    def append(self, i, k, v):
        n0, n1 = self.length[i], self.length[i] + len(k)
        if self.k[i] is None or n1 > len(self.k[i]):
            cap = max(n1, 2 * (0 if self.k[i] is None else len(self.k[i])), 64)
            k_new, v_new = np.empty((cap,) + k.shape[1:]), np.empty((cap,) + v.shape[1:])
            if n0:
                k_new[:n0], v_new[:n0] = self.k[i][:n0], self.v[i][:n0]
            self.k[i], self.v[i] = k_new, v_new
        self.k[i][n0:n1], self.v[i][n0:n1] = k, v
        self.length[i] = n1

    def keys(self, i, start):
        """K, V and absolute positions of the cached positions start..length-1."""
        n = self.length[i]
        return self.k[i][start:n], self.v[i][start:n], np.arange(start, n)


def decoder_layer(model, i, h, pos, cache, s_l):
    """§7.2 for a block of consecutive positions `pos` (their K/V are appended to the cache first)."""
    c = model.cfg
    p = "layers.%d." % i
    n = rms_norm(h, model[p + "attention_norm.weight"], c.norm_eps)
    q = linear(n, model[p + "attention.wq.weight"]).reshape(len(h), c.n_heads, c.head_dim)
    k = linear(n, model[p + "attention.wk.weight"]).reshape(len(h), c.n_kv_heads, c.head_dim)
    v = linear(n, model[p + "attention.wv.weight"]).reshape(len(h), c.n_kv_heads, c.head_dim)
    q = rope_interleaved(q, pos, c.rope_theta)
    k = rope_interleaved(k, pos, c.rope_theta)
    cache.append(i, k, v)
    # keys older than the window of the first query can never be visible; attend() applies the exact mask
    k0 = 0 if c.sliding_window is None else max(0, int(pos[0]) - int(c.sliding_window) + 1)
    kc, vc, pos_k = cache.keys(i, k0)
    a = attend(q, pos, kc, vc, pos_k, c.sliding_window)
    h = h + linear(a.reshape(len(h), -1), model[p + "attention.wo.weight"])
    u = rms_norm(h, model[p + "ffn_norm.weight"], c.norm_eps)
    if s_l is not None:
        u = u * (1.0 + s_l)                                                  # ada-norm, §7.2 / §7.3
    return h + swiglu(u, model[p + "feed_forward.w1.weight"], model[p + "feed_forward.w2.weight"],
                      model[p + "feed_forward.w3.weight"])


def decoder_forward(model, x, pos, cache, scales):
    """Layers + final norm + tied head for inputs x [n, dim] at positions pos; returns logits [n, vocab]."""
    h = x
    for i in range(model.cfg.n_layers):
        h = decoder_layer(model, i, h, pos, cache, scales[i])
    h = rms_norm(h, model["norm.weight"], model.cfg.norm_eps)
    return h @ model.head.T


def top2(row):
    """Best and second-best logit values (float64); their gap flags numerical near-ties."""
    best, second = -np.sort(-np.partition(row, len(row) - 2)[-2:])
    return best, second


def decode(model, audio_emb, delay_tokens, max_new_tokens=None, stop_on_eos=True, logits_dtype=np.float32):
    """§8.1-8.2 greedy offline schedule (see the module docstring for the exact rule).

    Returns (tokens int32 [steps], logits [steps, vocab], top2 float64 [steps, 2]).  Argmax and top2 use
    the float64 logits; the stored rows are rounded to logits_dtype (float32 by default, as dumped, which
    halves the memory with the real 131072-entry vocabulary).
    """
    c = model.cfg
    T = len(audio_emb)
    prompt = [BOS_ID] + [STREAMING_PAD_ID] * (mel_ref.LEFT_PAD_TOKENS + delay_tokens)
    P = len(prompt)
    if T < P:
        raise ValueError("only %d audio embeddings for a %d-token prompt" % (T, P))
    E = model.embeddings
    scales = ada_scales(model, delay_tokens)
    cache = KVCache(c.n_layers)
    tokens, logits_rows, gaps = [], [], []
    if max_new_tokens is not None and max_new_tokens <= 0:
        return (np.zeros(0, np.int32), np.zeros((0, c.vocab_size), logits_dtype), np.zeros((0, 2)))
    # prefill positions 0..P-1 as one block; only the logits at P-1 are used
    x = audio_emb[:P] + E[prompt]
    logits = decoder_forward(model, x, np.arange(P), cache, scales)[-1]
    p = P
    while True:
        y = int(np.argmax(logits))
        tokens.append(y)
        logits_rows.append(logits.astype(logits_dtype))
        gaps.append(top2(logits))
        if (stop_on_eos and y == EOS_ID) or p >= T or \
                (max_new_tokens is not None and len(tokens) >= max_new_tokens):
            break
        x = audio_emb[p:p + 1] + E[y]
        logits = decoder_forward(model, x, np.array([p]), cache, scales)[0]
        p += 1
    return np.array(tokens, np.int32), np.stack(logits_rows), np.array(gaps, dtype=np.float64)


# ----------------------------------------------------------------------------------------------------
# Whole pipeline
# ----------------------------------------------------------------------------------------------------

def read_audio(path):
    """16-bit PCM mono 16 kHz WAV (int16 / 32768) or a float32 .npy of 16 kHz mono samples."""
    if path.lower().endswith(".npy"):
        x = np.load(path)
        if x.ndim != 1:
            x = x.reshape(-1)
        return x.astype(np.float32)
    with wave.open(path, "rb") as w:
        if w.getcomptype() != "NONE" or w.getsampwidth() != 2 or w.getnchannels() != 1 \
                or w.getframerate() != mel_ref.SAMPLE_RATE:
            raise ValueError("%s: need 16-bit PCM mono %d Hz WAV" % (path, mel_ref.SAMPLE_RATE))
        raw = w.readframes(w.getnframes())
    return (np.frombuffer(raw, dtype="<i2").astype(np.float32) / np.float32(32768.0))


def check_delay_ms(delay_ms):
    if delay_ms is None or delay_ms <= 0 or delay_ms % 80 != 0:
        raise ValueError("delay must be a positive multiple of 80 ms (§4.3), got %r" % (delay_ms,))


def run(model, samples, delay_ms, max_new_tokens=None, stop_on_eos=True, log=None):
    """samples: 1-D float32 at 16 kHz.  Returns every stage's output plus the summary numbers:
    mel (float32, from mel_ref), encoder / adapter (float64), tokens, logits (float32), top2 (float64)."""
    check_delay_ms(delay_ms)
    d_tok = mel_ref.delay_tokens(delay_ms)                          # §4.3 num_delay_tokens (6 for 480 ms)
    t0 = time.time()
    padded = mel_ref.pad_offline(samples, delay_ms)                 # §5.2 offline padding
    mel = mel_ref.log_mel(padded)                                   # §5 [n_mels, N/160], float32
    assert padded.size % model.cfg.samples_per_token == 0
    T = padded.size // model.cfg.samples_per_token                  # audio tokens = decoder positions
    assert mel.shape[1] == T * (model.cfg.samples_per_token // mel_ref.HOP)
    t1 = time.time()
    enc = encoder(model, mel.astype(np.float64))                    # §6.1-6.2 [T_mel/2, enc_dim]
    assert enc.shape[0] == mel.shape[1] // 2 == T * model.cfg.downsample
    t2 = time.time()
    a = adapter(model, enc)                                         # §6.3 [T, dim]
    assert a.shape[0] == T
    tokens, logits, gaps = decode(model, a, d_tok, max_new_tokens, stop_on_eos)
    t3 = time.time()
    if log:
        log("timing: mel %.2fs, encoder %.2fs, adapter+decoder %.2fs" % (t1 - t0, t2 - t1, t3 - t2))
    return {"mel": mel, "encoder": enc, "adapter": a, "tokens": tokens, "logits": logits, "top2": gaps,
            "n_samples": int(samples.size), "T": int(T), "P": 1 + mel_ref.LEFT_PAD_TOKENS + d_tok,
            "delay_tokens": d_tok}


def dump(res, outdir):
    os.makedirs(outdir, exist_ok=True)
    np.save(os.path.join(outdir, "mel.npy"), res["mel"].astype(np.float32))
    np.save(os.path.join(outdir, "encoder.npy"), res["encoder"].astype(np.float32))
    np.save(os.path.join(outdir, "adapter.npy"), res["adapter"].astype(np.float32))
    np.save(os.path.join(outdir, "logits.npy"), res["logits"].astype(np.float32, copy=False))
    np.save(os.path.join(outdir, "tokens.npy"), res["tokens"].astype(np.int32))
    np.save(os.path.join(outdir, "top2.npy"), res["top2"].astype(np.float64))


# ----------------------------------------------------------------------------------------------------
# Self-test (--self-test): checks that need no C++ engine
# ----------------------------------------------------------------------------------------------------

def tiny_params(dim=32, enc_dim=32, vocab=1100, dec_window=8192, enc_window=750):
    """A params.json dict of the real layout (§2) with tiny dimensions."""
    return {
        "dim": dim, "n_layers": 2, "head_dim": 8, "hidden_dim": 3 * dim, "n_heads": 4, "n_kv_heads": 2,
        "use_biases": False, "causal": True, "rope_theta": 1e6, "norm_eps": 1e-5, "vocab_size": vocab,
        "model_parallel": 1, "tied_embeddings": True, "sliding_window": dec_window, "model_max_length": 131072,
        "multimodal": {"whisper_model_args": {
            "encoder_args": {
                "audio_encoding_args": {"sampling_rate": 16000, "frame_rate": 12.5, "num_mel_bins": 128,
                                        "hop_length": 160, "window_size": 400, "chunk_length_s": None,
                                        "global_log_mel_max": 1.5, "transcription_format": "streaming"},
                "dim": enc_dim, "n_layers": 2, "head_dim": 8, "hidden_dim": 3 * enc_dim, "n_heads": 4,
                "vocab_size": vocab, "n_kv_heads": 4, "use_biases": True, "use_cache": False,
                "rope_theta": 1e6, "causal": True, "norm_eps": 1e-5, "pos_embed": "rope",
                "max_source_positions": None, "ffn_type": "swiglu", "norm_type": "rms_norm",
                "sliding_window": enc_window},
            "downsample_args": {"downsample_factor": 4}}},
        "ada_rms_norm_t_cond": True, "ada_rms_norm_t_cond_dim": 8,
    }


def random_tensors(cfg, rng):
    t = {}
    for name, shape in cfg.expected_shapes().items():
        if name.endswith("norm.weight"):
            t[name] = 1.0 + rng.uniform(-0.1, 0.1, shape)
        elif name.endswith(".bias"):
            t[name] = rng.uniform(-0.02, 0.02, shape)
        elif name.endswith("tok_embeddings.weight"):
            t[name] = rng.standard_normal(shape)
        else:
            fan_in = int(np.prod(shape[1:]))
            t[name] = rng.standard_normal(shape) / math.sqrt(fan_in)
    return t


def naive_attention(q, k, v, window):
    """Obviously-correct reference: positions 0..n-1, per query, per head, explicit loops."""
    n, hq, d = q.shape
    group = hq // k.shape[1]
    out = np.zeros_like(q)
    for i in range(n):
        js = [j for j in range(n) if 0 <= i - j and (window is None or i - j < window)]
        for h in range(hq):
            s = np.array([q[i, h] @ k[j, h // group] for j in js]) / math.sqrt(d)
            w = np.exp(s - s.max())
            w /= w.sum()
            out[i, h] = sum(wj * v[j, h // group] for wj, j in zip(w, js))
    return out


def self_test(model_dir=None):
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    rng = np.random.default_rng(1234)

    # §7.3 t_cond published values (n_delay = 6, dim 3072)
    tc = time_embedding(6, 3072)
    check(tc.shape == (3072,), "t_cond has dim 3072")
    check(abs(tc[0] - 0.960170) < 1e-6 and abs(tc[1] - 0.949532) < 1e-6 and abs(tc[1536] + 0.279415) < 1e-6
          and abs(tc[3071] - 0.000604) < 5e-7,
          "t_cond(6)[0,1,1536,3071] = %.6f %.6f %.6f %.6f (spec 0.960170 0.949532 -0.279415 ~0.000604)"
          % (tc[0], tc[1], tc[1536], tc[3071]))

    # exact GELU: x Phi(x), Phi(1) = 0.8413447460685429, Phi(3) = 0.9986501019683699 (normal table)
    g = gelu(np.array([-1.0, 0.0, 1.0, 3.0]))
    check(np.allclose(g, [-0.15865525393145707, 0.0, 0.8413447460685429, 2.99595030590511], rtol=0, atol=1e-15),
          "exact erf GELU at -1, 0, 1, 3")
    check(np.allclose(silu(np.array([-800.0, 0.0, 2.0])), [0.0, 0.0, 2.0 / (1.0 + math.exp(-2.0))], atol=1e-15),
          "SiLU (no overflow at -800)")

    # §3.5 RoPE: identity at position 0, norm preserving, and relative (q_m . k_n depends on m - n only)
    x = rng.standard_normal((3, 4, 64))
    check(np.array_equal(rope_interleaved(x, np.zeros(3), 1e6), x), "RoPE at position 0 is the identity")
    r = rope_interleaved(x, np.array([1, 77, 5000]), 1e6)
    check(np.allclose(np.linalg.norm(r, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-13),
          "RoPE preserves per-head norms")
    qv, kv = rng.standard_normal((1, 1, 64)), rng.standard_normal((1, 1, 64))
    d1 = (rope_interleaved(qv, [10], 1e4) * rope_interleaved(kv, [3], 1e4)).sum()
    d2 = (rope_interleaved(qv, [107], 1e4) * rope_interleaved(kv, [100], 1e4)).sum()
    check(abs(d1 - d2) < 1e-12, "RoPE scores depend only on the position difference")
    y = rope_interleaved(np.array([[[1.0, 0.0]]]), [1], 1e6)
    check(np.allclose(y, [[[math.cos(1.0), math.sin(1.0)]]], atol=1e-15), "RoPE rotates adjacent pair (0,1)")

    # attention masks
    n = 37
    q, k, v = rng.standard_normal((n, 4, 8)), rng.standard_normal((n, 2, 8)), rng.standard_normal((n, 2, 8))
    pos = np.arange(n)
    full = naive_attention(q, k, v, None)
    check(np.allclose(attend(q, pos, k, v, pos, n), full, atol=1e-13)
          and np.allclose(attend(q, pos, k, v, pos, 10 ** 6), full, atol=1e-13),
          "attention with window >= sequence equals full causal attention (GQA)")
    for win in (1, 5, 16):
        check(np.allclose(attend(q, pos, k, v, pos, win), naive_attention(q, k, v, win), atol=1e-13),
              "sliding window %d equals the naive masked attention" % win)
        check(np.allclose(encoder_attention_blocked(q, k, v, pos, win, block=7),
                          naive_attention(q, k, v, win), atol=1e-13),
              "blocked encoder attention (block 7, window %d) equals the naive one" % win)
    check(np.allclose(attend(q, pos, k, v, pos, 1)[:, :, :], np.repeat(v, 2, axis=1), atol=1e-14),
          "window 1 attends to itself only")

    # safetensors round trip for BF16 / F16 / F32
    with tempfile.TemporaryDirectory() as td:
        a = np.array([[1.0, -2.5, 3.140625], [65504.0, 1e-3, 0.0]], dtype=np.float32)
        ok = True
        for dt in ("BF16", "F16", "F32"):
            fn = os.path.join(td, dt + ".safetensors")
            write_safetensors(fn, {"x": a}, dt)
            got = read_safetensors(fn)["x"]
            want = {"BF16": (a.view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32),
                    "F16": a.astype(np.float16), "F32": a}[dt].astype(np.float64)
            ok &= got.dtype == np.float64 and np.array_equal(got, want)
        check(ok, "safetensors BF16/F16/F32 decode exactly to float64")

    # delay arithmetic (§4.3) and the generated-token count of the golden clips (SOURCES.md note 3)
    check(mel_ref.delay_tokens(480) == 6 and mel_ref.delay_tokens(80) == 1 and mel_ref.delay_tokens(2400) == 30,
          "delay_tokens(480, 80, 2400) = 6, 1, 30")
    audio_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "audio")
    if not os.path.isdir(audio_dir):
        audio_dir = "/work/shared/data/audio"
    golden = {"librispeech_dev-clean_8297-275156-0000.wav": 56,
              "librispeech_dev-clean_8297-275156-0001.wav": 69,
              "librispeech_dev-clean_8297-275156-0002.wav": 111}
    clips = {}
    for name, want in golden.items():
        path = os.path.join(audio_dir, name)
        if not os.path.exists(path):
            print("skip %s (not found)" % path)
            continue
        clips[name] = read_audio(path)
        L = clips[name].size
        for delay in (480, 80, 1200, 2400):
            T = mel_ref.pad_offline(clips[name], delay).size // 1280
            P = 33 + mel_ref.delay_tokens(delay)
            ok = T - P + 1 == math.ceil(L / 1280) + 11 and (delay != 480 or T - P + 1 == want)
            check(ok, "%s delay %d: T=%d P=%d -> %d generated (golden %d at 480)" % (name, delay, T, P, T - P + 1, want))

    # end-to-end on a checkpoint written here (tiny random weights, BF16), going through the loader
    with tempfile.TemporaryDirectory() as td:
        params = tiny_params(dec_window=16, enc_window=40)
        cfg = Config(params, {"transcription_delay_ms": 480, "streaming_n_left_pad_tokens": 32})
        write_safetensors(os.path.join(td, "consolidated.safetensors"), random_tensors(cfg, rng), "BF16")
        with open(os.path.join(td, "params.json"), "w") as f:
            json.dump(params, f)
        with open(os.path.join(td, "tekken.json"), "w") as f:
            json.dump({"audio": {"transcription_delay_ms": 480, "streaming_n_left_pad_tokens": 32,
                                 "sampling_rate": 16000, "frame_rate": 12.5}}, f)
        model = load_model(td)
        check(model.cfg.default_delay_ms == 480, "delay default read from tekken.json audio block")
        for name, samples in clips.items():
            res = run(model, samples, 480, stop_on_eos=False)
            T = res["T"]
            check(res["mel"].shape == (128, 8 * T) and res["encoder"].shape == (4 * T, 32)
                  and res["adapter"].shape == (T, 32),
                  "%s: mel %s = 8T, conv stem/encoder frames %d = T_mel/2 = 4T, adapter T=%d"
                  % (name, res["mel"].shape, res["encoder"].shape[0], T))
            check(len(res["tokens"]) == golden[name] and res["logits"].shape == (golden[name], 1100),
                  "%s: %d generated tokens with EOS ignored (golden %d)" % (name, len(res["tokens"]), golden[name]))
            capped = run(model, samples, 480, max_new_tokens=5, stop_on_eos=False)
            check(np.array_equal(capped["tokens"], res["tokens"][:5]) and
                  np.allclose(capped["logits"], res["logits"][:5], rtol=0, atol=0),
                  "%s: --max-new-tokens 5 is a prefix of the full run" % name)
        # conv stem against a direct loop over the formula of §6.1
        mel = rng.standard_normal((128, 16))
        W1, b1 = model[ENC_PREFIX + "conv_layers.0.conv.weight"], model[ENC_PREFIX + "conv_layers.0.conv.bias"]
        W2, b2 = model[ENC_PREFIX + "conv_layers.1.conv.weight"], model[ENC_PREFIX + "conv_layers.1.conv.bias"]
        xget = lambda a, t: a[:, t] if t >= 0 else np.zeros(a.shape[0])  # noqa: E731
        h1 = np.stack([gelu(b1 + sum(W1[:, :, j] @ xget(mel, t - 2 + j) for j in range(3))) for t in range(16)], 1)
        h2 = np.stack([gelu(b2 + sum(W2[:, :, j] @ xget(h1, 2 * i - 1 + j) for j in range(3))) for i in range(8)], 1)
        check(np.allclose(conv_stem(model, mel), h2.T, atol=1e-13), "conv stem equals the §6.1 formulas")
        # incremental decoding (prefill + one position at a time, window 16) equals one full-sequence pass
        a_emb = rng.standard_normal((60, 32))
        toks, lg, _ = decode(model, a_emb, 6, stop_on_eos=False, logits_dtype=np.float64)
        seq = [BOS_ID] + [STREAMING_PAD_ID] * 38 + list(toks[:-1])
        full = decoder_forward(model, a_emb + model.embeddings[seq], np.arange(60), KVCache(2),
                               ada_scales(model, 6))
        check(len(toks) == 60 - 39 + 1 and np.allclose(lg, full[38:], atol=1e-11),
              "KV-cached greedy decode equals a teacher-forced full pass (decoder window 16)")
        # EOS stops generation and is the last generated token: give EOS a huge random head row, so that
        # some step's EOS logit dominates (E[EOS] is never an input before that, so nothing else changes)
        w_eos = dict(model.w)
        emb = model.embeddings.copy()
        emb[EOS_ID] = 1e3 * rng.standard_normal(emb.shape[1])
        w_eos[EMB_PREFIX + "tok_embeddings.weight"] = emb
        m_eos = Model(model.cfg, w_eos)
        free, _, _ = decode(m_eos, a_emb, 6, stop_on_eos=False)
        stop, _, _ = decode(m_eos, a_emb, 6)
        first = list(free).index(EOS_ID) if EOS_ID in free else -1
        check(first >= 0 and np.array_equal(stop, free[:first + 1]),
              "generation stops right after the first EOS (step %d), which is the last token" % first)
        # top2 agrees with a sort
        srt = -np.sort(-lg, axis=1)[:, :2]
        check(np.array_equal(np.array([top2(r) for r in lg]), srt), "top2 = two largest logits")

    if model_dir:
        m = load_model(model_dir)
        check(True, "loaded %s: dim %d, %d+%d layers, vocab %d" % (model_dir, m.cfg.dim, m.cfg.enc_layers,
                                                                   m.cfg.n_layers, m.cfg.vocab_size))
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


# ----------------------------------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="checkpoint directory (consolidated.safetensors, params.json, tekken.json)")
    ap.add_argument("--audio", help="16-bit PCM mono 16 kHz WAV or float32 .npy")
    ap.add_argument("--delay-ms", type=int, default=None, help="default: tekken.json audio.transcription_delay_ms")
    ap.add_argument("--max-new-tokens", type=int, default=None, help="cap on the number of generated tokens")
    ap.add_argument("--dump", help="output directory for the .npy dumps")
    ap.add_argument("--quiet", action="store_true", help="no JSON summary on stdout")
    ap.add_argument("--self-test", action="store_true", help="run the built-in checks and exit")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test(args.model)
    if not args.model or not args.audio or not args.dump:
        ap.error("--model, --audio and --dump are required")
    if args.max_new_tokens is not None and args.max_new_tokens < 0:
        ap.error("--max-new-tokens must be >= 0")
    try:
        model = load_model(args.model)
        delay_ms = args.delay_ms if args.delay_ms is not None else model.cfg.default_delay_ms
        if delay_ms is None:
            ap.error("no --delay-ms and no audio.transcription_delay_ms in tekken.json")
        log = None if args.quiet else (lambda s: print(s, file=sys.stderr))
        res = run(model, read_audio(args.audio), int(delay_ms), args.max_new_tokens, log=log)
        dump(res, args.dump)
    except (ValueError, OSError, KeyError, wave.Error) as e:
        print("model_ref.py: error: %s" % e, file=sys.stderr)
        return 1
    if not args.quiet:
        print(json.dumps({"n_samples": res["n_samples"], "T": res["T"], "P": res["P"], "delay_ms": int(delay_ms),
                          "steps": int(len(res["tokens"])),
                          "tokens": [int(t) for t in res["tokens"]]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
