// kernels.h entry points: threading of matmul over W rows, dispatch through the active
// KernelTable, and the portable top2 (once per decoder step, not worth per-ISA code).
//
// matmul splits W's rows into units of kMatmulRowAlign rows; a thread takes contiguous runs of
// units (at least kMinRowsPerChunk rows when m is large, so the per-ISA kernel can convert a
// block of W rows to fp32 once and reuse it for all m inputs). Small problems stay on the
// calling thread: waking a worker costs more than a few thousand FMAs.
#include "kernels/kernels.h"

#include <algorithm>
#include <limits>

#include "kernels/dcheck.h"
#include "kernels/kernel_table.h"

namespace vrt::kernels {

namespace {
constexpr std::int64_t kSerialFlops = 1 << 16;  // below this many multiply-adds: one thread
constexpr std::int64_t kMinRowsPerChunk = 64;   // m > 4: rows per chunk (W block reuse)
}  // namespace

void matmul(const float* x, std::int64_t m, std::int64_t ldx, const WeightView& w,
            const float* bias, float* y, std::int64_t ldy, ThreadPool* pool) {
  VRT_DCHECK(m >= 0 && w.rows >= 0 && w.cols >= 0);
  VRT_DCHECK(ldx >= w.cols && ldy >= w.rows);
  VRT_DCHECK(m == 0 || w.rows == 0 || (x != nullptr && y != nullptr));
  VRT_DCHECK(w.rows * w.cols == 0 || w.data != nullptr);
  if (m <= 0 || w.rows <= 0) return;
  if (w.cols == 0) {  // empty sums: y = bias (or 0)
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t r = 0; r < w.rows; ++r) y[i * ldy + r] = bias != nullptr ? bias[r] : 0.0f;
    }
    return;
  }
  const KernelTable& table = active_kernels();
  const MatmulArgs args{x, m, ldx, w, bias, y, ldy};
  const std::int64_t units = (w.rows + kMatmulRowAlign - 1) / kMatmulRowAlign;
  auto body = [&](std::int64_t u0, std::int64_t u1) {
    table.matmul_rows(args, u0 * kMatmulRowAlign, std::min(w.rows, u1 * kMatmulRowAlign));
  };
  const std::int64_t work = m * w.rows * std::max<std::int64_t>(w.cols, 1);
  if (pool == nullptr || pool->size() == 1 || work < kSerialFlops || units == 1) {
    body(0, units);
    return;
  }
  const std::int64_t grain = m > 4 ? kMinRowsPerChunk / kMatmulRowAlign : 1;
  pool->parallel_for(units, body, grain);
}

void matmul_row_stable(const float* x, std::int64_t m, std::int64_t ldx, const WeightView& w,
                       const float* bias, float* y, std::int64_t ldy, ThreadPool* pool) {
  for (std::int64_t i = 0; i < m; i += kRowStableRows)
    matmul(x + i * ldx, std::min(kRowStableRows, m - i), ldx, w, bias, y + i * ldy, ldy, pool);
}

void weight_rows_to_f32(const WeightView& w, std::int64_t r0, std::int64_t r1, float* out) {
  VRT_DCHECK(0 <= r0 && r0 <= r1 && r1 <= w.rows);
  active_kernels().weight_rows_to_f32(w, r0, r1, out);
}

std::int64_t argmax(const float* x, std::int64_t n) {
  VRT_DCHECK(n >= 1);
  return active_kernels().argmax(x, n);
}

Top2 top2(const float* x, std::int64_t n) {
  VRT_DCHECK(n >= 2);
  Top2 t;
  t.top1 = -std::numeric_limits<float>::infinity();
  t.top2 = -std::numeric_limits<float>::infinity();
  t.index1 = 0;
  bool found = false;
  for (std::int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (!found || v > t.top1) {
      if (found) t.top2 = t.top1;
      t.top1 = v;
      t.index1 = i;
      found = true;
    } else if (v > t.top2) {
      t.top2 = v;
    }
  }
  return t;
}

void rms_norm(const float* x, std::int64_t m, std::int64_t n, const float* w, float eps, float* y) {
  VRT_DCHECK(m >= 0 && n >= 1);
  active_kernels().rms_norm(x, m, n, w, eps, y);
}

void gelu(float* x, std::int64_t n) { active_kernels().gelu(x, n); }

void silu_mul(const float* g, const float* u, float* out, std::int64_t n) {
  active_kernels().silu_mul(g, u, out, n);
}

const char* selected_isa() { return active_kernels().name; }

}  // namespace vrt::kernels
