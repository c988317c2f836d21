// AMX (Intel Advanced Matrix Extensions, tile int8) packed-weight kernel: quant.h's int8 matmul
// for m >= kAmxMinM rows on TDPBSSD, and the avx512amx kernel table (the avx512vnni table with
// this int8 matmul; smaller m goes to the VNNI tiles).
//
// Why it is bitwise equal to the reference: quant.h fixes acc_g = sum over group g of
// (u - offset) * a as an exact int32, then t = fma(float(acc_g), s_g, t) group by group. AMX
// computes exactly those integer sums (signed x signed bytes, int32 accumulation, no
// saturation: |acc_g| <= 128 * 127 * cols stays far below 2^31 for any cols the loader accepts),
// one C tile per group, and the group epilogue does the same fma per element in the same
// order, so the floats match bit for bit whatever m, row split or thread count.
//
// Data path per thread (rows [r0, r1) of W = output columns):
// * a panel of up to 2 row blocks (32 W rows) is unpacked once into per-thread scratch as
//   signed bytes w = u - offset in the tile B layout: for each 4-column quad q of the input, 64
//   bytes = 16 W rows x 4 columns. That is exactly the packed chunk layout (quant.h) after
//   splitting q4's nibbles (lo = quad 2t, hi = quad 2t + 1) and removing the offset (q8: xor
//   0x80), so the offset correction of the VNNI path disappears;
// * x rows go in tiles of 16 (A: 16 rows x K bytes straight from the int8 activations, the
//   last partial tile from a zero-padded copy); up to 2 x 2 C tiles (32 x rows x 32 W rows) per
//   step, or 4 x 1 (64 x rows x 16 W rows) for 3-4 x-row tiles, K = 64 bytes per TDPBSSD (32
//   when the group is 32 or the group is not a multiple of 64);
// * at each group end the C tiles are stored and folded into fp32 accumulators (scratch,
//   16 lanes = 16 W rows, so one scale vector serves a whole tile).
// Tile registers: 0-3 C, 4-5 A, 6-7 B. The tile state is configured per call and released at
// the end (no AMX state is left for the kernel to save on context switches).
#include "kernels/avx512/avx512_quant.h"
#include "kernels/prefetch.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
// (GCC spells the AMX macros __AMX_TILE__, Clang __AMXTILE__.)
#if !(defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
      defined(__AVX512VL__) && defined(__AVX512VNNI__) && \
      (defined(__AMX_TILE__) || defined(__AMXTILE__)) && \
      (defined(__AMX_INT8__) || defined(__AMXINT8__)))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include <immintrin.h>

#include <cstring>

namespace vrt::kernels {
namespace avx512amx {
namespace {

using i64 = std::int64_t;

inline i64 imin(i64 a, i64 b) { return a < b ? a : b; }

// Kernel benchmark (1 thread, 5120 x 1280 and 2048 x 3072): AMX equals the VNNI path at
// m = 12-16 and wins from there (q8 1.4x at m = 39, 2.3x at m = 256; q4 with 32-column groups
// 1.05-1.1x: every group is its own K = 32 product and fp32 epilogue). Below 9 rows the VNNI
// small-m tiles (W read once per call, no tile set-up) are the better choice.
constexpr i64 kAmxMinM = 9;
constexpr int kPanelBlocks = 2;

struct alignas(64) TileConfig {
  std::uint8_t palette = 0;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

void configure_tiles(int kb) {
  TileConfig c;
  c.palette = 1;
  for (int t = 0; t < 4; ++t) {  // C: 16 x 16 int32
    c.colsb[t] = 64;
    c.rows[t] = 16;
  }
  for (int t = 4; t < 6; ++t) {  // A: 16 x rows x kb bytes
    c.colsb[t] = static_cast<std::uint16_t>(kb);
    c.rows[t] = 16;
  }
  for (int t = 6; t < 8; ++t) {  // B: kb / 4 quads x (16 W rows x 4 bytes)
    c.colsb[t] = 64;
    c.rows[t] = static_cast<std::uint8_t>(kb / 4);
  }
  _tile_loadconfig(&c);
}

// Blocks [b0, b0 + nb) as signed bytes in the B layout: out + j * cols * 16 + q * 64.
void unpack_panel(const QuantWeightView& w, i64 b0, int nb, std::int8_t* out) {
  const __m512i nib = _mm512_set1_epi8(0x0f), eight = _mm512_set1_epi8(8);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int j = 0; j < nb; ++j) {
    const std::uint8_t* p = w.data + (b0 + j) * w.block_bytes;
    std::int8_t* o = out + j * w.cols * 16;
    if (w.format == QuantFormat::q8) {
      for (i64 q = 0; q < w.cols / 4; ++q) {
        _mm512_store_si512(o + q * 64, _mm512_xor_si512(_mm512_loadu_si512(p + q * 64), flip));
      }
    } else {
      for (i64 t = 0; t < w.cols / 8; ++t) {
        const __m512i raw = _mm512_loadu_si512(p + t * 64);
        const __m512i lo = _mm512_sub_epi8(_mm512_and_si512(raw, nib), eight);
        const __m512i hi = _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(raw, 4), nib), eight);
        _mm512_store_si512(o + t * 128, lo);
        _mm512_store_si512(o + t * 128 + 64, hi);
      }
    }
  }
}

// Columns [c, c + kb) of blocks [b0, b0 + nb) as signed bytes in the B layout (kb / 4 quads of
// 64 bytes per block, block j at out + j * kb * 16): unpack_panel's bytes for one K step.
[[gnu::always_inline]] inline void unpack_step(const QuantWeightView& w, i64 b0, int nb, i64 c, i64 kb, std::int8_t* out) {
  const __m512i nib = _mm512_set1_epi8(0x0f), eight = _mm512_set1_epi8(8);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int j = 0; j < nb; ++j) {
    const std::uint8_t* p = w.data + (b0 + j) * w.block_bytes;
    std::int8_t* o = out + j * kb * 16;
    if (w.format == QuantFormat::q8) {
      for (i64 q = 0; q < kb / 4; ++q)
        _mm512_store_si512(o + q * 64, _mm512_xor_si512(_mm512_loadu_si512(p + (c / 4 + q) * 64), flip));
    } else {
      for (i64 t = 0; t < kb / 8; ++t) {
        const __m512i raw = _mm512_loadu_si512(p + (c / 8 + t) * 64);
        _mm512_store_si512(o + t * 128, _mm512_sub_epi8(_mm512_and_si512(raw, nib), eight));
        _mm512_store_si512(o + t * 128 + 64, _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(raw, 4), nib), eight));
      }
    }
  }
}

struct Work {
  const QMatmulArgs* a;
  const std::int8_t* panel;  // unpack_panel output
  const std::int8_t* tail;   // the last partial x-row tile, zero-padded to 16 rows (or null)
  i64 full_tiles;            // x-row tiles read straight from the activations
  i64 kb;                    // bytes of K per tile product
  std::int32_t* cbuf;        // 4 C tiles, 16 x 16 int32 each
  float* acc;                // [2][2][16][16] fp32 accumulators
};

inline const std::int8_t* a_tile(const Work& k, i64 mt, i64 col) {
  const i64 cols = k.a->w.cols;
  return (mt < k.full_tiles ? k.a->xq.a + mt * 16 * cols : k.tail) + col;
}

// Software prefetch (prefetch.h) kWeightPrefetchBytes ahead of the unpack in each of the NB
// block streams; past a block's end, the same offset into the next panel's blocks (this
// thread's, below r1). Without it the unpack's loads stalled at each 4 KiB page.
[[gnu::always_inline]] inline void prefetch_ahead(const Work& k, i64 b0, int nb, i64 c, i64 r1) {
  const QuantWeightView& w = k.a->w;
  const i64 bytes = k.kb * 16 / (w.format == QuantFormat::q4 ? 2 : 1);  // packed bytes per K step and block
  const i64 off = c * 16 / (w.format == QuantFormat::q4 ? 2 : 1) + kWeightPrefetchBytes;
  const i64 b_end = (r1 + kQuantRowBlock - 1) / kQuantRowBlock;
  for (int j = 0; j < nb; ++j) {
    i64 b = b0 + j, o = off;
    if (o >= w.block_bytes) {
      b += nb;
      o -= w.block_bytes;
      if (b >= b_end) continue;
    }
    prefetch_range(w.data, b * w.block_bytes + o, bytes);
  }
}

// The C tile (and its cbuf / acc slot) of x-row tile im and W block jn in a tile_step: 2 x 2
// for up to two x-row tiles, one block column of up to four x-row tiles otherwise.
template <int NM>
constexpr int ctile(int im, int jn) {
  return NM > 2 ? im : im * 2 + jn;
}

// One step of NM x-row tiles (from tile mt) by NB W blocks (from panel block 0): all groups.
// Streamed (at most 4 x-row tiles, so each B tile is used by one step only): the B tiles of
// each K step are unpacked right before their products into a small buffer that stays in L1,
// instead of a whole panel up front, so the weight reads from memory interleave with the tile
// products rather than stalling in bursts between them (2.3x the read time at m = 16 before;
// BM_QPass m = 40: 1.82 ms through panels, 1.29 streamed, against 0.89 + 0.61 for 32 + 8 rows).
template <int NM, int NB, bool Stream>
void tile_step(const Work& k, i64 mt, i64 b0, i64 r1) {
  const QMatmulArgs& a = *k.a;
  const QuantWeightView& w = a.w;
  const i64 cols = w.cols, groups = w.groups;
  std::memset(k.acc, 0, sizeof(float) * 4 * 256);
  for (i64 g = 0; g < groups; ++g) {
    _tile_zero(0);
    if constexpr (NB > 1 || NM > 2) _tile_zero(1);
    if constexpr (NM > 1) _tile_zero(2);
    if constexpr ((NM > 1 && NB > 1) || NM > 3) _tile_zero(3);
    int parity = 0;
    for (i64 c = g * w.group; c < (g + 1) * w.group; c += k.kb, parity ^= 1) {
      const std::int8_t* b_tile = k.panel + c * 16;
      i64 b_next = cols * 16;  // from block 0's B tile to block 1's
      if constexpr (Stream) {  // two buffers in turn, so a step's stores never wait on the last loads
        b_tile = k.panel + parity * 2 * k.kb * 16;
        b_next = k.kb * 16;
        prefetch_ahead(k, b0, NB, c, r1);
        unpack_step(w, b0, NB, c, k.kb, const_cast<std::int8_t*>(b_tile));
      }
      if constexpr (NM > 2) {  // one B tile for 3-4 x-row tiles: C tile im, A tiles in turn
        _tile_loadd(6, b_tile, 64);
        _tile_loadd(4, a_tile(k, mt, c), cols);
        _tile_dpbssd(0, 4, 6);
        _tile_loadd(5, a_tile(k, mt + 1, c), cols);
        _tile_dpbssd(1, 5, 6);
        _tile_loadd(4, a_tile(k, mt + 2, c), cols);
        _tile_dpbssd(2, 4, 6);
        if constexpr (NM > 3) {
          _tile_loadd(5, a_tile(k, mt + 3, c), cols);
          _tile_dpbssd(3, 5, 6);
        }
        continue;
      }
      _tile_loadd(4, a_tile(k, mt, c), cols);
      _tile_loadd(6, b_tile, 64);
      _tile_dpbssd(0, 4, 6);
      if constexpr (NB > 1) {
        _tile_loadd(7, b_tile + b_next, 64);
        _tile_dpbssd(1, 4, 7);
      }
      if constexpr (NM > 1) {
        _tile_loadd(5, a_tile(k, mt + 1, c), cols);
        _tile_dpbssd(2, 5, 6);
        if constexpr (NB > 1) _tile_dpbssd(3, 5, 7);
      }
    }
    // C tile (im, jn) -> buffer ctile(im, jn) (tile registers 0-3 as used above).
    _tile_stored(0, k.cbuf, 64);
    if constexpr (NB > 1 || NM > 2) _tile_stored(1, k.cbuf + 256, 64);
    if constexpr (NM > 1) _tile_stored(2, k.cbuf + 512, 64);
    if constexpr ((NM > 1 && NB > 1) || NM > 3) _tile_stored(3, k.cbuf + 768, 64);
    // acc = fma(float(acc_g), s_g, acc) for the rows that exist.
#pragma GCC unroll 2
    for (int im = 0; im < NM; ++im) {
      const i64 valid = imin(16, a.m - (mt + im) * 16);
#pragma GCC unroll 2
      for (int jn = 0; jn < NB; ++jn) {
        const __m512 s = _mm512_cvtph_ps(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.scales + ((b0 + jn) * groups + g) * kQuantRowBlock)));
        const std::int32_t* cb = k.cbuf + ctile<NM>(im, jn) * 256;
        float* t = k.acc + ctile<NM>(im, jn) * 256;
        for (i64 r = 0; r < valid; ++r) {
          const __m512 v = _mm512_cvtepi32_ps(_mm512_load_si512(cb + r * 16));
          _mm512_store_ps(t + r * 16, _mm512_fmadd_ps(v, s, _mm512_load_ps(t + r * 16)));
        }
      }
    }
  }
  // y = t * sx (+ bias), W rows below r1 only.
  for (int im = 0; im < NM; ++im) {
    const i64 i0 = (mt + im) * 16, valid = imin(16, a.m - i0);
    for (int jn = 0; jn < NB; ++jn) {
      const i64 r = (b0 + jn) * kQuantRowBlock, n = imin(16, r1 - r);
      if (n <= 0) continue;
      const auto mask = static_cast<__mmask16>(n >= 16 ? 0xffffu : (1u << n) - 1u);
      const __m512 bias = a.bias != nullptr ? _mm512_maskz_loadu_ps(mask, a.bias + r) : _mm512_setzero_ps();
      const float* t = k.acc + ctile<NM>(im, jn) * 256;
      for (i64 i = 0; i < valid; ++i) {
        __m512 out = _mm512_mul_ps(_mm512_load_ps(t + i * 16), _mm512_set1_ps(a.xq.scale[i0 + i]));
        if (a.bias != nullptr) out = _mm512_add_ps(out, bias);
        _mm512_mask_storeu_ps(a.y + (i0 + i) * a.ldy + r, mask, out);
      }
    }
  }
}

void amx_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  const QuantWeightView& w = a.w;
  const i64 cols = w.cols;
  const i64 tiles = (a.m + 15) / 16, full = a.m / 16;
  // The panel, or the streamed steps' two buffers (2 x 2 blocks x 64 x 16 bytes).
  const i64 panel_bytes = tiles <= 4 ? 2 * kPanelBlocks * 64 * 16 : kPanelBlocks * cols * 16;
  const i64 tail_bytes = tiles > full ? 16 * cols : 0;
  // Scratch (64-byte aligned pieces): panel, tail, C tiles (4 KiB), accumulators (4 KiB).
  const i64 floats = (panel_bytes + tail_bytes) / 4 + 1024 + 1024;
  float* scratch = detail::thread_scratch(static_cast<std::size_t>(floats));
  auto* panel = reinterpret_cast<std::int8_t*>(scratch);
  std::int8_t* tail = tail_bytes > 0 ? panel + panel_bytes : nullptr;
  auto* cbuf = reinterpret_cast<std::int32_t*>(scratch + (panel_bytes + tail_bytes) / 4);
  float* acc = scratch + (panel_bytes + tail_bytes) / 4 + 1024;
  if (tail != nullptr) {
    const i64 rows = a.m - full * 16;
    std::memcpy(tail, a.xq.a + full * 16 * cols, static_cast<std::size_t>(rows * cols));
    std::memset(tail + rows * cols, 0, static_cast<std::size_t>((16 - rows) * cols));
  }
  const i64 kb = w.group % 64 == 0 ? 64 : 32;
  configure_tiles(static_cast<int>(kb));
  const Work k{&a, panel, tail, full, kb, cbuf, acc};
  const i64 b_end = (r1 + kQuantRowBlock - 1) / kQuantRowBlock;
  if (tiles <= 2) {  // every B tile is used by one step: unpack per K step (see tile_step)
    for (i64 b = r0 / kQuantRowBlock; b < b_end; b += kPanelBlocks) {
      const int nb = static_cast<int>(imin(kPanelBlocks, b_end - b));
      if (nb == 2) {
        if (tiles == 2) tile_step<2, 2, true>(k, 0, b, r1); else tile_step<1, 2, true>(k, 0, b, r1);
      } else {
        if (tiles == 2) tile_step<2, 1, true>(k, 0, b, r1); else tile_step<1, 1, true>(k, 0, b, r1);
      }
    }
    _tile_release();
    return;
  }
  if (tiles <= 4) {  // 33-64 rows (batched decoder passes): still streamed, one block per step
    for (i64 b = r0 / kQuantRowBlock; b < b_end; ++b) {
      if (tiles == 4) tile_step<4, 1, true>(k, 0, b, r1); else tile_step<3, 1, true>(k, 0, b, r1);
    }
    _tile_release();
    return;
  }
  for (i64 b = r0 / kQuantRowBlock; b < b_end; b += kPanelBlocks) {
    const int nb = static_cast<int>(imin(kPanelBlocks, b_end - b));
    unpack_panel(w, b, nb, panel);
    // The next panel's packed bytes come from DRAM: prefetch them in slices while this panel's
    // tile products run, so the unpack above does not wait for memory.
    const std::uint8_t* next = w.data + (b + kPanelBlocks) * w.block_bytes;
    const i64 next_bytes = imin(kPanelBlocks, b_end - b - kPanelBlocks) * w.block_bytes;
    const i64 steps = (tiles + 1) / 2, slice = (next_bytes / 64 + steps - 1) / steps * 64;
    for (i64 mt = 0; mt < tiles; mt += 2) {
      for (i64 off = (mt / 2) * slice, end = imin(off + slice, next_bytes); off < end; off += 64)
        _mm_prefetch(reinterpret_cast<const char*>(next + off), _MM_HINT_T1);
      const bool two_m = mt + 1 < tiles;
      if (nb == 2) {
        if (two_m) tile_step<2, 2, false>(k, mt, b, r1); else tile_step<1, 2, false>(k, mt, b, r1);
      } else {
        if (two_m) tile_step<2, 1, false>(k, mt, b, r1); else tile_step<1, 1, false>(k, mt, b, r1);
      }
    }
  }
  _tile_release();
}

}  // namespace

void qmatmul_int8_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  if (r1 > a.w.rows) r1 = a.w.rows;
  if (a.m <= 0 || r1 <= r0) return;
  if (a.m < kAmxMinM) {
    avx512vnni_qmatmul_int8_rows(a, r0, r1);
    return;
  }
  amx_rows(a, r0, r1);
}

}  // namespace avx512amx

void avx512amx_qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1) {
  avx512amx::qmatmul_int8_rows(a, r0, r1);
}


}  // namespace vrt::kernels
