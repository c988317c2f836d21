#!/usr/bin/env python3
"""Independent numpy reference for the Voxtral-Realtime log-mel front end (spec section 5).

Written from ../shared/docs/voxtral-spec.md, not from the C++ code:
  optional offline padding (section 4.3): 32*1280 zeros left; right (1280 - L % 1280) % 1280
      + (delay_tokens + 1 + 10) * 1280 zeros, delay_tokens = num_audio_tokens(delay_ms)
  x -> np.pad(x, n_fft // 2, mode="reflect")            (torch.stft center=True)
  frames of n_fft every hop, the last one dropped       -> T = L // hop frames
  periodic Hann window, np.fft.rfft in float64, power |X|^2
  Slaney mel filters computed in float64 from the formula (Slaney scale and norm)
  log10(max(mel, 1e-10)); max(., log_mel_max - 8); (x + 4) / 4
Output: float32 array (n_mels, T), channel-major.

Usage: mel_ref.py IN.npy OUT.npy [IN2.npy OUT2.npy ...] [--pad-delay-ms N]
IN is a float32 1-D array of 16 kHz samples. Several IN/OUT pairs share one interpreter start.
"""
import argparse
import math
import sys

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 128
LOG_MEL_MAX = 1.5
SAMPLES_PER_TOKEN = 1280
LEFT_PAD_TOKENS = 32
BUFFER_TOKENS = 10


def slaney_hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    lin = 3.0 * f / 200.0
    log = 15.0 + np.log(np.maximum(f, 1e-300) / 1000.0) * 27.0 / np.log(6.4)
    return np.where(f < 1000.0, lin, log)


def slaney_mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    lin = 200.0 * m / 3.0
    log = 1000.0 * np.exp(np.log(6.4) / 27.0 * (m - 15.0))
    return np.where(m < 15.0, lin, log)


def mel_filters(n_freq_bins, n_mels, f_min, f_max, sample_rate):
    """[n_mels, n_freq_bins] Slaney filter bank, float64."""
    edges = slaney_mel_to_hz(np.linspace(slaney_hz_to_mel(f_min), slaney_hz_to_mel(f_max), n_mels + 2))
    freqs = np.linspace(0.0, sample_rate // 2, n_freq_bins)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lo) / (mid - lo)
    falling = (hi - freqs[None, :]) / (hi - mid)
    tri = np.clip(np.minimum(rising, falling), 0.0, None)
    return tri * (2.0 / (hi - lo))


def delay_tokens(delay_ms):
    """mistral-common AudioConfig.num_delay_tokens."""
    n = int(delay_ms / 1000.0 * SAMPLE_RATE)
    frames = n // HOP if n % HOP == 0 else math.ceil(n / HOP - 1)
    return math.ceil(frames / (SAMPLES_PER_TOKEN // HOP))


def pad_offline(x, delay_ms):
    right_tokens = delay_tokens(delay_ms) + 1 + BUFFER_TOKENS
    align = (SAMPLES_PER_TOKEN - len(x) % SAMPLES_PER_TOKEN) % SAMPLES_PER_TOKEN
    left = np.zeros(LEFT_PAD_TOKENS * SAMPLES_PER_TOKEN, dtype=x.dtype)
    right = np.zeros(align + right_tokens * SAMPLES_PER_TOKEN, dtype=x.dtype)
    return np.concatenate([left, x, right])


def log_mel(x):
    x = np.asarray(x, dtype=np.float64)
    n_frames = len(x) // HOP
    if n_frames == 0:
        return np.zeros((N_MELS, 0), dtype=np.float32)
    xp = np.pad(x, N_FFT // 2, mode="reflect")
    idx = np.arange(n_frames)[:, None] * HOP + np.arange(N_FFT)[None, :]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)
    filters = mel_filters(N_FFT // 2 + 1, N_MELS, 0.0, SAMPLE_RATE / 2, SAMPLE_RATE)
    out = np.empty((N_MELS, n_frames), dtype=np.float64)
    step = 4096  # frames per batch, to bound memory on long inputs
    for f0 in range(0, n_frames, step):
        spec = np.fft.rfft(xp[idx[f0:f0 + step]] * window, axis=-1)
        power = spec.real ** 2 + spec.imag ** 2
        out[:, f0:f0 + step] = filters @ power.T
    logs = np.log10(np.maximum(out, 1e-10))
    logs = np.maximum(logs, LOG_MEL_MAX - 8.0)
    return ((logs + 4.0) / 4.0).astype(np.float32)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", help="IN.npy OUT.npy pairs")
    ap.add_argument("--pad-delay-ms", type=int, default=None,
                    help="apply the offline padding schedule for this delay first")
    args = ap.parse_args(argv)
    if len(args.files) % 2 != 0:
        ap.error("expected IN.npy OUT.npy pairs")
    if args.pad_delay_ms is not None and (args.pad_delay_ms <= 0 or args.pad_delay_ms % 80 != 0):
        ap.error("--pad-delay-ms must be a positive multiple of 80")
    for src, dst in zip(args.files[0::2], args.files[1::2]):
        x = np.load(src)
        if x.ndim != 1:
            x = x.reshape(-1)
        x = x.astype(np.float32)
        if args.pad_delay_ms is not None:
            x = pad_offline(x, args.pad_delay_ms)
        np.save(dst, log_mel(x))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
