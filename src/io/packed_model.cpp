#include "io/packed_model.h"

#include <chrono>
#include <xxhash.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/checked.h"
#include "common/json_util.h"
#include "model/tensor_names.h"
#include "io/checkpoint_weights.h"
#include "voxtral_rt/error.h"

#ifndef VRT_VERSION_STRING
#define VRT_VERSION_STRING "unknown"
#endif

namespace vrt {
namespace {

constexpr std::uint64_t kAlign = 64;
constexpr std::uint64_t kDataAlign = 4096;  // the data region starts on a page

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

template <class T>
T load_le(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // x86-64 and every target we build for is little-endian
  return v;
}

struct Header {
  std::uint32_t version = kPackedVersion;
  std::uint32_t header_bytes = kPackedHeaderBytes;
  std::uint64_t file_bytes = 0, meta_offset = 0, meta_bytes = 0, data_offset = 0, data_bytes = 0;
  std::uint64_t meta_hash = 0, data_hash = 0;
};

std::vector<std::uint8_t> encode_header(const Header& h) {
  std::vector<std::uint8_t> b(kPackedHeaderBytes, 0);
  std::memcpy(b.data(), kPackedMagic, 8);
  std::memcpy(b.data() + 8, &h.version, 4);
  std::memcpy(b.data() + 12, &h.header_bytes, 4);
  const std::uint64_t fields[] = {h.file_bytes, h.meta_offset, h.meta_bytes, h.data_offset,
                                  h.data_bytes, h.meta_hash,   h.data_hash};
  std::memcpy(b.data() + 16, fields, sizeof(fields));
  return b;
}

std::int64_t dtype_bytes(const std::string& kind) {
  if (kind == "f32") return 4;
  if (kind == "bf16" || kind == "f16") return 2;
  return 0;
}

DType kind_dtype(const std::string& kind) {
  return kind == "f32" ? DType::f32 : kind == "bf16" ? DType::bf16 : DType::f16;
}

// ModelWeights views into an open packed file; every lookup checks the tensor's kind and shape
// against what the config implies.
class PackedWeightSource final : public WeightSource {
 public:
  explicit PackedWeightSource(const PackedModelFile& f) : f_(f) {
    for (const auto& spec : expected_tensors(f.config())) {
      std::int64_t rows = spec.shape.empty() ? 1 : spec.shape[0];
      shapes_[spec.name] = {rows, rows == 0 ? 0 : spec.elements() / rows};
    }
    const ModelConfig& c = f.config();
    shapes_[tensor_names::kOutput] = {c.vocab_size, c.dim};
  }

  std::vector<float> vector(const std::string& name) override {
    const PackedTensor& t = checked(name, false);
    if (t.kind != "f32") fail(t, "is " + t.kind + ", expected f32");
    std::vector<float> out(static_cast<std::size_t>(t.rows * t.cols));
    std::memcpy(out.data(), f_.data(t.offset), out.size() * sizeof(float));
    return out;
  }

  kernels::WeightView raw(const std::string& name) override {
    const PackedTensor& t = checked(name, false);
    if (dtype_bytes(t.kind) == 0) fail(t, "is " + t.kind + ", expected a float kind");
    return float_view(t);
  }

  kernels::LinearWeight linear(const std::string& name, WeightPart part) override {
    const PackedTensor& t = checked(part == WeightPart::head ? std::string(tensor_names::kOutput) : name, true);
    kernels::LinearWeight l;
    if (dtype_bytes(t.kind) != 0) {
      l.f = float_view(t);
      return l;
    }
    l.q.format = t.kind == "q8" ? kernels::QuantFormat::q8 : kernels::QuantFormat::q4;
    const auto layout = kernels::packed_layout(l.q.format, t.rows, t.cols, t.group, t.name);
    l.q.rows = t.rows;
    l.q.cols = t.cols;
    l.q.group = layout.group;
    l.q.groups = layout.groups;
    l.q.block_bytes = layout.block_bytes;
    l.q.data = f_.data(t.offset);
    l.q.scales = reinterpret_cast<const std::uint16_t*>(f_.data(t.scales_offset));
    l.dynamic_int8 = t.int8_acts;
    return l;
  }

 private:
  [[noreturn]] void fail(const PackedTensor& t, const std::string& why) const {
    throw Error(Status::bad_checkpoint, f_.path() + ": tensor " + t.name + " " + why);
  }

  const PackedTensor& checked(const std::string& name, bool matrix) const {
    const PackedTensor& t = f_.tensor(name);
    const auto it = shapes_.find(name);
    if (it == shapes_.end()) fail(t, "is not a tensor of this model");
    if (t.rows != it->second.first || t.cols != it->second.second)
      fail(t, "has shape [" + std::to_string(t.rows) + ", " + std::to_string(t.cols) + "], the config implies [" +
                  std::to_string(it->second.first) + ", " + std::to_string(it->second.second) + "]");
    if (!matrix && dtype_bytes(t.kind) == 0) fail(t, "must be stored as floats, not " + t.kind);
    return t;
  }

  kernels::WeightView float_view(const PackedTensor& t) const {
    kernels::WeightView w;
    w.data = f_.data(t.offset);
    w.dtype = kind_dtype(t.kind);
    w.rows = t.rows;
    w.cols = t.cols;
    return w;
  }

  const PackedModelFile& f_;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> shapes_;
};

}  // namespace

bool is_packed_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, 8) && std::memcmp(magic, kPackedMagic, 8) == 0;
}

std::unique_ptr<PackedModelFile> PackedModelFile::open(const std::string& path, const PackedModelLimits& limits) {
  auto f = std::unique_ptr<PackedModelFile>(new PackedModelFile());
  f->file_ = MappedFile(path);
  const std::uint8_t* p = f->file_.data();
  const std::uint64_t size = f->file_.size();
  auto bad = [&](const std::string& why) { return Error(Status::bad_checkpoint, path + ": " + why); };
  if (size < kPackedHeaderBytes) throw bad("truncated: " + std::to_string(size) + " bytes, smaller than the header");
  if (std::memcmp(p, kPackedMagic, 8) != 0) throw bad("not a voxtral-rt packed model (bad magic)");
  Header h;
  h.version = load_le<std::uint32_t>(p + 8);
  h.header_bytes = load_le<std::uint32_t>(p + 12);
  std::uint64_t fields[7];
  std::memcpy(fields, p + 16, sizeof(fields));
  h.file_bytes = fields[0];
  h.meta_offset = fields[1];
  h.meta_bytes = fields[2];
  h.data_offset = fields[3];
  h.data_bytes = fields[4];
  h.meta_hash = fields[5];
  h.data_hash = fields[6];
  if (h.version != kPackedVersion)
    throw Error(Status::unsupported_model, path + ": packed model version " + std::to_string(h.version) +
                                               " (this voxtral-rt reads version " + std::to_string(kPackedVersion) +
                                               "); convert the checkpoint again with voxtral-rt quantize");
  if (h.header_bytes != kPackedHeaderBytes) throw bad("header size " + std::to_string(h.header_bytes));
  if (h.file_bytes != size)
    throw bad("file is " + std::to_string(size) + " bytes, the header says " + std::to_string(h.file_bytes) +
              " (truncated or appended to)");
  const std::uint64_t meta_end = checked_add(h.meta_offset, h.meta_bytes, path + ": meta region");
  const std::uint64_t data_end = checked_add(h.data_offset, h.data_bytes, path + ": data region");
  if (h.meta_offset < kPackedHeaderBytes || meta_end > size) throw bad("meta region outside the file");
  if (h.meta_bytes > limits.max_meta_bytes) throw bad("meta region of " + std::to_string(h.meta_bytes) + " bytes");
  if (h.data_offset % kAlign != 0 || h.data_offset < meta_end || data_end > size)
    throw bad("data region misplaced or outside the file");
  if (XXH3_64bits(p + h.meta_offset, h.meta_bytes) != h.meta_hash) throw bad("meta checksum mismatch (corrupt file)");
  f->data_offset_ = h.data_offset;
  f->data_bytes_ = h.data_bytes;
  f->data_hash_ = h.data_hash;

  const std::string where = path + ": meta";
  const auto meta = json::parse_strict(
      std::string_view(reinterpret_cast<const char*>(p + h.meta_offset), h.meta_bytes), where, Status::bad_checkpoint);
  if (!meta.is_object()) throw bad("meta is not a JSON object");
  const json::ObjectReader m(meta, where, Status::bad_checkpoint);
  if (m.string("format") != "voxtral-rt packed model") throw bad("meta format is not \"voxtral-rt packed model\"");
  if (m.integer("version", 1, 1 << 30) != kPackedVersion) throw bad("meta version differs from the header's");
  f->producer_ = m.string("producer");

  // A region of the data area, checked: aligned, inside, no wrap.
  auto region = [&](std::uint64_t off, std::uint64_t bytes, const std::string& what) {
    if (off % kAlign != 0) throw bad(what + ": offset " + std::to_string(off) + " not 64-byte aligned");
    if (checked_add(off, bytes, path + ": " + what) > h.data_bytes) throw bad(what + ": outside the data region");
  };

  f->config_ = ModelConfig::from_json(m.string("params"), path + ": params");
  {
    const json::ObjectReader t = m.object("tokenizer");
    const auto off = static_cast<std::uint64_t>(t.integer("offset", 0, INT64_MAX));
    const auto bytes = static_cast<std::uint64_t>(t.integer("bytes", 1, INT64_MAX));
    if (bytes > limits.max_tokenizer_bytes) throw bad("tokenizer of " + std::to_string(bytes) + " bytes");
    region(off, bytes, "tokenizer");
    f->tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_json(
        std::string_view(reinterpret_cast<const char*>(f->data(off)), bytes), path + ": tokenizer"));
    // As for a checkpoint directory (checkpoint.cpp): the runtime indexes the embedding table
    // (config vocab_size rows) with the tokenizer's ids, and frames audio by the config.
    const Tokenizer& tok = *f->tokenizer_;
    const auto& s = tok.streaming();
    const auto& a = f->config_.encoder.audio;
    if (tok.vocab_size() != f->config_.vocab_size)
      throw bad("tokenizer and params disagree: vocabulary size " + std::to_string(tok.vocab_size()) +
                " vs vocab_size " + std::to_string(f->config_.vocab_size));
    if (s.sampling_rate != a.sampling_rate || s.frame_rate != a.frame_rate || s.num_mel_bins != a.num_mel_bins ||
        s.hop_length != a.hop_length || s.window_size != a.window_size)
      throw bad("tokenizer and params disagree on the audio settings");
  }
  {
    const json::ObjectReader q = m.object("quantization");
    try {
      f->quant_.linear = parse_weight_scheme(q.string("linear"));
      f->quant_.encoder = parse_weight_scheme(q.string("encoder"));
      f->quant_.embedding = parse_weight_scheme(q.string("embedding"));
      f->quant_.head = parse_weight_scheme(q.string("head"));
    } catch (const Error& e) {
      throw bad(std::string("quantization: ") + e.what());
    }
    f->quant_.group_size = static_cast<int>(q.integer("group_size", 32, 256));
  }

  const nlohmann::json& tensors = m.at("tensors");
  if (!tensors.is_array()) throw bad("tensors is not an array");
  if (static_cast<std::int64_t>(tensors.size()) > limits.max_tensors) throw bad("too many tensors");
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (!tensors[i].is_object()) throw bad("tensors[" + std::to_string(i) + "] is not an object");
    const json::ObjectReader r(tensors[i], where + ": tensors[" + std::to_string(i) + "]", Status::bad_checkpoint);
    PackedTensor t;
    t.name = r.string("name");
    t.kind = r.string("kind");
    t.rows = r.integer("rows", 1, limits.max_dim);
    t.cols = r.integer("cols", 1, limits.max_dim);
    t.group = r.integer("group", 0, limits.max_dim);
    const std::string act = r.string("act");
    if (act != "f32" && act != "int8") throw bad(t.name + ": act \"" + act + "\"");
    t.int8_acts = act == "int8";
    t.offset = static_cast<std::uint64_t>(r.integer("offset", 0, INT64_MAX));
    t.bytes = static_cast<std::uint64_t>(r.integer("bytes", 0, INT64_MAX));
    t.scales_offset = static_cast<std::uint64_t>(r.integer("scales_offset", 0, INT64_MAX));
    t.scales_bytes = static_cast<std::uint64_t>(r.integer("scales_bytes", 0, INT64_MAX));
    const std::uint64_t elements = checked_mul(static_cast<std::uint64_t>(t.rows), static_cast<std::uint64_t>(t.cols),
                                               path + ": " + t.name);
    std::uint64_t want = 0, want_scales = 0;
    if (const std::int64_t elem = dtype_bytes(t.kind); elem != 0) {
      want = checked_mul(elements, static_cast<std::uint64_t>(elem), path + ": " + t.name);
      if (t.int8_acts) throw bad(t.name + ": float weights with int8 activations");
    } else if (t.kind == "q8" || t.kind == "q4") {
      const auto fmt = t.kind == "q8" ? kernels::QuantFormat::q8 : kernels::QuantFormat::q4;
      kernels::PackedLayout l;
      try {
        l = kernels::packed_layout(fmt, t.rows, t.cols, t.group, t.name);
      } catch (const Error& e) {
        throw bad(e.what());
      }
      want = static_cast<std::uint64_t>(l.data_bytes);
      want_scales = static_cast<std::uint64_t>(l.scale_count) * 2;
      region(t.scales_offset, t.scales_bytes, t.name + " scales");
    } else {
      throw bad(t.name + ": unknown kind \"" + t.kind + "\"");
    }
    if (t.bytes != want || t.scales_bytes != want_scales)
      throw bad(t.name + ": " + std::to_string(t.bytes) + " bytes, its kind and shape need " + std::to_string(want));
    region(t.offset, t.bytes, t.name);
    if (!f->by_name_.emplace(t.name, f->tensors_.size()).second) throw bad("duplicate tensor " + t.name);
    f->tensors_.push_back(std::move(t));
  }
  return f;
}

const PackedTensor& PackedModelFile::tensor(const std::string& name) const {
  const auto it = by_name_.find(name);
  if (it == by_name_.end()) throw Error(Status::bad_checkpoint, path() + ": missing tensor " + name);
  return tensors_[it->second];
}

void PackedModelFile::verify_data() const {
  if (XXH3_64bits(file_.data() + data_offset_, data_bytes_) != data_hash_)
    throw Error(Status::bad_checkpoint, path() + ": data checksum mismatch (the file is corrupt)");
}

std::unique_ptr<WeightSource> PackedModelFile::weight_source() const {
  return std::make_unique<PackedWeightSource>(*this);
}

void write_packed_model(const std::string& path, const std::string& params_json, const std::string& tekken_json,
                        const QuantOptions& quant, const std::vector<WeightEntry>& entries) {
  // Lay out the data region: each distinct buffer once (a tied head shares the embedding's).
  struct Blob {
    const void* data;
    std::uint64_t bytes, offset;
  };
  std::vector<Blob> blobs;
  std::map<const void*, std::uint64_t> placed;
  std::uint64_t cursor = 0;
  auto place = [&](const void* data, std::uint64_t bytes) {
    if (const auto it = placed.find(data); it != placed.end()) return it->second;
    const std::uint64_t off = cursor;
    blobs.push_back({data, bytes, off});
    placed[data] = off;
    cursor = align_up(off + bytes, kAlign);
    return off;
  };
  nlohmann::json table = nlohmann::json::array();
  std::vector<std::vector<float>> vectors;  // keep vector values addressable
  vectors.reserve(entries.size());
  std::map<std::string, bool> seen;
  for (const auto& e : entries) {
    if (seen[e.name]) continue;  // the same tensor handed out twice (shared views)
    seen[e.name] = true;
    nlohmann::json t = {{"name", e.name}, {"group", 0}, {"act", "f32"}, {"scales_offset", 0}, {"scales_bytes", 0}};
    auto float_entry = [&](const kernels::WeightView& w) {
      const auto bytes = static_cast<std::uint64_t>(w.rows * w.cols * dtype_size(w.dtype));
      t["kind"] = dtype_kind(w.dtype);
      t["rows"] = w.rows;
      t["cols"] = w.cols;
      t["offset"] = place(w.data, bytes);
      t["bytes"] = bytes;
    };
    switch (e.kind) {
      case WeightEntry::Kind::vector: {
        const auto& v = vectors.emplace_back(e.values);
        float_entry(kernels::WeightView{v.data(), DType::f32, static_cast<std::int64_t>(v.size()), 1});
        break;
      }
      case WeightEntry::Kind::raw: float_entry(e.view); break;
      case WeightEntry::Kind::linear:
        if (!e.linear.quantized()) {
          float_entry(e.linear.f);
        } else {
          const auto& q = e.linear.q;
          const auto l = kernels::packed_layout(q.format, q.rows, q.cols, q.group, e.name);
          t["kind"] = q.format == kernels::QuantFormat::q8 ? "q8" : "q4";
          t["rows"] = q.rows;
          t["cols"] = q.cols;
          t["group"] = q.format == kernels::QuantFormat::q8 ? 0 : q.group;
          t["act"] = e.linear.dynamic_int8 ? "int8" : "f32";
          t["offset"] = place(q.data, static_cast<std::uint64_t>(l.data_bytes));
          t["bytes"] = l.data_bytes;
          t["scales_offset"] = place(q.scales, static_cast<std::uint64_t>(l.scale_count) * 2);
          t["scales_bytes"] = l.scale_count * 2;
        }
        break;
    }
    table.push_back(std::move(t));
  }
  const std::uint64_t tok_offset = place(tekken_json.data(), tekken_json.size());
  const std::uint64_t data_bytes = cursor;

  nlohmann::json meta = {
      {"format", "voxtral-rt packed model"},
      {"version", kPackedVersion},
      {"producer", std::string("voxtral-rt ") + VRT_VERSION_STRING},
      {"params", params_json},
      {"quantization",
       {{"linear", weight_scheme_name(quant.linear)},
        {"encoder", weight_scheme_name(quant.encoder_scheme())},
        {"embedding", weight_scheme_name(quant.embedding)},
        {"head", weight_scheme_name(quant.head_scheme())},
        {"group_size", quant.group_size}}},
      {"tokenizer", {{"offset", tok_offset}, {"bytes", tekken_json.size()}}},
      {"tensors", std::move(table)}};
  const std::string meta_text = meta.dump();

  Header h;
  h.meta_offset = kPackedHeaderBytes;
  h.meta_bytes = meta_text.size();
  h.data_offset = align_up(h.meta_offset + h.meta_bytes, kDataAlign);
  h.data_bytes = data_bytes;
  h.file_bytes = h.data_offset + data_bytes;
  h.meta_hash = XXH3_64bits(meta_text.data(), meta_text.size());

  // Written to a temporary name and renamed, so a failed run never leaves a plausible file.
  const std::string tmp = path + ".partial";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(Status::io_error, "cannot write " + tmp);
    XXH3_state_t* state = XXH3_createState();
    XXH3_64bits_reset(state);
    const std::vector<std::uint8_t> zeros(kDataAlign, 0);
    out.write(reinterpret_cast<const char*>(encode_header(h).data()), kPackedHeaderBytes);
    out.write(meta_text.data(), static_cast<std::streamsize>(meta_text.size()));
    out.write(reinterpret_cast<const char*>(zeros.data()),
              static_cast<std::streamsize>(h.data_offset - h.meta_offset - h.meta_bytes));
    std::uint64_t at = 0;
    for (const Blob& b : blobs) {
      const std::uint64_t pad = b.offset - at;
      out.write(reinterpret_cast<const char*>(zeros.data()), static_cast<std::streamsize>(pad));
      XXH3_64bits_update(state, zeros.data(), pad);
      out.write(static_cast<const char*>(b.data), static_cast<std::streamsize>(b.bytes));
      XXH3_64bits_update(state, b.data, b.bytes);
      at = b.offset + b.bytes;
    }
    out.write(reinterpret_cast<const char*>(zeros.data()), static_cast<std::streamsize>(data_bytes - at));
    XXH3_64bits_update(state, zeros.data(), data_bytes - at);
    h.data_hash = XXH3_64bits_digest(state);
    XXH3_freeState(state);
    out.seekp(0);
    out.write(reinterpret_cast<const char*>(encode_header(h).data()), kPackedHeaderBytes);
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error(Status::io_error, "writing " + tmp + " failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(Status::io_error, "cannot rename " + tmp + " to " + path);
  }
}

PackedModelInfo inspect_packed_model(const std::string& path, bool verify_data) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const auto f = PackedModelFile::open(path);
  PackedModelInfo info;
  info.open_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (verify_data) {
    const auto t1 = Clock::now();
    f->verify_data();  // throws on a mismatch
    info.verify_ms = std::chrono::duration<double, std::milli>(Clock::now() - t1).count();
    info.data_verified = true;
  }
  info.path = path;
  info.producer = f->producer();
  info.file_bytes = f->file_bytes();
  info.quantization = f->quant().describe();
  info.config = f->config();
  info.tokenizer_vocab_size = f->tokenizer().vocab_size();
  for (const auto& t : f->tensors()) {
    auto& k = info.kinds[t.kind + (t.int8_acts ? " (int8 activations)" : "")];
    ++k.tensors;
    k.bytes += t.bytes + t.scales_bytes;
  }
  return info;
}

}  // namespace vrt
