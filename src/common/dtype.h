// Element types of float tensors as checkpoints store them (safetensors spelling), shared by the
// file readers, the weights and the kernels.
#pragma once

namespace vrt {

enum class DType { bf16, f16, f32 };
const char* dtype_name(DType t);  // safetensors spelling: "BF16", "F16", "F32"
const char* dtype_kind(DType t);  // the .vxrt table's and the benchmark's: "bf16", "f16", "f32"
int dtype_size(DType t);          // bytes per element

}  // namespace vrt
