// voxtral-rt: live audio from the microphone (library voxtral_rt_mic, separate from the core
// library so that a headless program needs no sound server; built over PulseAudio when the
// build has it, see -DVRT_MIC).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace vrt {

// The default (or a named) capture device through PulseAudio's simple API, as 16 kHz mono
// float32. Throws not_found with a clear message when there is no sound server or device.
class Microphone {
 public:
  explicit Microphone(const std::string& device = "", int chunk_ms = 80);
  ~Microphone();
  Microphone(const Microphone&) = delete;
  Microphone& operator=(const Microphone&) = delete;
  // Blocks until chunk_ms of audio is captured; throws io_error if the server goes away.
  void read(std::vector<float>& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::size_t chunk_samples_ = 0;
};

// Whether this build captures audio (false: the Microphone constructor throws not_found saying
// how to build with PulseAudio).
bool microphone_supported();

}  // namespace vrt
