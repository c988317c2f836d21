// WeightSource over an original checkpoint: each matrix is kept as a view into the mapping
// (native, or the dtype it already has), converted (f32, bf16) or quantized and packed
// (8w, 4w, 8da8w, 8da4w) as ModelWeights::load asks for it, per QuantOptions. The source owns
// what it creates, so it must outlive the weights. It also lists every tensor it handed out, in
// order, for `voxtral-rt quantize` to write them to a packed model.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/aligned_buffer.h"
#include "io/checkpoint.h"
#include "model/weights.h"
#include "voxtral_rt/model.h"

namespace vrt {

struct WeightEntry {
  enum class Kind { vector, raw, linear };
  std::string name;  // checkpoint name; the untied head is "output.weight"
  Kind kind = Kind::vector;
  std::vector<float> values;     // vector
  kernels::WeightView view;      // raw
  kernels::LinearWeight linear;  // linear
};

class CheckpointWeightSource final : public WeightSource {
 public:
  CheckpointWeightSource(const Checkpoint& checkpoint, const QuantOptions& quant, ThreadPool* pool);

  std::vector<float> vector(const std::string& name) override;
  kernels::WeightView raw(const std::string& name) override;
  kernels::LinearWeight linear(const std::string& name, WeightPart part) override;

  const std::vector<WeightEntry>& entries() const { return entries_; }
  // Drops from memory the mapped pages of tensors that were only converted or packed (no view
  // into the mapping was handed out), so a quantized model's resident set is its packed
  // weights, not also the checkpoint pages read while packing. Pages come back from the file
  // if read again (saving a packed file re-reads nothing from them).
  void release_unviewed_pages() const;

 private:
  kernels::WeightView view(const std::string& name) const;
  kernels::WeightView converted(const std::string& name, DType to);
  const kernels::PackedWeight& packed(const std::string& name, kernels::QuantFormat f, std::int64_t group);

  const Checkpoint& c_;
  QuantOptions q_;
  ThreadPool* pool_;
  std::deque<AlignedBuffer> buffers_;
  std::map<std::tuple<std::string, int, std::int64_t>, kernels::PackedWeight> packed_;
  std::vector<WeightEntry> entries_;
  std::set<std::string> viewed_;  // tensors handed out as views into the mapping
};

}  // namespace vrt
