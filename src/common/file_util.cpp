#include "common/file_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

namespace vrt {
namespace {

[[noreturn]] void throw_errno(const std::string& what, const std::string& path) {
  const int e = errno;
  throw Error(e == ENOENT ? Status::not_found : Status::io_error,
              what + " '" + path + "': " + std::strerror(e));
}

// Opens a regular file read-only; returns the descriptor and its size.
std::pair<int, std::uint64_t> open_regular(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw_errno("cannot stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(Status::io_error, "'" + path + "' is not a regular file");
  }
  return {fd, static_cast<std::uint64_t>(st.st_size)};
}

}  // namespace

std::string read_file_capped(const std::string& path, std::uint64_t max_bytes,
                             Status too_big_status) {
  const auto [fd, size] = open_regular(path);
  if (size > max_bytes) {
    ::close(fd);
    throw Error(too_big_status, "'" + path + "' is " + std::to_string(size) +
                                    " bytes, above the limit of " + std::to_string(max_bytes));
  }
  std::string out(size, '\0');
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out.data() + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      throw_errno("cannot read", path);
    }
    if (n == 0) break;  // file shrank while reading
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(done);
  return out;
}

void write_file(const std::string& path, std::span<const char> bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error(Status::io_error, "cannot create '" + path + "': " + std::strerror(errno));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) throw Error(Status::io_error, "cannot write '" + path + "'");
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const auto [fd, size] = open_regular(path);
  size_ = static_cast<std::size_t>(size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw_errno("cannot mmap", path);
    }
    data_ = static_cast<const std::uint8_t*>(p);
  }
  ::close(fd);  // the mapping keeps the file alive
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    path_ = std::move(other.path_);
  }
  return *this;
}

void MappedFile::release() noexcept {
  if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace vrt
