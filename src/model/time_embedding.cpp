#include "model/time_embedding.h"

#include <cmath>

namespace vrt {
namespace {

double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

// y = W x for a small weight matrix, in double.
std::vector<double> matvec(const kernels::WeightView& w, const std::vector<double>& x) {
  std::vector<float> row(static_cast<std::size_t>(w.cols));
  std::vector<double> y(static_cast<std::size_t>(w.rows));
  for (std::int64_t r = 0; r < w.rows; ++r) {
    kernels::weight_rows_to_f32(w, r, r + 1, row.data());
    double s = 0;
    for (std::int64_t c = 0; c < w.cols; ++c) s += static_cast<double>(row[static_cast<std::size_t>(c)]) * x[static_cast<std::size_t>(c)];
    y[static_cast<std::size_t>(r)] = s;
  }
  return y;
}

}  // namespace

std::vector<double> time_embedding(int n_delay_tokens, int dim) {
  const int half = dim / 2;
  std::vector<double> t(static_cast<std::size_t>(dim));
  for (int i = 0; i < half; ++i) {
    const double w = std::exp(-std::log(10000.0) * i / half);
    t[static_cast<std::size_t>(i)] = std::cos(n_delay_tokens * w);
    t[static_cast<std::size_t>(half + i)] = std::sin(n_delay_tokens * w);
  }
  return t;
}

std::vector<std::vector<float>> ada_norm_scales(const ModelConfig& config, const ModelWeights& weights,
                                                int n_delay_tokens) {
  const auto t = time_embedding(n_delay_tokens, config.dim);
  std::vector<std::vector<float>> scales;
  for (const auto& layer : weights.decoder) {
    auto hidden = matvec(layer.ada_down, t);
    for (auto& h : hidden) h = gelu(h);
    const auto s = matvec(layer.ada_up, hidden);
    std::vector<float> scale(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) scale[i] = static_cast<float>(1.0 + s[i]);
    scales.push_back(std::move(scale));
  }
  return scales;
}

}  // namespace vrt
