// The names of the public weight schemes and KV cache types (include/voxtral_rt/model.h), and
// LoadOptions from those names, here because the weights (ModelWeights::load,
// validate_quant_options) speak them.
#include <string>

#include "voxtral_rt/error.h"
#include "voxtral_rt/model.h"

namespace vrt {

namespace {
constexpr struct {
  WeightScheme scheme;
  const char* name;
} kSchemes[] = {{WeightScheme::native, "native"}, {WeightScheme::f32, "f32"},   {WeightScheme::bf16, "bf16"},
                {WeightScheme::w8, "8w"},         {WeightScheme::w4, "4w"},     {WeightScheme::a8w8, "8da8w"},
                {WeightScheme::a8w4, "8da4w"}};
}  // namespace

WeightScheme parse_weight_scheme(std::string_view name) {
  for (const auto& s : kSchemes)
    if (name == s.name) return s.scheme;
  throw Error(Status::invalid_argument,
              "unknown weight scheme '" + std::string(name) + "' (use native, f32, bf16, 8w, 4w, 8da8w or 8da4w)");
}

const char* weight_scheme_name(WeightScheme scheme) {
  for (const auto& s : kSchemes)
    if (scheme == s.scheme) return s.name;
  return "?";
}

KvCacheType parse_kv_cache_type(std::string_view name) {
  if (name == "f32") return KvCacheType::f32;
  if (name == "f16") return KvCacheType::f16;
  throw Error(Status::invalid_argument, "unknown KV cache type '" + std::string(name) + "' (use f32 or f16)");
}

const char* kv_cache_type_name(KvCacheType type) { return type == KvCacheType::f16 ? "f16" : "f32"; }

LoadOptions load_options_from_names(const LoadOptionNames& n) {
  LoadOptions o;
  o.threads = n.threads;
  if (!n.qlinear.empty()) o.quant.linear = parse_weight_scheme(n.qlinear);
  if (!n.qlinear_encoder.empty()) o.quant.encoder = parse_weight_scheme(n.qlinear_encoder);
  if (!n.qembedding.empty()) o.quant.embedding = parse_weight_scheme(n.qembedding);
  if (!n.qhead.empty()) o.quant.head = parse_weight_scheme(n.qhead);
  o.quant.group_size = n.group_size;
  if (!n.kv_cache.empty()) o.kv_cache = parse_kv_cache_type(n.kv_cache);
  return o;
}

bool QuantOptions::is_native() const {
  return linear == WeightScheme::native && encoder_scheme() == WeightScheme::native &&
         embedding == WeightScheme::native && head_scheme() == WeightScheme::native;
}

std::string QuantOptions::describe() const {
  return std::string("linear=") + weight_scheme_name(linear) + " encoder=" + weight_scheme_name(encoder_scheme()) +
         " embedding=" + weight_scheme_name(embedding) + " head=" + weight_scheme_name(head_scheme()) +
         " group=" + std::to_string(group_size);
}

}  // namespace vrt
