#!/usr/bin/env bash
# The arm64 build against the x86-64 build on a tiny model (issue #16), run under qemu-user:
#  1. a packed 8da4w .vxrt made on x86: `transcribe --dump` under each core model gives every
#     dump (mel, encoder, adapter, logits, tokens) bit-identical to the x86 build's, and the
#     reference table (VRT_ISA=ref) gives the same bits on both architectures;
#  2. the fp32 checkpoint: the same tokens, logits within 1e-5 of their largest magnitude
#     (the encoder's float GEMMs over m > 16 rows sum in an order of their own per ISA,
#     kernels.h; everything else is bitwise);
#  3. a .vxrt written under qemu is byte-identical to the x86 one (one portable layout);
#  4. `--version` names the kernel table the core model should get;
#  5. `stream` of the clip equals `transcribe` (streaming == offline) on arm64;
#  6. `serve` under qemu answers an upload (curl) with the offline transcript.
# Usage: cross_arch_check.sh HOST_BUILD ARM64_BUILD SHARED_DATA
#   VRT_QEMU_CPUS  core models to run (default "max cortex-a72"); max must name neon-i8mm (or
#                  neon-dotprod in a build without it), cortex-a72 neon.
set -euo pipefail
host="$(cd "$1" && pwd)" arm="$(cd "$2" && pwd)" data="$3"
src="$(cd "$(dirname "$0")/../.." && pwd)"
qemu="$src/scripts/qemu-aarch64.sh"
py="${VRT_PYTHON:-/usr/bin/python3}"
for b in "$host/bin/voxtral-rt" "$host/bin/voxtral-rt-synth" "$arm/bin/voxtral-rt"; do
  [[ -x "$b" ]] || { echo "cross_arch_check: $b is missing (build the x86 and the arm64 trees first)" >&2; exit 2; }
done
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
H="$host/bin/voxtral-rt"
A() { "$qemu" "$arm/bin/voxtral-rt" "$@"; }
clip="$data/audio/jfk.wav"
fail() { echo "cross_arch_check: FAIL: $*" >&2; exit 1; }
same_dumps() {  # DIR_A DIR_B WHAT
  for f in mel encoder adapter logits tokens; do
    cmp -s "$1/$f.npy" "$2/$f.npy" || fail "$3: $f.npy differs"
  done
}

"$host/bin/voxtral-rt-synth" -q --config tiny --seed 7 --weight-scale 1.6 --vocab-ranks 400 -o "$work/model" >/dev/null
"$H" quantize -m "$work/model" -o "$work/x86.vxrt" --qlinear 8da4w >/dev/null
"$H" transcribe -m "$work/x86.vxrt" --dump "$work/x86-q" "$clip" >"$work/x86-q.txt"
VRT_ISA=ref "$H" transcribe -m "$work/x86.vxrt" --dump "$work/x86-q-ref" "$clip" >/dev/null
same_dumps "$work/x86-q" "$work/x86-q-ref" "x86: the default table against the reference"
"$H" transcribe -m "$work/model" --dump "$work/x86-f" "$clip" >/dev/null
echo "x86 ($("$H" --version | sed -n 3p)): packed and reference dumps identical"

cpus="${VRT_QEMU_CPUS:-max cortex-a72}"
for cpu in $cpus; do
  export VRT_QEMU_CPU="$cpu"
  table="$(A --version | sed -n 's/^kernel table: //p')"
  case "$cpu" in
    max) [[ "$table" == neon-i8mm || "$table" == neon-dotprod ]] || fail "-cpu max runs table '$table'" ;;
    cortex-a72) [[ "$table" == neon ]] || fail "-cpu cortex-a72 runs table '$table'" ;;
  esac
  A transcribe -m "$work/x86.vxrt" --dump "$work/$cpu-q" "$clip" >"$work/$cpu-q.txt"
  same_dumps "$work/x86-q" "$work/$cpu-q" "-cpu $cpu ($table), packed"
  cmp -s "$work/x86-q.txt" "$work/$cpu-q.txt" || fail "-cpu $cpu: packed transcript differs"
  VRT_ISA=ref A transcribe -m "$work/x86.vxrt" --dump "$work/$cpu-q-ref" "$clip" >/dev/null
  same_dumps "$work/x86-q" "$work/$cpu-q-ref" "-cpu $cpu (ref), packed"
  A transcribe -m "$work/model" --dump "$work/$cpu-f" "$clip" >/dev/null
  "$py" - "$work/x86-f" "$work/$cpu-f" <<'EOF' || fail "-cpu $cpu: fp32 dumps"
import sys, numpy as np
a, b = sys.argv[1], sys.argv[2]
ta, tb = np.load(a + "/tokens.npy"), np.load(b + "/tokens.npy")
assert ta.shape == tb.shape and (ta == tb).all(), "tokens differ"
la, lb = np.load(a + "/logits.npy"), np.load(b + "/logits.npy")
err = float(np.abs(la - lb).max() / np.abs(la).max())
assert err <= 1e-5, f"logits differ by {err:.3g} of their largest magnitude"
print(f"fp32: {len(ta)} tokens identical, logits within {err:.2g}")
EOF
  echo "-cpu $cpu ($table): packed dumps bit-identical to x86, reference table too"
done
export VRT_QEMU_CPU="${cpus%% *}"  # the rest under the first core model

A quantize -m "$work/model" -o "$work/arm.vxrt" --qlinear 8da4w >/dev/null
cmp -s "$work/x86.vxrt" "$work/arm.vxrt" || fail "the .vxrt written on arm64 differs from the x86 one"
echo "quantize: the arm64 .vxrt is byte-identical to the x86 one"

A stream -m "$work/x86.vxrt" --input-format wav <"$clip" >"$work/stream.txt"
"$py" - "$work/x86-q.txt" "$work/stream.txt" <<'EOF' || fail "stream differs from transcribe"
import sys
a, b = (" ".join(open(p).read().split()) for p in sys.argv[1:3])
assert a == b, f"transcribe {a!r} != stream {b!r}"
EOF
echo "stream == transcribe on arm64"

A serve -m "$work/x86.vxrt" --port 0 >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
port=""
for _ in $(seq 1 600); do
  port="$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/serve.out")"
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; fail "serve exited"; }
  sleep 0.2
done
[[ -n "$port" ]] || fail "serve did not listen within 120 s"
curl -sS --max-time 300 -F file=@"$clip" -F model=voxtral-mini-transcribe-realtime-2602 -F response_format=text \
  "http://127.0.0.1:$port/v1/audio/transcriptions" >"$work/served.txt"
"$py" - "$work/x86-q.txt" "$work/served.txt" <<'EOF' || fail "the served transcript differs"
import sys
a, b = (" ".join(open(p).read().split()) for p in sys.argv[1:3])
assert a == b, f"transcribe {a!r} != served {b!r}"
EOF
echo "serve under qemu: the upload's transcript equals transcribe"
echo "cross_arch_check: all passed"
