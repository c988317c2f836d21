// Quantized linear layers: packed int8 / int4 weights in the kernels' layout, and the matmuls
// over them with fp32 activations (weight-only schemes 8w, 4w) or int8 per-token dynamic
// activations (8da8w, 8da4w).
//
// Weight quantization (symmetric, per output row r and column group g of `group` columns):
//   q8: s = f16(max|W[r, g]| / 127), w = clamp(rint(W / s), -127, 127), group = cols (per channel)
//   q4: s = f16(max|W[r, g]| / 7),   w = clamp(rint(W / s), -8, 7),     group in {32,64,128,256}
// (s = 0 for an all-zero group; rint = round half to even.) The dequantized weight is w * s.
//
// Packed layout (PackedLayout below). Rows are taken in blocks of 16 (the last block padded
// with zero rows); within a block, data is a sequence of 64-byte chunks, each 16 rows x 4
// columns, row-interleaved: byte 4 * j + k of a chunk belongs to row 16 b + j. Stored values
// are unsigned, u = w + offset (offset 128 for q8, 8 for q4):
//   q8: chunk t (t < cols / 4) holds columns 4t..4t+3:  byte 4j + k = u[16b + j][4t + k]
//   q4: chunk t (t < cols / 8) holds columns 8t..8t+7:  byte 4j + k = u[.][8t + k] | u[.][8t + 4 + k] << 4
// so 32-bit lane j of a chunk is the 4 (q8) or 8 (q4) consecutive columns of row 16 b + j, one
// broadcast of 4 activation bytes feeds all 16 rows (vpdpbusd), and a q4 chunk splits into two
// q8-like chunks with an and / a shift. Scales: f16 [blocks][cols / group][16] (16 rows' scales
// of one group contiguous). Data of block b starts at b * block_bytes, every block 64-byte
// aligned when `data` is.
//
// Dynamic activations (8da*): each row i of x is quantized alone,
//   amax = max_c |x[i, c]|,  sx = amax / 127,  a[i, c] = rint(min(max(x[i, c] * inv, -127), 127))
//   with inv = 127 / amax (0 if amax == 0), fp32 arithmetic exactly in that form (the clamp is
//   x86 max/min order, so a NaN becomes -127), and the
// sums of a over each run of 32 columns are kept for the offset correction.
//
// The result, per x row i and W row r (the same float operations in every ISA path and for any
// m, thread count or row split, so all paths agree bitwise and a row's result does not depend
// on the batch it is in):
//   int8 activations:  acc_g = sum_{c in g} (u[r, c] - offset) * a[i, c]     (exact int32)
//                      t = 0;  for g in order: t = fma(float(acc_g), s[r, g], t)
//                      y[i, r] = t * sx[i]  (+ bias[r], a separate add)
//   fp32 activations:  d_g = 0;  for c in g in order: d_g = fma(float(u[r, c] - offset), x[i, c], d_g)
//                      t = 0;  for g in order: t = fma(d_g, s[r, g], t)
//                      y[i, r] = t  (+ bias[r])
// Error bounds (tests): weight rounding |W - w s| <= s / 2 per element (plus the f16 rounding
// of s, which is exact in w s); activation rounding |x - a sx| <= sx / 2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/aligned_buffer.h"
#include "kernels/kernels.h"

namespace vrt::kernels {

enum class QuantFormat : std::uint8_t { q8 = 1, q4 = 2 };

inline constexpr std::int64_t kQuantRowBlock = 16;
inline constexpr std::int64_t kQuantChunkBytes = 64;
inline constexpr std::int64_t kActSumCols = 32;  // activation sums are per 32 columns

int quant_offset(QuantFormat f);  // 128 or 8
int quant_max(QuantFormat f);     // 127 or 7

// Sizes of one packed matrix.
struct PackedLayout {
  std::int64_t rows = 0, cols = 0, group = 0;
  std::int64_t blocks = 0;        // ceil(rows / 16)
  std::int64_t groups = 0;        // cols / group
  std::int64_t block_bytes = 0;   // data bytes per 16-row block (a multiple of 64)
  std::int64_t data_bytes = 0;    // blocks * block_bytes
  std::int64_t scale_count = 0;   // f16 scales: blocks * groups * 16
};

// Throws vrt::Error(invalid_argument) naming `what` when the shape cannot be packed: cols must
// be a positive multiple of 32; q4's group a power of two in [32, 256] dividing cols; q8's
// group == cols (pass 0 for "per channel").
PackedLayout packed_layout(QuantFormat f, std::int64_t rows, std::int64_t cols, std::int64_t group,
                           std::string_view what);

struct QuantWeightView {
  QuantFormat format = QuantFormat::q8;
  std::int64_t rows = 0, cols = 0, group = 0;
  const std::uint8_t* data = nullptr;     // PackedLayout::data_bytes, 64-byte aligned
  const std::uint16_t* scales = nullptr;  // PackedLayout::scale_count f16 values
  std::int64_t block_bytes = 0;
  std::int64_t groups = 0;
};

// An owned packed matrix (quantization at load time or in `voxtral-rt quantize`).
struct PackedWeight {
  PackedLayout layout;
  QuantFormat format = QuantFormat::q8;
  AlignedBuffer data;
  std::vector<std::uint16_t> scales;
  QuantWeightView view() const;
};

// Quantizes and packs a float matrix (any WeightView dtype). Rows are split over `pool`.
// Throws vrt::Error if the shape cannot be packed or a scale overflows f16 (|W| > 65504 * 127).
PackedWeight quantize_weight(const WeightView& w, QuantFormat f, std::int64_t group,
                             std::string_view what, ThreadPool* pool);

// Rows [r0, r1) of a packed matrix, dequantized (w * s) to fp32 (embedding lookups, tests).
void dequantize_rows(const QuantWeightView& w, std::int64_t r0, std::int64_t r1, float* out);

// A Linear layer's weight as the model holds it: float (bf16/f16/f32 WeightView) or packed,
// and for packed weights whether activations are quantized dynamically (8da*).
struct LinearWeight {
  WeightView f;                 // used when !quantized()
  QuantWeightView q;            // used when quantized()
  bool dynamic_int8 = false;    // 8da*: int8 activations; else fp32 activations (8w, 4w)
  bool quantized() const { return q.data != nullptr; }
  std::int64_t rows() const { return quantized() ? q.rows : f.rows; }
  std::int64_t cols() const { return quantized() ? q.cols : f.cols; }
};

// y[i, r] = sum_c x[i, c] W[r, c] (+ bias[r]) for any LinearWeight; same contract as matmul.
void linear(const float* x, std::int64_t m, std::int64_t ldx, const LinearWeight& w,
            const float* bias, float* y, std::int64_t ldy, ThreadPool* pool);

// Rows [r0, r1) of a LinearWeight as fp32 (embedding lookups).
void linear_rows_to_f32(const LinearWeight& w, std::int64_t r0, std::int64_t r1, float* out);

// Dynamic activations of m rows of `cols` columns (cols a multiple of 32), as the int8 kernels
// read them: a [m][cols] int8, scale [m] (= sx), sums [m][cols / 32] int32.
struct QuantizedActs {
  const std::int8_t* a = nullptr;
  const float* scale = nullptr;
  const std::int32_t* sums = nullptr;
  std::int64_t m = 0, cols = 0;
};
void quantize_activations(const float* x, std::int64_t m, std::int64_t ldx, std::int64_t cols,
                          std::int8_t* a, float* scale, std::int32_t* sums);

}  // namespace vrt::kernels
