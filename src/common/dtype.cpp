#include "common/dtype.h"

namespace vrt {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::bf16: return "BF16";
    case DType::f16: return "F16";
    case DType::f32: return "F32";
  }
  return "?";
}

const char* dtype_kind(DType t) {
  switch (t) {
    case DType::bf16: return "bf16";
    case DType::f16: return "f16";
    case DType::f32: return "f32";
  }
  return "?";
}

int dtype_size(DType t) { return t == DType::f32 ? 4 : 2; }

}  // namespace vrt
