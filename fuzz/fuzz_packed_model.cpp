// Fuzz target: the packed model file (.vxrt, src/io/packed_model): PackedModelFile::open (header,
// regions, meta checksum, meta JSON, config, tokenizer, tensor table), then the weight views
// (weight_source() + ModelWeights::load, which checks every tensor's kind and shape against the
// config) and verify_data() (the data checksum).
//
// Two input modes:
//   - raw: the input is the whole file (seeds: tiny real models made by voxtral-rt quantize);
//   - meta: the input is '#' followed by meta JSON text. It is wrapped into a valid header with
//     the recomputed XXH3 meta checksum and the data region (tensors + tokenizer text) of a fixed
//     good model, fuzz/corpus/fuzz_packed_model/tiny_8da4w.vxrt, read once at start-up. The meta
//     checksum stops almost every raw mutation of the JSON; this mode reaches the JSON, the
//     config, the tokenizer reference and the tensor table checks.
// The file is written to a memfd per run and opened by its /proc/self/fd path (the library API
// takes a path; nothing touches the disk).
//
// Invariants when open() succeeds: the header fields agree with an independent parse; every
// tensor's data (and scales) lie inside the data region, 64-byte aligned, with the byte count its
// kind and shape need (128-bit recomputation); names unique and tensor(name) finds each one;
// the tokenizer agrees with the config (vocabulary size and the audio fields, as Checkpoint::open
// requires: the runtime indexes the embedding table with the tokenizer's special ids). When
// ModelWeights::load succeeds: every view points inside the data region, with its shape.
// Errors: open only bad_checkpoint, unsupported_model or bad_tokenizer; load and verify_data
// only bad_checkpoint.
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include "fuzz_util.h"
#include "io/packed_model.h"
#include "model/weights.h"

namespace {

using vrt::fuzz::u128;

constexpr char kMetaMarker = '#';

int g_fd = -1;
std::string g_path;
std::vector<std::uint8_t> g_data_region;  // the fixed good model's data region (meta mode)
std::uint64_t g_data_hash = 0;

std::uint64_t le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
}
void put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// A whole file from a meta JSON text and the fixed data region.
std::vector<std::uint8_t> wrap_meta(std::string_view meta) {
  const std::uint64_t meta_offset = vrt::kPackedHeaderBytes;
  const std::uint64_t data_offset = (meta_offset + meta.size() + 4095) / 4096 * 4096;
  std::vector<std::uint8_t> f(data_offset + g_data_region.size(), 0);
  std::memcpy(f.data(), vrt::kPackedMagic, 8);
  f[8] = vrt::kPackedVersion;
  f[12] = static_cast<std::uint8_t>(vrt::kPackedHeaderBytes);
  put64(&f[16], f.size());
  put64(&f[24], meta_offset);
  put64(&f[32], meta.size());
  put64(&f[40], data_offset);
  put64(&f[48], g_data_region.size());
  put64(&f[56], XXH3_64bits(meta.data(), meta.size()));
  put64(&f[64], g_data_hash);
  if (!meta.empty()) std::memcpy(&f[meta_offset], meta.data(), meta.size());
  if (!g_data_region.empty()) std::memcpy(&f[data_offset], g_data_region.data(), g_data_region.size());
  return f;
}

void write_all(const std::uint8_t* p, std::size_t n) {
  if (::ftruncate(g_fd, 0) != 0) std::abort();
  std::size_t at = 0;
  while (at < n) {
    const ssize_t w = ::pwrite(g_fd, p + at, n - at, static_cast<off_t>(at));
    if (w <= 0) std::abort();
    at += static_cast<std::size_t>(w);
  }
}

struct Region {
  const std::uint8_t* begin;
  std::uint64_t bytes;
  // [p, p + n) inside the region.
  bool holds(const void* p, u128 n) const {
    const auto* b = static_cast<const std::uint8_t*>(p);
    if (b < begin || b > begin + bytes) return false;
    return static_cast<u128>(b - begin) + n <= bytes;
  }
};

void check_view(const Region& r, const vrt::kernels::WeightView& w) {
  VRT_FUZZ_CHECK(w.rows > 0 && w.cols > 0);
  VRT_FUZZ_CHECK(r.holds(w.data, static_cast<u128>(w.rows) * static_cast<u128>(w.cols) * vrt::dtype_size(w.dtype)));
}

void check_linear(const Region& r, const vrt::kernels::LinearWeight& l) {
  if (!l.quantized()) return check_view(r, l.f);
  const auto& q = l.q;
  const auto layout = vrt::kernels::packed_layout(q.format, q.rows, q.cols, q.group, "fuzz");
  VRT_FUZZ_CHECK(q.block_bytes == layout.block_bytes && q.groups == layout.groups);
  VRT_FUZZ_CHECK(r.holds(q.data, static_cast<u128>(layout.data_bytes)));
  VRT_FUZZ_CHECK(r.holds(q.scales, static_cast<u128>(layout.scale_count) * 2));
  VRT_FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(q.data) % 64 == 0);
}

void check_open(const vrt::PackedModelFile& f, const std::uint8_t* file, std::size_t size) {
  VRT_FUZZ_CHECK(f.file_bytes() == size && size >= vrt::kPackedHeaderBytes);
  VRT_FUZZ_CHECK(std::memcmp(file, vrt::kPackedMagic, 8) == 0);
  VRT_FUZZ_CHECK(le32(file + 8) == vrt::kPackedVersion && le32(file + 12) == vrt::kPackedHeaderBytes);
  VRT_FUZZ_CHECK(le64(file + 16) == size);
  const std::uint64_t meta_offset = le64(file + 24), meta_bytes = le64(file + 32);
  const std::uint64_t data_offset = le64(file + 40), data_bytes = le64(file + 48);
  VRT_FUZZ_CHECK(meta_offset >= vrt::kPackedHeaderBytes);
  VRT_FUZZ_CHECK(static_cast<u128>(meta_offset) + meta_bytes <= data_offset);
  VRT_FUZZ_CHECK(static_cast<u128>(data_offset) + data_bytes <= size);
  VRT_FUZZ_CHECK(data_offset % 64 == 0);
  VRT_FUZZ_CHECK(XXH3_64bits(file + meta_offset, meta_bytes) == le64(file + 56));

  std::set<std::string> names;
  for (const auto& t : f.tensors()) {
    VRT_FUZZ_CHECK(names.insert(t.name).second);
    VRT_FUZZ_CHECK(&f.tensor(t.name) == &t);
    VRT_FUZZ_CHECK(t.rows >= 1 && t.cols >= 1);
    VRT_FUZZ_CHECK(t.offset % 64 == 0);
    VRT_FUZZ_CHECK(static_cast<u128>(t.offset) + t.bytes <= data_bytes);
    const u128 elements = static_cast<u128>(t.rows) * static_cast<u128>(t.cols);
    if (t.kind == "f32" || t.kind == "bf16" || t.kind == "f16") {
      VRT_FUZZ_CHECK(t.bytes == elements * (t.kind == "f32" ? 4 : 2));
      VRT_FUZZ_CHECK(!t.int8_acts && t.scales_bytes == 0);
    } else {
      VRT_FUZZ_CHECK(t.kind == "q8" || t.kind == "q4");
      const auto l = vrt::kernels::packed_layout(
          t.kind == "q8" ? vrt::kernels::QuantFormat::q8 : vrt::kernels::QuantFormat::q4, t.rows, t.cols, t.group,
          t.name);
      VRT_FUZZ_CHECK(t.bytes == static_cast<std::uint64_t>(l.data_bytes));
      VRT_FUZZ_CHECK(t.scales_bytes == static_cast<std::uint64_t>(l.scale_count) * 2);
      VRT_FUZZ_CHECK(t.scales_offset % 64 == 0);
      VRT_FUZZ_CHECK(static_cast<u128>(t.scales_offset) + t.scales_bytes <= data_bytes);
    }
  }
  const int g = f.quant().group_size;
  VRT_FUZZ_CHECK(g >= 32 && g <= 256);

  // The tokenizer and the config agree, as for a checkpoint directory.
  const auto& c = f.config();
  const auto& s = f.tokenizer().streaming();
  VRT_FUZZ_CHECK(f.tokenizer().vocab_size() == c.vocab_size);
  VRT_FUZZ_CHECK(s.num_mel_bins == c.encoder.audio.num_mel_bins);
  VRT_FUZZ_CHECK(s.sampling_rate == c.encoder.audio.sampling_rate);
  VRT_FUZZ_CHECK(s.hop_length == c.encoder.audio.hop_length);
  VRT_FUZZ_CHECK(s.window_size == c.encoder.audio.window_size);
  VRT_FUZZ_CHECK(s.frame_rate == c.encoder.audio.frame_rate);
}

void check_weights(const vrt::PackedModelFile& f, const vrt::ModelWeights& w, const Region& r) {
  const auto& c = f.config();
  check_view(r, w.conv1);
  check_view(r, w.conv2);
  VRT_FUZZ_CHECK(static_cast<int>(w.encoder.size()) == c.encoder.n_layers);
  VRT_FUZZ_CHECK(static_cast<int>(w.decoder.size()) == c.n_layers);
  for (const auto& l : w.encoder)
    for (const auto* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w1, &l.w2, &l.w3}) check_linear(r, *m);
  for (const auto& l : w.decoder) {
    for (const auto* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w1, &l.w2, &l.w3}) check_linear(r, *m);
    if (l.ada_down.data != nullptr) check_view(r, l.ada_down);
    if (l.ada_up.data != nullptr) check_view(r, l.ada_up);
  }
  check_linear(r, w.adapter_in);
  check_linear(r, w.adapter_out);
  check_linear(r, w.tok_embeddings);
  check_linear(r, w.output);
  VRT_FUZZ_CHECK(w.tok_embeddings.rows() == c.vocab_size && w.tok_embeddings.cols() == c.dim);
  VRT_FUZZ_CHECK(w.output.rows() == c.vocab_size && w.output.cols() == c.dim);
  VRT_FUZZ_CHECK(static_cast<int>(w.final_norm.size()) == c.dim);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_fd = ::memfd_create("vrt-fuzz-packed", MFD_CLOEXEC);
  if (g_fd < 0) {
    std::perror("fuzz_packed_model: memfd_create");
    std::abort();
  }
  g_path = "/proc/self/fd/" + std::to_string(g_fd);
  const std::string seed = std::string(VRT_FUZZ_DIR) + "/corpus/fuzz_packed_model/tiny_8da4w.vxrt";
  std::ifstream in(seed, std::ios::binary);
  const std::vector<std::uint8_t> f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (f.size() < vrt::kPackedHeaderBytes) {
    std::fprintf(stderr, "fuzz_packed_model: cannot read the fixed seed %s\n", seed.c_str());
    std::abort();
  }
  const std::uint64_t data_offset = le64(&f[40]), data_bytes = le64(&f[48]);
  if (data_offset + data_bytes != f.size()) std::abort();
  g_data_region.assign(f.begin() + static_cast<std::ptrdiff_t>(data_offset), f.end());
  g_data_hash = le64(&f[64]);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> wrapped;
  if (size > 0 && data[0] == kMetaMarker) {
    wrapped = wrap_meta(vrt::fuzz::as_text({data + 1, size - 1}));
    data = wrapped.data();
    size = wrapped.size();
  }
  write_all(data, size);

  std::unique_ptr<vrt::PackedModelFile> f;
  try {
    f = vrt::PackedModelFile::open(g_path);
  } catch (const vrt::Error& e) {
    VRT_FUZZ_CHECK(e.status() == vrt::Status::bad_checkpoint || e.status() == vrt::Status::unsupported_model ||
                   e.status() == vrt::Status::bad_tokenizer);
    return 0;
  }
  check_open(*f, data, size);
  const std::uint64_t data_offset = le64(data + 40), data_bytes = le64(data + 48);
  const Region region{f->data(0), data_bytes};
  VRT_FUZZ_CHECK(f->data(0) != nullptr && data_offset <= size);
  try {
    auto source = f->weight_source();
    const auto w = vrt::ModelWeights::load(f->config(), *source);
    check_weights(*f, w, region);
  } catch (const vrt::Error& e) {
    VRT_FUZZ_CHECK(e.status() == vrt::Status::bad_checkpoint);
  }
  try {
    f->verify_data();
    VRT_FUZZ_CHECK(XXH3_64bits(data + data_offset, data_bytes) == le64(data + 64));
  } catch (const vrt::Error& e) {
    VRT_FUZZ_CHECK(e.status() == vrt::Status::bad_checkpoint);
    VRT_FUZZ_CHECK(XXH3_64bits(data + data_offset, data_bytes) != le64(data + 64));
  }
  return 0;
}
