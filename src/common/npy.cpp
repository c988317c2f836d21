#include "voxtral_rt/npy.h"

#include <cstring>
#include <fstream>

#include "common/checked.h"
#include "common/file_util.h"
#include "voxtral_rt/error.h"

namespace vrt::npy {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

std::string header_for(const char* descr, const std::vector<std::int64_t>& shape) {
  std::string h = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    h += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) h += ", ";
  }
  h += "), }";
  // magic(6) + version(2) + len(2) + header + '\n' must be a multiple of 64.
  const std::size_t total = 10 + h.size() + 1;
  h.append((64 - total % 64) % 64, ' ');
  h += '\n';
  return h;
}

void write_raw(const std::string& path, const char* descr, const void* data, std::size_t bytes,
               const std::vector<std::int64_t>& shape) {
  const std::string h = header_for(descr, shape);
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  const auto n = static_cast<std::uint16_t>(h.size());
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>(n >> 8);
  out += h;
  out.append(static_cast<const char*>(data), bytes);
  write_file(path, out);
}

std::int64_t count_of(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

}  // namespace

void write_f32(const std::string& path, std::span<const float> data,
               const std::vector<std::int64_t>& shape) {
  if (count_of(shape) != static_cast<std::int64_t>(data.size()))
    throw Error(Status::invalid_argument, "npy: shape does not match data size for " + path);
  write_raw(path, "<f4", data.data(), data.size_bytes(), shape);
}

void write_i32(const std::string& path, std::span<const std::int32_t> data,
               const std::vector<std::int64_t>& shape) {
  if (count_of(shape) != static_cast<std::int64_t>(data.size()))
    throw Error(Status::invalid_argument, "npy: shape does not match data size for " + path);
  write_raw(path, "<i4", data.data(), data.size_bytes(), shape);
}

Array<float> read_f32(const std::string& path) {
  const std::string bytes = read_file_capped(path, std::uint64_t{1} << 34, Status::invalid_argument);
  auto fail = [&](const std::string& m) -> Error {
    return Error(Status::invalid_argument, "npy '" + path + "': " + m);
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) throw fail("not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t hlen = 0, hstart = 0;
  if (major == 1) {
    hlen = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw fail("truncated header");
    std::uint32_t l = 0;
    std::memcpy(&l, bytes.data() + 8, 4);
    hlen = l;
    hstart = 12;
  } else {
    throw fail("unsupported version " + std::to_string(major));
  }
  if (hstart + hlen > bytes.size()) throw fail("truncated header");
  const std::string h = bytes.substr(hstart, hlen);
  const bool f8 = h.find("'<f8'") != std::string::npos;
  if (!f8 && h.find("'<f4'") == std::string::npos) throw fail("dtype is not <f4 or <f8");
  if (h.find("'fortran_order': False") == std::string::npos) throw fail("Fortran order unsupported");
  const auto lp = h.find('('), rp = h.find(')');
  if (lp == std::string::npos || rp == std::string::npos || rp < lp) throw fail("bad shape");
  Array<float> a;
  std::uint64_t count = 1;
  std::size_t pos = lp + 1;
  while (pos < rp) {
    while (pos < rp && (h[pos] == ' ' || h[pos] == ',')) ++pos;
    if (pos >= rp) break;
    std::size_t end = pos;
    while (end < rp && h[end] >= '0' && h[end] <= '9') ++end;
    if (end == pos) throw fail("bad shape");
    const auto d = std::stoll(h.substr(pos, end - pos));
    a.shape.push_back(d);
    count = checked_mul(count, static_cast<std::uint64_t>(d), "npy shape", Status::invalid_argument);
    pos = end;
  }
  const std::size_t esize = f8 ? 8 : 4;
  const std::size_t data_start = hstart + hlen;
  if (checked_mul(count, esize, "npy size", Status::invalid_argument) != bytes.size() - data_start)
    throw fail("data size does not match shape");
  a.data.resize(count);
  if (f8) {
    for (std::size_t i = 0; i < count; ++i) {
      double d = 0;
      std::memcpy(&d, bytes.data() + data_start + i * 8, 8);
      a.data[i] = static_cast<float>(d);
    }
  } else {
    if (count > 0) std::memcpy(a.data.data(), bytes.data() + data_start, count * 4);
  }
  return a;
}

}  // namespace vrt::npy
