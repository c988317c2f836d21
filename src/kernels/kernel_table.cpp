// ISA names, support checks, and the process-wide active KernelTable (see kernel_table.h).
#include "kernels/kernel_table.h"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <string>

#include "voxtral_rt/error.h"

#if defined(__aarch64__)
#endif

namespace vrt::kernels {

const char* isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::ref: return "ref";
    case CpuIsa::avx2: return "avx2";
    case CpuIsa::avx512: return "avx512";
    case CpuIsa::avx2vnni: return "avx2vnni";
    case CpuIsa::avx512vnni: return "avx512vnni";
    case CpuIsa::avx512amx: return "avx512amx";
    case CpuIsa::neon: return "neon";
    case CpuIsa::neon_dotprod: return "neon-dotprod";
    case CpuIsa::neon_i8mm: return "neon-i8mm";
  }
  return "unknown";
}

CpuIsa parse_isa(std::string_view name) {
  if (name == "ref") return CpuIsa::ref;
  if (name == "avx2") return CpuIsa::avx2;
  if (name == "avx512") return CpuIsa::avx512;
  if (name == "avx2vnni") return CpuIsa::avx2vnni;
  if (name == "avx512vnni") return CpuIsa::avx512vnni;
  if (name == "avx512amx") return CpuIsa::avx512amx;
  if (name == "neon") return CpuIsa::neon;
  if (name == "neon-dotprod") return CpuIsa::neon_dotprod;
  if (name == "neon-i8mm") return CpuIsa::neon_i8mm;
  throw Error(Status::invalid_argument,
              "unknown ISA '" + std::string(name) +
                  "' (expected ref, avx2, avx2vnni, avx512, avx512vnni, avx512amx, neon, neon-dotprod or neon-i8mm)");
}

// Defined by vrt_isa_sources for the ISAs whose files this build compiles.
#ifndef VRT_KERNELS_AVX2
#define VRT_KERNELS_AVX2 0
#endif
#ifndef VRT_KERNELS_AVX2VNNI
#define VRT_KERNELS_AVX2VNNI 0
#endif
#ifndef VRT_KERNELS_AVX512
#define VRT_KERNELS_AVX512 0
#endif
#ifndef VRT_KERNELS_AVX512VNNI
#define VRT_KERNELS_AVX512VNNI 0
#endif
#ifndef VRT_KERNELS_AVX512AMX
#define VRT_KERNELS_AVX512AMX 0
#endif
#ifndef VRT_KERNELS_NEON
#define VRT_KERNELS_NEON 0
#endif
#ifndef VRT_KERNELS_NEONDOTPROD
#define VRT_KERNELS_NEONDOTPROD 0
#endif
#ifndef VRT_KERNELS_NEONI8MM
#define VRT_KERNELS_NEONI8MM 0
#endif

bool isa_built(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::ref: return true;
    case CpuIsa::avx2: return VRT_KERNELS_AVX2;
    case CpuIsa::avx512: return VRT_KERNELS_AVX512;
    case CpuIsa::avx2vnni: return VRT_KERNELS_AVX2VNNI;
    case CpuIsa::avx512vnni: return VRT_KERNELS_AVX512VNNI;
    case CpuIsa::avx512amx: return VRT_KERNELS_AVX512AMX;
    case CpuIsa::neon: return VRT_KERNELS_NEON;
    case CpuIsa::neon_dotprod: return VRT_KERNELS_NEON && VRT_KERNELS_NEONDOTPROD;
    case CpuIsa::neon_i8mm: return VRT_KERNELS_NEON && VRT_KERNELS_NEONDOTPROD && VRT_KERNELS_NEONI8MM;
  }
  return false;
}

bool isa_supported(CpuIsa isa, const CpuFeatures& f) {
  if (!isa_built(isa)) return false;
  switch (isa) {
    case CpuIsa::ref: return true;
    case CpuIsa::avx2: return f.avx2 && f.fma && f.f16c;
    case CpuIsa::avx512:
      return f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.fma && f.f16c;
    case CpuIsa::avx2vnni: return isa_supported(CpuIsa::avx2, f) && f.avx_vnni;
    case CpuIsa::avx512vnni: return isa_supported(CpuIsa::avx512, f) && f.avx512vnni;
    case CpuIsa::avx512amx: return isa_supported(CpuIsa::avx512vnni, f) && f.amx_int8;
    case CpuIsa::neon: return f.neon;
    case CpuIsa::neon_dotprod: return f.neon && f.dotprod;
    case CpuIsa::neon_i8mm: return f.neon && f.dotprod && f.i8mm;  // m = 1 runs the SDOT tiles
  }
  return false;
}

CpuIsa best_isa(const CpuFeatures& f) {
  for (CpuIsa isa : {CpuIsa::avx512amx, CpuIsa::avx512vnni, CpuIsa::avx512, CpuIsa::avx2vnni, CpuIsa::avx2,
                     CpuIsa::neon_i8mm, CpuIsa::neon_dotprod, CpuIsa::neon}) {
    if (isa_supported(isa, f)) return isa;
  }
  return CpuIsa::ref;
}

KernelTable derived_table(const KernelTable& base, CpuIsa isa,
                          void (*qmatmul_int8_rows)(const QMatmulArgs&, std::int64_t, std::int64_t)) {
  KernelTable t = base;
  t.isa = isa;
  t.name = isa_name(isa);
  if (qmatmul_int8_rows != nullptr) t.qmatmul_int8_rows = qmatmul_int8_rows;
  return t;
}

namespace {

// Only reached for supported, hence built, ISAs.
const KernelTable& table_of(CpuIsa isa) {
  switch (isa) {
#if VRT_KERNELS_AVX2
    case CpuIsa::avx2: return avx2_kernel_table();
#endif
#if VRT_KERNELS_AVX512
    case CpuIsa::avx512: return avx512_kernel_table();
#endif
#if VRT_KERNELS_AVX2VNNI
    case CpuIsa::avx2vnni: {
      static const KernelTable t = derived_table(table_of(CpuIsa::avx2), isa, avx2vnni_qmatmul_int8_rows);
      return t;
    }
#endif
#if VRT_KERNELS_AVX512VNNI
    case CpuIsa::avx512vnni: {
      static const KernelTable t = derived_table(table_of(CpuIsa::avx512), isa, avx512vnni_qmatmul_int8_rows);
      return t;
    }
#endif
#if VRT_KERNELS_AVX512AMX
    case CpuIsa::avx512amx: {
      static const KernelTable t = derived_table(table_of(CpuIsa::avx512vnni), isa, avx512amx_qmatmul_int8_rows);
      return t;
    }
#endif
#if VRT_KERNELS_NEON
    case CpuIsa::neon: return neon_kernel_table();
#endif
#if VRT_KERNELS_NEON && VRT_KERNELS_NEONDOTPROD
    case CpuIsa::neon_dotprod: {
      static const KernelTable t = derived_table(table_of(CpuIsa::neon), isa, neon_dotprod_qmatmul_int8_rows);
      return t;
    }
#endif
#if VRT_KERNELS_NEON && VRT_KERNELS_NEONDOTPROD && VRT_KERNELS_NEONI8MM
    case CpuIsa::neon_i8mm: {
      static const KernelTable t = derived_table(table_of(CpuIsa::neon_dotprod), isa, neon_i8mm_qmatmul_int8_rows);
      return t;
    }
#endif
    default: return ref_kernel_table();
  }
}

std::atomic<const KernelTable*> g_active{nullptr};
std::mutex g_init_mutex;

}  // namespace

const KernelTable& select_kernels(const CpuFeatures& features, std::optional<CpuIsa> requested) {
  const CpuIsa isa = requested.value_or(best_isa(features));
  if (!isa_supported(isa, features)) {
    throw Error(Status::invalid_argument,
                std::string("ISA '") + isa_name(isa) +
                    "' was requested but this CPU/OS does not support it (usable features: " +
                    features.describe() + ")");
  }
  return table_of(isa);
}

const KernelTable& active_kernels() {
  const KernelTable* t = g_active.load(std::memory_order_acquire);
  if (t != nullptr) return *t;
  std::lock_guard<std::mutex> lock(g_init_mutex);
  t = g_active.load(std::memory_order_acquire);
  if (t == nullptr) {
    std::optional<CpuIsa> requested;
    const char* env = std::getenv("VRT_ISA");
    if (env != nullptr && *env != '\0') requested = parse_isa(env);
    t = &select_kernels(cpu_features(), requested);
    g_active.store(t, std::memory_order_release);
  }
  return *t;
}

void set_isa(CpuIsa isa) {
  std::lock_guard<std::mutex> lock(g_init_mutex);
  g_active.store(&select_kernels(cpu_features(), isa), std::memory_order_release);
}

namespace detail {

float* thread_scratch(std::size_t floats) {
  struct AlignedFree {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  thread_local std::unique_ptr<float[], AlignedFree> buffer;
  thread_local std::size_t capacity = 0;
  if (floats > capacity) {
    buffer.reset();
    const std::size_t grown = floats + floats / 4 + 16;
    buffer.reset(
        static_cast<float*>(::operator new[](grown * sizeof(float), std::align_val_t{64})));
    capacity = grown;
  }
  return buffer.get();
}

}  // namespace detail

}  // namespace vrt::kernels
