// Packing (quantize_weight), dequantization, activation quantization and the threading of the
// packed-weight matmuls (linear). The arithmetic is specified in quant.h; the per-ISA kernels
// are in the kernel tables.
#include "kernels/quant.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string>

#include "common/half.h"
#include "kernels/dcheck.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref_quant.h"
#include "voxtral_rt/error.h"

namespace vrt::kernels {

int quant_offset(QuantFormat f) { return f == QuantFormat::q8 ? 128 : 8; }
int quant_max(QuantFormat f) { return f == QuantFormat::q8 ? 127 : 7; }

PackedLayout packed_layout(QuantFormat f, std::int64_t rows, std::int64_t cols, std::int64_t group,
                           std::string_view what) {
  auto fail = [&](const std::string& why) {
    throw Error(Status::invalid_argument, std::string(what) + ": cannot pack [" + std::to_string(rows) + ", " +
                                              std::to_string(cols) + "]: " + why);
  };
  if (rows <= 0 || cols <= 0 || cols % kActSumCols != 0) fail("columns must be a positive multiple of 32");
  if (f == QuantFormat::q8) {
    if (group != 0 && group != cols) fail("8-bit weights are per channel (group = columns)");
    group = cols;
  } else {
    if (group < 32 || group > 256 || (group & (group - 1)) != 0)
      fail("group size " + std::to_string(group) + " is not 32, 64, 128 or 256");
    if (cols % group != 0) fail("group size " + std::to_string(group) + " does not divide the columns");
  }
  PackedLayout l;
  l.rows = rows;
  l.cols = cols;
  l.group = group;
  l.blocks = (rows + kQuantRowBlock - 1) / kQuantRowBlock;
  l.groups = cols / group;
  l.block_bytes = (f == QuantFormat::q8 ? cols / 4 : cols / 8) * kQuantChunkBytes;
  l.data_bytes = l.blocks * l.block_bytes;
  l.scale_count = l.blocks * l.groups * kQuantRowBlock;
  return l;
}

QuantWeightView PackedWeight::view() const {
  QuantWeightView v;
  v.format = format;
  v.rows = layout.rows;
  v.cols = layout.cols;
  v.group = layout.group;
  v.data = data.data();
  v.scales = scales.data();
  v.block_bytes = layout.block_bytes;
  v.groups = layout.groups;
  return v;
}

PackedWeight quantize_weight(const WeightView& w, QuantFormat f, std::int64_t group, std::string_view what,
                             ThreadPool* pool) {
  PackedWeight p;
  p.format = f;
  p.layout = packed_layout(f, w.rows, w.cols, group, what);
  const PackedLayout& l = p.layout;
  p.data = AlignedBuffer(static_cast<std::size_t>(l.data_bytes));
  p.scales.assign(static_cast<std::size_t>(l.scale_count), 0);
  const int offset = quant_offset(f), qmax = quant_max(f), qmin = f == QuantFormat::q8 ? -127 : -8;
  std::atomic<bool> overflow{false};
  auto pack_blocks = [&](std::int64_t b0, std::int64_t b1) {
    std::vector<float> row(static_cast<std::size_t>(l.cols));
    for (std::int64_t b = b0; b < b1; ++b) {
      std::uint8_t* block = p.data.data() + b * l.block_bytes;
      for (std::int64_t j = 0; j < kQuantRowBlock; ++j) {
        const std::int64_t r = b * kQuantRowBlock + j;
        if (r < l.rows) {
          weight_rows_to_f32(w, r, r + 1, row.data());
        } else {
          std::fill(row.begin(), row.end(), 0.0f);  // padding rows: w = 0, s = 0
        }
        for (std::int64_t g = 0; g < l.groups; ++g) {
          float amax = 0.0f;
          for (std::int64_t c = g * l.group; c < (g + 1) * l.group; ++c)
            amax = std::fmax(amax, std::fabs(row[static_cast<std::size_t>(c)]));
          const float s_exact = amax / static_cast<float>(qmax);
          if (!(s_exact <= 65504.0f)) overflow = true;  // also NaN / inf weights
          const std::uint16_t s16 = f32_to_f16(std::fmin(s_exact, 65504.0f));
          p.scales[static_cast<std::size_t>((b * l.groups + g) * kQuantRowBlock + j)] = s16;
          const float s = f16_to_f32(s16);
          for (std::int64_t c = g * l.group; c < (g + 1) * l.group; ++c) {
            const float v = s > 0.0f ? std::nearbyint(row[static_cast<std::size_t>(c)] / s) : 0.0f;
            const int q = static_cast<int>(std::clamp(v, static_cast<float>(qmin), static_cast<float>(qmax)));
            const auto u = static_cast<std::uint8_t>(q + offset);
            if (f == QuantFormat::q8) {
              block[(c / 4) * kQuantChunkBytes + 4 * j + c % 4] = u;
            } else {
              std::uint8_t& byte = block[(c / 8) * kQuantChunkBytes + 4 * j + c % 4];
              byte = static_cast<std::uint8_t>((c % 8) < 4 ? (byte & 0xf0) | u : (byte & 0x0f) | (u << 4));
            }
          }
        }
      }
    }
  };
  if (pool != nullptr && l.blocks > 1) {
    pool->parallel_for(l.blocks, pack_blocks, 16);
  } else {
    pack_blocks(0, l.blocks);
  }
  if (overflow)
    throw Error(Status::invalid_argument,
                std::string(what) + ": weights too large or not finite for f16 quantization scales");
  return p;
}

void dequantize_rows(const QuantWeightView& w, std::int64_t r0, std::int64_t r1, float* out) {
  VRT_DCHECK(0 <= r0 && r0 <= r1 && r1 <= w.rows);
  for (std::int64_t r = r0; r < r1; ++r) {
    for (std::int64_t g = 0; g < w.groups; ++g) {
      const float s = ref::packed_scale(w, r, g);
      for (std::int64_t c = g * w.group; c < (g + 1) * w.group; ++c)
        *out++ = static_cast<float>(ref::packed_value(w, r, c)) * s;
    }
  }
}

void linear_rows_to_f32(const LinearWeight& w, std::int64_t r0, std::int64_t r1, float* out) {
  if (w.quantized()) {
    dequantize_rows(w.q, r0, r1, out);
  } else {
    weight_rows_to_f32(w.f, r0, r1, out);
  }
}

void quantize_activations(const float* x, std::int64_t m, std::int64_t ldx, std::int64_t cols, std::int8_t* a,
                          float* scale, std::int32_t* sums) {
  VRT_DCHECK(m >= 0 && cols % kActSumCols == 0 && ldx >= cols);
  if (m > 0) active_kernels().quantize_acts(x, m, ldx, cols, a, scale, sums);
}

namespace {

constexpr std::int64_t kSerialWork = 1 << 16;  // below this many multiply-adds: one thread

// Splits the 16-row blocks of W over the pool (contiguous runs; more rows per run when m is
// large, so a run reuses its W block from cache for all m rows).
template <class Body>
void split_rows(std::int64_t rows, std::int64_t m, std::int64_t cols, ThreadPool* pool, Body&& body) {
  const std::int64_t units = (rows + kQuantRowBlock - 1) / kQuantRowBlock;
  auto run = [&](std::int64_t u0, std::int64_t u1) {
    body(u0 * kQuantRowBlock, std::min(rows, u1 * kQuantRowBlock));
  };
  if (pool == nullptr || pool->size() == 1 || m * rows * cols < kSerialWork || units == 1) {
    run(0, units);
    return;
  }
  pool->parallel_for(units, run, m > 4 ? 4 : 1);
}

// Activation buffers of the calling thread (workers only read them during the call).
struct ActScratch {
  std::vector<std::int8_t> a;
  std::vector<float> scale;
  std::vector<std::int32_t> sums;
};

}  // namespace

void linear(const float* x, std::int64_t m, std::int64_t ldx, const LinearWeight& w, const float* bias,
            float* y, std::int64_t ldy, ThreadPool* pool) {
  if (!w.quantized()) {
    matmul(x, m, ldx, w.f, bias, y, ldy, pool);
    return;
  }
  const QuantWeightView& q = w.q;
  VRT_DCHECK(m >= 0 && ldx >= q.cols && ldy >= q.rows);
  if (m <= 0) return;
  const KernelTable& table = active_kernels();
  QMatmulArgs args;
  args.m = m;
  args.w = q;
  args.bias = bias;
  args.y = y;
  args.ldy = ldy;
  if (w.dynamic_int8) {
    thread_local ActScratch s;
    s.a.resize(static_cast<std::size_t>(m * q.cols));
    s.scale.resize(static_cast<std::size_t>(m));
    s.sums.resize(static_cast<std::size_t>(m * (q.cols / kActSumCols)));
    table.quantize_acts(x, m, ldx, q.cols, s.a.data(), s.scale.data(), s.sums.data());
    args.xq = QuantizedActs{s.a.data(), s.scale.data(), s.sums.data(), m, q.cols};
    split_rows(q.rows, m, q.cols, pool, [&](std::int64_t r0, std::int64_t r1) { table.qmatmul_int8_rows(args, r0, r1); });
  } else {
    args.x = x;
    args.ldx = ldx;
    split_rows(q.rows, m, q.cols, pool, [&](std::int64_t r0, std::int64_t r1) { table.qmatmul_f32_rows(args, r0, r1); });
  }
}

}  // namespace vrt::kernels
