// Rotary position embedding, interleaved ("GPT-J") form on the checkpoint's native Q/K layout
// (spec §3.5, §6.2): for each head vector u and pair j < d/2, with phi = pos * theta^(-2j/d),
//   u'[2j] = u[2j] cos phi - u[2j+1] sin phi,   u'[2j+1] = u[2j] sin phi + u[2j+1] cos phi.
// Angles are computed on the fly in double (no table caps the position; positions past 131072
// stay exact to float rounding).
#pragma once

#include <cstdint>
#include <vector>

namespace vrt {

class Rope {
 public:
  Rope(int head_dim, double theta);
  // Rotates n_heads consecutive head vectors of x (n_heads * head_dim floats) for `pos`.
  void apply(float* x, int n_heads, std::int64_t pos) const;

 private:
  int head_dim_;
  std::vector<double> inv_freq_;  // theta^(-2j/d), j < d/2
};

}  // namespace vrt
