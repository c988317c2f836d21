#include "common/dtype.h"

namespace vrt {
namespace {

struct Names {
  const char* name;  // safetensors
  const char* kind;  // .vxrt and benchmark
};

Names names(DType t) {
  switch (t) {
    case DType::bf16: return {"BF16", "bf16"};
    case DType::f16: return {"F16", "f16"};
    case DType::f32: return {"F32", "f32"};
  }
  return {"?", "?"};
}

}  // namespace

const char* dtype_name(DType t) { return names(t).name; }
const char* dtype_kind(DType t) { return names(t).kind; }
int dtype_size(DType t) { return t == DType::f32 ? 4 : 2; }

}  // namespace vrt
