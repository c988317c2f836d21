// Scalar reference of the packed-weight kernels (quant.h): the oracle the ISA paths must equal
// bitwise, and the fallback without AVX2. Reads the packed layout element by element, so it
// also pins the layout down.
#include <cmath>
#include <cstdint>

#include "common/half.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref_quant.h"

namespace vrt::kernels::ref {

int packed_value(const QuantWeightView& w, std::int64_t r, std::int64_t c) {
  const std::uint8_t* block = w.data + (r / kQuantRowBlock) * w.block_bytes;
  const std::int64_t j = r % kQuantRowBlock;
  if (w.format == QuantFormat::q8) return block[(c / 4) * kQuantChunkBytes + 4 * j + c % 4] - 128;
  const std::uint8_t b = block[(c / 8) * kQuantChunkBytes + 4 * j + c % 4];
  return ((c % 8) < 4 ? (b & 0x0f) : (b >> 4)) - 8;
}

float packed_scale(const QuantWeightView& w, std::int64_t r, std::int64_t g) {
  return f16_to_f32(w.scales[((r / kQuantRowBlock) * w.groups + g) * kQuantRowBlock + r % kQuantRowBlock]);
}

void qmatmul_f32_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1) {
  const QuantWeightView& w = a.w;
  if (r1 > w.rows) r1 = w.rows;
  for (std::int64_t i = 0; i < a.m; ++i) {
    const float* x = a.x + i * a.ldx;
    for (std::int64_t r = r0; r < r1; ++r) {
      float t = 0.0f;
      for (std::int64_t g = 0; g < w.groups; ++g) {
        float d = 0.0f;
        for (std::int64_t c = g * w.group; c < (g + 1) * w.group; ++c)
          d = std::fma(static_cast<float>(packed_value(w, r, c)), x[c], d);
        t = std::fma(d, packed_scale(w, r, g), t);
      }
      a.y[i * a.ldy + r] = a.bias != nullptr ? t + a.bias[r] : t;
    }
  }
}

void qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1) {
  const QuantWeightView& w = a.w;
  if (r1 > w.rows) r1 = w.rows;
  for (std::int64_t i = 0; i < a.m; ++i) {
    const std::int8_t* x = a.xq.a + i * w.cols;
    for (std::int64_t r = r0; r < r1; ++r) {
      float t = 0.0f;
      for (std::int64_t g = 0; g < w.groups; ++g) {
        std::int32_t acc = 0;
        for (std::int64_t c = g * w.group; c < (g + 1) * w.group; ++c) acc += packed_value(w, r, c) * x[c];
        t = std::fma(static_cast<float>(acc), packed_scale(w, r, g), t);
      }
      const float y = t * a.xq.scale[i];
      a.y[i * a.ldy + r] = a.bias != nullptr ? y + a.bias[r] : y;
    }
  }
}

void quantize_acts(const float* x, std::int64_t m, std::int64_t ldx, std::int64_t cols, std::int8_t* a,
                   float* scale, std::int32_t* sums) {
  for (std::int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * ldx;
    float amax = 0.0f;
    for (std::int64_t c = 0; c < cols; ++c) amax = std::fmax(amax, std::fabs(xi[c]));
    const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    scale[i] = amax / 127.0f;
    std::int8_t* ai = a + i * cols;
    for (std::int64_t c = 0; c < cols; ++c) {
      // Clamped first (max, then min; a NaN becomes -127 as with x86 max/min), so the cast is
      // defined for any input.
      const float v = std::fmin(std::fmax(xi[c] * inv, -127.0f), 127.0f);
      ai[c] = static_cast<std::int8_t>(std::nearbyint(v));
    }
    for (std::int64_t s = 0; s < cols / kActSumCols; ++s) {
      std::int32_t sum = 0;
      for (std::int64_t c = s * kActSumCols; c < (s + 1) * kActSumCols; ++c) sum += ai[c];
      sums[i * (cols / kActSumCols) + s] = sum;
    }
  }
}

}  // namespace vrt::kernels::ref
