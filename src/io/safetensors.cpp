#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "common/checked.h"
#include "common/json_util.h"

namespace vrt {
namespace {

constexpr std::uint64_t kMaxJsonInteger = (std::uint64_t{1} << 48) - 1;  // safetensors schema

struct DtypeRow {
  StDtype t;
  const char* name;
  int size;
};
constexpr DtypeRow kDtypes[] = {
    {StDtype::BOOL, "BOOL", 1},       {StDtype::U8, "U8", 1},     {StDtype::I8, "I8", 1},
    {StDtype::I16, "I16", 2},         {StDtype::U16, "U16", 2},   {StDtype::I32, "I32", 4},
    {StDtype::U32, "U32", 4},         {StDtype::I64, "I64", 8},   {StDtype::U64, "U64", 8},
    {StDtype::F8_E4M3, "F8_E4M3", 1}, {StDtype::F8_E5M2, "F8_E5M2", 1},
    {StDtype::F16, "F16", 2},         {StDtype::BF16, "BF16", 2}, {StDtype::F32, "F32", 4},
    {StDtype::F64, "F64", 8},
};

Error bad(const std::string& source, const std::string& msg) {
  return Error(Status::bad_checkpoint, source + ": " + msg);
}

std::uint64_t read_u64_le(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// A JSON value that must be an exact non-negative integer within the schema's 2^48-1.
std::uint64_t exact_uint(const nlohmann::json& v, const std::string& source,
                         const std::string& what) {
  if (!v.is_number_integer())
    throw bad(source, what + " must be a non-negative integer, got " +
                          (v.is_number_float() ? std::string("a float") : v.type_name()));
  if (!v.is_number_unsigned()) throw bad(source, what + " is negative");
  const auto u = v.get<std::uint64_t>();
  if (u > kMaxJsonInteger) throw bad(source, what + " = " + std::to_string(u) + " exceeds 2^48-1");
  return u;
}

}  // namespace

std::optional<StDtype> parse_st_dtype(std::string_view s) {
  for (const auto& r : kDtypes)
    if (s == r.name) return r.t;
  return std::nullopt;
}
const char* st_dtype_name(StDtype t) {
  for (const auto& r : kDtypes)
    if (r.t == t) return r.name;
  return "?";
}
int st_dtype_size(StDtype t) {
  for (const auto& r : kDtypes)
    if (r.t == t) return r.size;
  return 0;
}
std::optional<DType> to_weight_dtype(StDtype t) {
  switch (t) {
    case StDtype::BF16: return DType::bf16;
    case StDtype::F16: return DType::f16;
    case StDtype::F32: return DType::f32;
    default: return std::nullopt;
  }
}

std::int64_t TensorInfo::elements() const {
  // A zero dimension makes the count 0 however large the others are. Without this exit a shape
  // the parser rightly accepts, [2^47, 2^16, 0] with 0 bytes, overflowed the running product
  // (signed overflow, found by fuzz_safetensors). Otherwise parse() has checked that
  // elements x dtype size = end - begin <= 2^48 - 1, so the product cannot overflow.
  for (auto d : shape)
    if (d == 0) return 0;
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

SafetensorsHeader SafetensorsHeader::parse(std::span<const std::uint8_t> file,
                                           const std::string& source,
                                           const SafetensorsLimits& limits) {
  if (file.size() < 8)
    throw bad(source, "file is " + std::to_string(file.size()) +
                          " bytes, too small for a safetensors header");
  const std::uint64_t n = read_u64_le(file.data());
  if (n > limits.max_header_bytes)
    throw bad(source, "header length " + std::to_string(n) + " exceeds the limit of " +
                          std::to_string(limits.max_header_bytes) + " bytes");
  if (n > file.size() - 8)
    throw bad(source, "header length " + std::to_string(n) + " runs past the end of the file (" +
                          std::to_string(file.size()) + " bytes)");
  if (n < 2) throw bad(source, "header of " + std::to_string(n) + " bytes cannot hold a JSON object");

  // The header is a JSON object, optionally padded with spaces. NUL padding is rejected.
  std::string_view text(reinterpret_cast<const char*>(file.data() + 8), static_cast<std::size_t>(n));
  if (text.find('\0') != std::string_view::npos) throw bad(source, "header contains a NUL byte");
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{')
    throw bad(source, "header does not start with '{'");

  const auto doc = json::parse_strict(text, source + " header", Status::bad_checkpoint,
                                      {.max_depth = limits.max_json_depth});
  if (!doc.is_object()) throw bad(source, "header is not a JSON object");

  SafetensorsHeader h;
  h.data_start = 8 + n;
  const std::uint64_t data_size = file.size() - h.data_start;
  // The cap counts tensors: every entry but __metadata__.
  const std::size_t n_tensors = doc.size() - (doc.contains("__metadata__") ? 1 : 0);
  if (n_tensors > limits.max_tensors)
    throw bad(source, "header lists " + std::to_string(n_tensors) +
                          " tensors, above the limit of " + std::to_string(limits.max_tensors));

  for (const auto& [name, entry] : doc.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw bad(source, "__metadata__ must be an object of strings");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string())
          throw bad(source, "__metadata__ value for \"" + k + "\" must be a string");
        h.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor \"" + name + "\"";
    if (name.empty()) throw bad(source, "a tensor has an empty name");
    // An escaped \u0000 survives the raw NUL check; such a name would be cut short wherever it
    // is printed or passed on as a C string (hardening.md §1a lists NUL-containing names).
    if (name.find('\0') != std::string::npos)
      throw bad(source, "a tensor name contains a NUL character");
    if (name.size() > limits.max_name_bytes)
      throw bad(source, "a tensor name is " + std::to_string(name.size()) + " bytes long (limit " +
                            std::to_string(limits.max_name_bytes) + ")");
    if (!entry.is_object()) throw bad(source, where + " is not an object");
    for (const auto& [k, v] : entry.items()) {
      (void)v;
      if (k != "dtype" && k != "shape" && k != "data_offsets")
        throw bad(source, where + " has unknown field \"" + k + "\"");
    }
    if (!entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      throw bad(source, where + " needs dtype, shape and data_offsets");

    TensorInfo t;
    t.name = name;
    const auto& dt = entry["dtype"];
    if (!dt.is_string()) throw bad(source, where + ": dtype is not a string");
    const auto parsed = parse_st_dtype(dt.get<std::string>());
    if (!parsed) throw bad(source, where + ": unknown dtype \"" + dt.get<std::string>() + "\"");
    t.dtype = *parsed;

    const auto& shape = entry["shape"];
    if (!shape.is_array()) throw bad(source, where + ": shape is not an array");
    if (shape.size() > static_cast<std::size_t>(limits.max_rank))
      throw bad(source, where + ": rank " + std::to_string(shape.size()) + " exceeds " +
                            std::to_string(limits.max_rank));
    std::uint64_t elements = 1;
    for (const auto& d : shape) {
      const auto dim = exact_uint(d, source, where + " shape entry");
      t.shape.push_back(static_cast<std::int64_t>(dim));
      elements = checked_mul(elements, dim, source + ": " + where + " element count");
    }
    const std::uint64_t nbytes =
        checked_mul(elements, static_cast<std::uint64_t>(st_dtype_size(t.dtype)),
                    source + ": " + where + " byte size");

    const auto& offs = entry["data_offsets"];
    if (!offs.is_array() || offs.size() != 2)
      throw bad(source, where + ": data_offsets must be [begin, end]");
    const auto begin = exact_uint(offs[0], source, where + " data_offsets[0]");
    const auto end = exact_uint(offs[1], source, where + " data_offsets[1]");
    if (end < begin)
      throw bad(source, where + ": data_offsets end " + std::to_string(end) + " < begin " +
                            std::to_string(begin));
    if (end - begin != nbytes)
      throw bad(source, where + ": shape x dtype is " + std::to_string(nbytes) +
                            " bytes but data_offsets cover " + std::to_string(end - begin));
    if (end > data_size)
      throw bad(source, where + ": data_offsets end " + std::to_string(end) +
                            " lies past the end of the data section (" + std::to_string(data_size) +
                            " bytes): the file is truncated");
    // Kernels read elements in place from the mapping: each tensor must be aligned to its
    // element size in the file (the header is padded for exactly this).
    if ((h.data_start + begin) % static_cast<std::uint64_t>(st_dtype_size(t.dtype)) != 0)
      throw bad(source, where + ": data at file offset " + std::to_string(h.data_start + begin) +
                            " is not aligned to its " + std::to_string(st_dtype_size(t.dtype)) +
                            "-byte elements");
    t.begin = begin;
    t.nbytes = nbytes;
    h.tensors.push_back(std::move(t));
  }

  // Offsets must tile the data section exactly: no gaps, no overlaps, no trailing bytes.
  std::sort(h.tensors.begin(), h.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.nbytes < b.nbytes;
  });
  std::uint64_t expected = 0;
  for (const auto& t : h.tensors) {
    if (t.begin != expected)
      throw bad(source, "tensor \"" + t.name + "\" starts at data offset " +
                            std::to_string(t.begin) + ", expected " + std::to_string(expected) +
                            (t.begin < expected ? " (overlaps the previous tensor)" : " (gap)"));
    expected = t.begin + t.nbytes;
  }
  if (expected != data_size)
    throw bad(source, "tensors cover " + std::to_string(expected) + " bytes but the data section has " +
                          std::to_string(data_size) + " (truncated file or trailing bytes)");
  return h;
}

SafetensorsFile SafetensorsFile::open(const std::string& path, const SafetensorsLimits& limits) {
  SafetensorsFile f;
  f.file_ = MappedFile(path);
  f.header_ = SafetensorsHeader::parse(f.file_.bytes(), path, limits);
  f.index_.reserve(f.header_.tensors.size());
  for (std::size_t i = 0; i < f.header_.tensors.size(); ++i)
    f.index_.emplace(f.header_.tensors[i].name, i);
  return f;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

std::span<const std::uint8_t> SafetensorsFile::data(const TensorInfo& t) const {
  return file_.bytes().subspan(header_.data_start + t.begin, t.nbytes);
}

void write_safetensors(const std::string& path, const std::vector<TensorDecl>& tensors,
                       const TensorFill& fill, const std::map<std::string, std::string>& metadata) {
  // Data is laid out by decreasing element size (stable otherwise), so every tensor starts
  // aligned to its elements without gaps, as the Python writer does.
  std::vector<std::size_t> order(tensors.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return st_dtype_size(tensors[a].dtype) > st_dtype_size(tensors[b].dtype);
  });
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  std::vector<std::uint64_t> sizes(tensors.size());
  for (const std::size_t i : order) {
    const auto& t = tensors[i];
    std::uint64_t n = static_cast<std::uint64_t>(st_dtype_size(t.dtype));
    for (auto d : t.shape) n = checked_mul(n, static_cast<std::uint64_t>(d), t.name, Status::invalid_argument);
    header[t.name] = {{"dtype", st_dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + n}}};
    sizes[i] = n;
    offset += n;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keep the data section 8-byte aligned

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(Status::io_error, "cannot create '" + path + "'");
  std::uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(text.size() >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  constexpr std::uint64_t kChunkBytes = 8u << 20;
  std::vector<std::uint8_t> buf;
  for (const std::size_t i : order) {
    const auto esize = static_cast<std::uint64_t>(st_dtype_size(tensors[i].dtype));
    for (std::uint64_t done = 0; done < sizes[i];) {
      const std::uint64_t n = std::min(kChunkBytes - kChunkBytes % esize, sizes[i] - done);
      buf.resize(n);
      fill(i, done / esize, std::span<std::uint8_t>(buf.data(), n));
      out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(n));
      done += n;
    }
  }
  out.close();
  if (!out) throw Error(Status::io_error, "cannot write '" + path + "' (disk full?)");
}

}  // namespace vrt
