// voxtral-rt: error type shared by every stage.
//
// Every failure caused by input (files, audio, user options) is reported by throwing vrt::Error,
// which carries a Status and a message naming the file, tensor, offset, expected and actual
// values. The library never aborts or exits because of input.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace vrt {

// One list gives both the enum values and their names.
#define VRT_STATUS_LIST(X)                                                                  \
  X(ok)                /* not an error; used by the C API */                                \
  X(invalid_argument)  /* the caller passed something outside the documented contract */    \
  X(not_found)         /* a file or directory does not exist */                             \
  X(io_error)          /* the OS refused a read, write or mmap */                           \
  X(bad_checkpoint)    /* a checkpoint file is corrupt or inconsistent */                   \
  X(unsupported_model) /* a well-formed checkpoint this engine does not support */          \
  X(bad_tokenizer)     /* tekken.json is corrupt or violates the tokenizer's invariants */  \
  X(bad_audio)         /* audio that cannot be decoded or violates the limits */            \
  X(bad_state)         /* a call made in the wrong order */                                 \
  X(out_of_memory)     /* an allocation failed or would exceed a limit */                   \
  X(internal)          /* a bug: please report it */

enum class Status {
#define VRT_X(name) name,
  VRT_STATUS_LIST(VRT_X)
#undef VRT_X
};

constexpr std::string_view status_name(Status s) noexcept {
  switch (s) {
#define VRT_X(name) \
  case Status::name: return #name;
    VRT_STATUS_LIST(VRT_X)
#undef VRT_X
  }
  return "unknown";
}

class Error : public std::runtime_error {
 public:
  Error(Status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  Status status() const noexcept { return status_; }

 private:
  Status status_;
};

}  // namespace vrt
