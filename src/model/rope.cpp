#include "model/rope.h"

#include <cmath>

namespace vrt {

Rope::Rope(int head_dim, double theta) : head_dim_(head_dim), inv_freq_(static_cast<std::size_t>(head_dim / 2)) {
  for (int j = 0; j < head_dim / 2; ++j)
    inv_freq_[static_cast<std::size_t>(j)] = std::pow(theta, -2.0 * j / head_dim);
}

void Rope::apply(float* x, int n_heads, std::int64_t pos) const {
  const int half = head_dim_ / 2;
  float cs[512], sn[512];  // head_dim <= 1024 (validated in ModelConfig)
  for (int j = 0; j < half; ++j) {
    const double phi = static_cast<double>(pos) * inv_freq_[static_cast<std::size_t>(j)];
    cs[j] = static_cast<float>(std::cos(phi));
    sn[j] = static_cast<float>(std::sin(phi));
  }
  for (int h = 0; h < n_heads; ++h) {
    float* u = x + static_cast<std::int64_t>(h) * head_dim_;
    for (int j = 0; j < half; ++j) {
      const float a = u[2 * j], b = u[2 * j + 1];
      u[2 * j] = a * cs[j] - b * sn[j];
      u[2 * j + 1] = a * sn[j] + b * cs[j];
    }
  }
}

}  // namespace vrt
