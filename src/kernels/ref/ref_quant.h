// Scalar packed-weight kernels (ref_quant.cpp), shared by the reference table and by tests.
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"

namespace vrt::kernels::ref {

// The signed quantized value w of W[r, c] and the scale of (row r, group g) of a packed matrix.
int packed_value(const QuantWeightView& w, std::int64_t r, std::int64_t c);
float packed_scale(const QuantWeightView& w, std::int64_t r, std::int64_t g);

void qmatmul_f32_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);
void qmatmul_int8_rows(const QMatmulArgs& a, std::int64_t r0, std::int64_t r1);
void quantize_acts(const float* x, std::int64_t m, std::int64_t ldx, std::int64_t cols, std::int8_t* a,
                   float* scale, std::int32_t* sums);

}  // namespace vrt::kernels::ref
