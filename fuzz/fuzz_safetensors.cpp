// Fuzz target: the safetensors header and tensor table (SafetensorsHeader::parse over a whole
// file's bytes), then every tensor view read back, as the OSS-Fuzz safetensors target does.
//
// Invariants of an accepted file (docs/LIMITS.md, hardening.md §1a), recomputed here in 128-bit
// arithmetic independently of the parser: data_start = 8 + N inside the file; names unique,
// 1..1024 bytes without NUL; rank <= 8; byte size = product(shape) x dtype size; each tensor
// aligned to its element size; sorted offsets tile the data section exactly.
#include <set>

#include "fuzz_util.h"
#include "io/safetensors.h"

using vrt::Error;
using vrt::Status;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> file(data, size);
  vrt::SafetensorsHeader h;
  try {
    h = vrt::SafetensorsHeader::parse(file, "fuzz.safetensors");
  } catch (const Error& e) {
    VRT_FUZZ_CHECK(e.status() == Status::bad_checkpoint);
    return 0;
  }
  const vrt::SafetensorsLimits limits;
  VRT_FUZZ_CHECK(h.data_start >= 10 && h.data_start <= size);
  VRT_FUZZ_CHECK(h.data_start - 8 <= limits.max_header_bytes);
  VRT_FUZZ_CHECK(h.tensors.size() <= limits.max_tensors);
  std::set<std::string> names;
  vrt::fuzz::u128 expected_begin = 0;
  std::uint64_t checksum = 0;
  for (const auto& t : h.tensors) {
    VRT_FUZZ_CHECK(!t.name.empty() && t.name.size() <= limits.max_name_bytes);
    VRT_FUZZ_CHECK(t.name.find('\0') == std::string::npos);
    VRT_FUZZ_CHECK(names.insert(t.name).second);
    VRT_FUZZ_CHECK(t.shape.size() <= static_cast<std::size_t>(limits.max_rank));
    vrt::fuzz::u128 elements = 1;
    bool zero = false;
    for (const auto d : t.shape) {
      VRT_FUZZ_CHECK(d >= 0);
      zero = zero || d == 0;
      // Saturate: a zero dimension anywhere makes the product 0 however big the others are.
      if (elements < (static_cast<vrt::fuzz::u128>(1) << 64))
        elements *= static_cast<std::uint64_t>(d);
    }
    if (zero) elements = 0;
    const auto esize = static_cast<unsigned>(vrt::st_dtype_size(t.dtype));
    VRT_FUZZ_CHECK(esize >= 1 && esize <= 8);
    VRT_FUZZ_CHECK(elements * esize == t.nbytes);
    VRT_FUZZ_CHECK(static_cast<vrt::fuzz::u128>(t.elements()) == elements);
    VRT_FUZZ_CHECK(t.begin == expected_begin);
    VRT_FUZZ_CHECK((h.data_start + t.begin) % esize == 0);
    expected_begin += t.nbytes;
    // Read every byte of the view: ASan catches a view outside the buffer.
    const auto view = file.subspan(h.data_start + t.begin, t.nbytes);
    for (const auto b : view) checksum += b;
  }
  VRT_FUZZ_CHECK(h.data_start + expected_begin == size);
  for (const auto& [k, v] : h.metadata) checksum += k.size() + v.size();
  // Keep the reads from being optimised away.
  volatile std::uint64_t sink = checksum;
  (void)sink;
  return 0;
}
