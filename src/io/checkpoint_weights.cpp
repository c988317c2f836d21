#include "io/checkpoint_weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "common/half.h"
#include "model/tensor_names.h"
#include "voxtral_rt/error.h"

namespace vrt {

CheckpointWeightSource::CheckpointWeightSource(const Checkpoint& checkpoint, const QuantOptions& quant, ThreadPool* pool)
    : c_(checkpoint), q_(quant), pool_(pool) {
  validate_quant_options(q_);
}

void CheckpointWeightSource::release_unviewed_pages() const {
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  for (const auto& spec : expected_tensors(c_.config())) {
    if (viewed_.count(spec.name) != 0) continue;
    const auto bytes = c_.tensor_data(spec.name);
    // Whole pages inside the tensor only: a neighbour's bytes may share the edge pages.
    const auto begin = (reinterpret_cast<std::uintptr_t>(bytes.data()) + page - 1) / page * page;
    const auto end = (reinterpret_cast<std::uintptr_t>(bytes.data()) + bytes.size()) / page * page;
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);  // advisory
  }
}

kernels::WeightView CheckpointWeightSource::view(const std::string& name) const {
  const TensorInfo& t = c_.tensor(name);
  kernels::WeightView w;
  w.data = c_.tensor_data(name).data();
  w.dtype = *to_weight_dtype(t.dtype);  // float dtypes only: checked at open
  w.rows = t.shape.empty() ? 1 : t.shape[0];
  w.cols = t.shape.empty() ? 1 : t.elements() / w.rows;
  return w;
}

std::vector<float> CheckpointWeightSource::vector(const std::string& name) {
  const kernels::WeightView w = view(name);
  std::vector<float> out(static_cast<std::size_t>(w.rows * w.cols));
  kernels::weight_rows_to_f32(w, 0, w.rows, out.data());
  entries_.push_back({name, WeightEntry::Kind::vector, out, {}, {}});
  return out;
}

kernels::WeightView CheckpointWeightSource::raw(const std::string& name) {
  const kernels::WeightView w = view(name);
  viewed_.insert(name);
  entries_.push_back({name, WeightEntry::Kind::raw, {}, w, {}});
  return w;
}

kernels::WeightView CheckpointWeightSource::converted(const std::string& name, DType to) {
  kernels::WeightView w = view(name);
  if (w.dtype == to) {
    viewed_.insert(name);
    return w;
  }
  const std::int64_t n = w.rows * w.cols;
  AlignedBuffer& b = buffers_.emplace_back(static_cast<std::size_t>(n * dtype_size(to)));
  std::vector<float> row(static_cast<std::size_t>(w.cols));
  for (std::int64_t r = 0; r < w.rows; ++r) {
    kernels::weight_rows_to_f32(w, r, r + 1, row.data());
    for (std::int64_t c = 0; c < w.cols; ++c) {
      const float v = row[static_cast<std::size_t>(c)];
      if (to == DType::f32) {
        std::memcpy(b.data() + 4 * (r * w.cols + c), &v, 4);
      } else {
        const std::uint16_t h = to == DType::bf16 ? f32_to_bf16(v) : f32_to_f16(v);
        std::memcpy(b.data() + 2 * (r * w.cols + c), &h, 2);
      }
    }
  }
  w.data = b.data();
  w.dtype = to;
  return w;
}

const kernels::PackedWeight& CheckpointWeightSource::packed(const std::string& name, kernels::QuantFormat f,
                                                            std::int64_t group) {
  const auto key = std::make_tuple(name, static_cast<int>(f), group);
  auto it = packed_.find(key);
  if (it == packed_.end())
    it = packed_.emplace(key, kernels::quantize_weight(view(name), f, group, name, pool_)).first;
  return it->second;
}

kernels::LinearWeight CheckpointWeightSource::linear(const std::string& name, WeightPart part) {
  kernels::LinearWeight l;
  const WeightScheme s = scheme_for(q_, part);
  switch (s) {
    case WeightScheme::native:
      l.f = view(name);
      viewed_.insert(name);
      break;
    case WeightScheme::f32: l.f = converted(name, DType::f32); break;
    case WeightScheme::bf16: l.f = converted(name, DType::bf16); break;
    case WeightScheme::w8:
    case WeightScheme::a8w8: l.q = packed(name, kernels::QuantFormat::q8, 0).view(); break;
    case WeightScheme::w4:
    case WeightScheme::a8w4: l.q = packed(name, kernels::QuantFormat::q4, q_.group_size).view(); break;
  }
  l.dynamic_int8 = s == WeightScheme::a8w8 || s == WeightScheme::a8w4;
  const std::string entry = part == WeightPart::head ? std::string(tensor_names::kOutput) : name;
  entries_.push_back({entry, WeightEntry::Kind::linear, {}, {}, l});
  return l;
}

}  // namespace vrt
