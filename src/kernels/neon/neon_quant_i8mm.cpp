// NEON + i8mm (FEAT_I8MM) packed-weight kernel: quant.h's int8 matmul on SMMLA for m >= 2 x
// rows, and the neon-i8mm kernel table's int8 matmul (every other kernel is the neon-dotprod
// table's; m = 1 goes to its SDOT tiles, as SMMLA would waste half of each product on it).
//
// SMMLA (vmmlaq_s32(acc, a, b)) adds the 2 x 2 int32 products of two 2 x 8 int8 matrices:
// acc += [a0.b0, a0.b1, a1.b0, a1.b1] (a0 = bytes 0-7 of a, a1 = bytes 8-15). Here a = two x
// rows i, i + 1 at columns k..k+7 and b = two W rows r, r + 1 at the same columns, so one
// instruction does 32 multiply-adds. The packed layout (quant.h, neon_quant.h) is left as it is:
// register q of a chunk holds rows 4q..4q+3, 32-bit lane j one row's 4 columns (q8) or 8
// nibbles (q4), so zipping 32-bit lanes gives the operands:
//   q8: zip1 / zip2 of chunks 2o and 2o + 1 (columns 8o..8o+3 and 8o+4..8o+7, xor 0x80: w = u - 128)
//   q4: zip1 / zip2 of chunk o's low and high nibbles (columns 8o..8o+3 and 8o+4..8o+7, u = 0..15)
// = [row 4q | row 4q + 1] and [row 4q + 2 | row 4q + 3] at columns 8o..8o+7.
//
// Why it is bitwise equal to the reference: the int32 sums of a group are exact in any order,
// acc_g = corr_g + sum u * a with corr_g = -8 * (sum of a over the group) for q4 (0 for q8's
// signed weights), as the SDOT tiles (../simd/quant_tile.h) compute them; the epilogue is
// theirs: t = fma(float(acc_g), s_g, t) per group in order, y = t * sx (+ bias). The products of
// rows i, i + 1 with W rows 4q..4q+3 are two SMMLA accumulators [i.4q, i.4q+1, i+1.4q, i+1.4q+1]
// and [i.4q+2, .., i+1.4q+3]; 64-bit zips give row i's and row i + 1's 4 W rows as lanes.
//
// Per m:
// * m = 1: neon_dotprod_qmatmul_int8_rows (SDOT tiles).
// * m = 2..4: one tile of 1 x-row pair by 2 blocks (m = 2) or 2 pairs by 1 block (m = 3, 4);
//   W is streamed once per call and zipped in the loop (prefetched like the SDOT tiles).
// * m > 4: each 16-row block is zipped once into per-thread scratch (the operands in order,
//   cols * 16 bytes), then tiles of 2 pairs (4 x rows) read it from L1/L2.
// An odd m's last row is paired with itself (one more product, no copy); only its first result
// is stored.
#include "kernels/neon/neon_quant.h"

// Compiled only through vrt_isa_sources (cmake/layers.cmake), which gives it these flags.
#if !(defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD) && \
      defined(__ARM_FEATURE_MATMUL_INT8))
#error "built without its instruction-set flags: add the file with vrt_isa_sources"
#endif
#include "kernels/prefetch.h"
#include "kernels/simd/quant_tile.h"

namespace vrt::kernels {
namespace neon_i8mm {
namespace {

using neon::Neon;
using simd::i64;
using simd::min_i64;

// m <= kSmallM: W streamed once, zipped in the loop; larger m: blocks zipped once into scratch.
constexpr i64 kSmallM = 4;
constexpr i64 kOpBytes = 128;  // the 8 operands of one block and one 8-column octet

// The SMMLA operands of W rows [4q, 4q + 1] (w01) and [4q + 2, 4q + 3] (w23) of one block
// (packed data at p) at columns 8o..8o+7. q4: nibbles as they are (0..15, corrected by corr).
template <QuantFormat F>
[[gnu::always_inline]] inline void weight_ops(const std::uint8_t* p, i64 o, int q, int8x16_t& w01, int8x16_t& w23) {
  int32x4_t lo, hi;
  if constexpr (F == QuantFormat::q8) {
    const uint8x16_t flip = vdupq_n_u8(0x80);
    lo = vreinterpretq_s32_u8(veorq_u8(vld1q_u8(p + (2 * o) * kQuantChunkBytes + 16 * q), flip));
    hi = vreinterpretq_s32_u8(veorq_u8(vld1q_u8(p + (2 * o + 1) * kQuantChunkBytes + 16 * q), flip));
  } else {
    const uint8x16_t raw = vld1q_u8(p + o * kQuantChunkBytes + 16 * q);
    lo = vreinterpretq_s32_u8(vandq_u8(raw, vdupq_n_u8(0x0f)));
    hi = vreinterpretq_s32_u8(vshrq_n_u8(raw, 4));
  }
  w01 = vreinterpretq_s8_s32(vzip1q_s32(lo, hi));
  w23 = vreinterpretq_s8_s32(vzip2q_s32(lo, hi));
}

// Block b's operands in order: out[o][k] (16 bytes each), k = 2q (w01) / 2q + 1 (w23).
template <QuantFormat F>
void zip_block(const QuantWeightView& w, i64 b, std::int8_t* out) {
  const std::uint8_t* p = w.data + b * w.block_bytes;
  const i64 octets = w.cols / 8;
  constexpr i64 kPackedPerOctet = F == QuantFormat::q8 ? 128 : 64;
  for (i64 o = 0; o < octets; ++o) {
    prefetch_range(p, o * kPackedPerOctet + kWeightPrefetchBytes, kPackedPerOctet);
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      int8x16_t w01, w23;
      weight_ops<F>(p, o, q, w01, w23);
      vst1q_s8(out + o * kOpBytes + 32 * q, w01);
      vst1q_s8(out + o * kOpBytes + 32 * q + 16, w23);
    }
  }
}

// Tile: MP pairs of x rows from i0 (the last row of an odd m paired with itself) by NR blocks
// from b0. Pre: operands from `pre` (zip_block of each block, block j at j * cols * 16), else
// zipped from the packed data in the loop.
template <QuantFormat F, int MP, int NR, bool Pre>
void mmla_tile(const QMatmulArgs& a, const std::int32_t* corr, const std::int8_t* pre, i64 i0, i64 b0, i64 r1) {
  const QuantWeightView& w = a.w;
  const i64 cols = w.cols, groups = w.groups, octets_per_group = w.group / 8;
  constexpr i64 kPackedPerOctet = F == QuantFormat::q8 ? 128 : 64;
  const std::uint8_t* wp[NR];
  const std::int8_t* pp[NR];
#pragma GCC unroll 2
  for (int j = 0; j < NR; ++j) {
    wp[j] = w.data + (b0 + j) * w.block_bytes;
    pp[j] = pre + j * cols * 16;
  }
  i64 row[MP][2];
  const std::int8_t* xp[MP][2];
#pragma GCC unroll 2
  for (int p = 0; p < MP; ++p) {
    row[p][0] = i0 + 2 * p;
    row[p][1] = min_i64(i0 + 2 * p + 1, a.m - 1);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) xp[p][h] = a.xq.a + row[p][h] * cols;
  }
  float32x4_t t[MP][2][NR * 4];
#pragma GCC unroll 2
  for (int p = 0; p < MP; ++p) {
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 8
      for (int k = 0; k < NR * 4; ++k) t[p][h][k] = Neon::zero();
    }
  }
  for (i64 g = 0; g < groups; ++g) {
    int32x4_t acc[MP][NR * 8];
#pragma GCC unroll 2
    for (int p = 0; p < MP; ++p) {
      const int32x4_t c0 =
          vcombine_s32(vdup_n_s32(corr[row[p][0] * groups + g]), vdup_n_s32(corr[row[p][1] * groups + g]));
#pragma GCC unroll 16
      for (int k = 0; k < NR * 8; ++k) acc[p][k] = c0;
    }
    const i64 o0 = g * octets_per_group, o1 = o0 + octets_per_group;
    for (i64 o = o0; o < o1; ++o) {
      if constexpr (!Pre) {  // the only tile of its blocks: it reads them from memory
#pragma GCC unroll 2
        for (int j = 0; j < NR; ++j) prefetch_range(wp[j], o * kPackedPerOctet + kWeightPrefetchBytes, kPackedPerOctet);
      }
      int8x16_t xa[MP];
#pragma GCC unroll 2
      for (int p = 0; p < MP; ++p) xa[p] = vcombine_s8(vld1_s8(xp[p][0] + o * 8), vld1_s8(xp[p][1] + o * 8));
#pragma GCC unroll 2
      for (int j = 0; j < NR; ++j) {
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q) {
          int8x16_t w01, w23;
          if constexpr (Pre) {
            w01 = vld1q_s8(pp[j] + o * kOpBytes + 32 * q);
            w23 = vld1q_s8(pp[j] + o * kOpBytes + 32 * q + 16);
          } else {
            weight_ops<F>(wp[j], o, q, w01, w23);
          }
#pragma GCC unroll 2
          for (int p = 0; p < MP; ++p) {
            acc[p][j * 8 + 2 * q] = vmmlaq_s32(acc[p][j * 8 + 2 * q], xa[p], w01);
            acc[p][j * 8 + 2 * q + 1] = vmmlaq_s32(acc[p][j * 8 + 2 * q + 1], xa[p], w23);
          }
        }
      }
    }
    // t = fma(float(acc_g), s_g, t): row i's lanes are the low halves, row i + 1's the high.
#pragma GCC unroll 2
    for (int j = 0; j < NR; ++j) {
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        const float32x4_t s = Neon::load_f16(w.scales + ((b0 + j) * groups + g) * kQuantRowBlock + 4 * q);
#pragma GCC unroll 2
        for (int p = 0; p < MP; ++p) {
          const int64x2_t a01 = vreinterpretq_s64_s32(acc[p][j * 8 + 2 * q]);
          const int64x2_t a23 = vreinterpretq_s64_s32(acc[p][j * 8 + 2 * q + 1]);
          const int32x4_t first = vreinterpretq_s32_s64(vzip1q_s64(a01, a23));
          const int32x4_t second = vreinterpretq_s32_s64(vzip2q_s64(a01, a23));
          t[p][0][j * 4 + q] = Neon::fma(vcvtq_f32_s32(first), s, t[p][0][j * 4 + q]);
          t[p][1][j * 4 + q] = Neon::fma(vcvtq_f32_s32(second), s, t[p][1][j * 4 + q]);
        }
      }
    }
  }
#pragma GCC unroll 2
  for (int p = 0; p < MP; ++p) {
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      if (h == 1 && row[p][1] == row[p][0]) break;  // an odd m's last row, paired with itself
      const float32x4_t sx = Neon::set1(a.xq.scale[row[p][h]]);
      float* y = a.y + row[p][h] * a.ldy;
#pragma GCC unroll 2
      for (int j = 0; j < NR; ++j) {
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q) {
          const i64 r = (b0 + j) * kQuantRowBlock + 4 * q;
          simd::store_rows<Neon>(Neon::mul(t[p][h][j * 4 + q], sx), a.bias, y, r, r1);
        }
      }
    }
  }
}

template <QuantFormat F>
void mmla_rows(const QMatmulArgs& a, const std::int32_t* corr, std::int8_t* pre, i64 r0, i64 r1) {
  const i64 b_end = (r1 + kQuantRowBlock - 1) / kQuantRowBlock;
  if (a.m <= kSmallM) {
    if (a.m <= 2) {  // one pair, 2 blocks per tile (two block streams)
      for (i64 b = r0 / kQuantRowBlock; b < b_end; b += 2) {
        if (b + 1 < b_end) {
          mmla_tile<F, 1, 2, false>(a, corr, nullptr, 0, b, r1);
        } else {
          mmla_tile<F, 1, 1, false>(a, corr, nullptr, 0, b, r1);
        }
      }
    } else {
      for (i64 b = r0 / kQuantRowBlock; b < b_end; ++b) mmla_tile<F, 2, 1, false>(a, corr, nullptr, 0, b, r1);
    }
    return;
  }
  for (i64 b = r0 / kQuantRowBlock; b < b_end; ++b) {
    zip_block<F>(a.w, b, pre);
    for (i64 i0 = 0; i0 < a.m; i0 += 4) {
      if (a.m - i0 > 2) {
        mmla_tile<F, 2, 1, true>(a, corr, pre, i0, b, r1);
      } else {
        mmla_tile<F, 1, 1, true>(a, corr, pre, i0, b, r1);
      }
    }
  }
}

void qmatmul_int8_rows(const QMatmulArgs& a, i64 r0, i64 r1) {
  const QuantWeightView& w = a.w;
  if (r1 > w.rows) r1 = w.rows;
  if (a.m <= 0 || r1 <= r0) return;
  if (a.m == 1) {
    neon_dotprod_qmatmul_int8_rows(a, r0, r1);
    return;
  }
  // corr[i][g] = -8 * sum of a[i] over group g (q4; q8's weights are signed: 0), as the SDOT tiles.
  const i64 groups = w.groups;
  const int off = w.format == QuantFormat::q8 ? 0 : 8;
  const i64 corr_floats = (a.m * groups + 15) / 16 * 16;
  const i64 pre_bytes = a.m > kSmallM ? w.cols * 16 : 0;
  float* scratch = detail::thread_scratch(static_cast<std::size_t>(corr_floats + pre_bytes / 4));
  auto* corr = reinterpret_cast<std::int32_t*>(scratch);
  auto* pre = reinterpret_cast<std::int8_t*>(scratch + corr_floats);
  simd::group_corrections(a, off, corr);
  if (w.format == QuantFormat::q8) {
    mmla_rows<QuantFormat::q8>(a, corr, pre, r0, r1);
  } else {
    mmla_rows<QuantFormat::q4>(a, corr, pre, r0, r1);
  }
}

}  // namespace
}  // namespace neon_i8mm

void neon_i8mm_qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1) {
  neon_i8mm::qmatmul_int8_rows(a, r0, r1);
}

}  // namespace vrt::kernels
