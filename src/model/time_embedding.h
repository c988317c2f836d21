// Time conditioning of the decoder's FFN norm (spec §7.3). The delay (in tokens) is embedded as
//   t_cond = [cos(n * w_i), sin(n * w_i)],  w_i = 10000^(-i / (dim/2)),  i < dim/2,
// and every decoder layer l scales its FFN input by (1 + s_l), s_l = W_up GELU(W_down t_cond).
// s_l is constant for a given delay, so it is computed once per delay, in double.
#pragma once

#include <vector>

#include "model/weights.h"

namespace vrt {

std::vector<double> time_embedding(int n_delay_tokens, int dim);

// (1 + s_l) for every decoder layer, [n_layers][dim].
std::vector<std::vector<float>> ada_norm_scales(const ModelConfig& config, const ModelWeights& weights,
                                                int n_delay_tokens);

}  // namespace vrt
