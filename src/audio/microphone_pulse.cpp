// Microphone capture through PulseAudio's simple API (also served by PipeWire's pulse server):
// 16 kHz mono float32 straight from the server, which resamples and downmixes the device.
// Without a server or a capture device the constructor throws a clear error.
#include <pulse/error.h>
#include <pulse/simple.h>

#include <cmath>

#include "voxtral_rt/audio.h"  // kModelSampleRateHz
#include "voxtral_rt/microphone.h"
#include "voxtral_rt/error.h"

namespace vrt {

struct Microphone::Impl {
  pa_simple* pa = nullptr;
};

Microphone::Microphone(const std::string& device, int chunk_ms) : impl_(std::make_unique<Impl>()) {
  if (chunk_ms < 10 || chunk_ms > 1000) throw Error(Status::invalid_argument, "microphone chunk must be 10..1000 ms");
  chunk_samples_ = static_cast<std::size_t>(kModelSampleRateHz / 1000 * chunk_ms);
  pa_sample_spec spec{};
  spec.format = PA_SAMPLE_FLOAT32LE;
  spec.rate = kModelSampleRateHz;
  spec.channels = 1;
  pa_buffer_attr attr{};
  attr.maxlength = static_cast<std::uint32_t>(-1);
  attr.fragsize = static_cast<std::uint32_t>(chunk_samples_ * sizeof(float));  // low latency
  int err = 0;
  impl_->pa = pa_simple_new(nullptr, "voxtral-rt", PA_STREAM_RECORD, device.empty() ? nullptr : device.c_str(),
                            "speech input", &spec, nullptr, &attr, &err);
  if (impl_->pa == nullptr)
    throw Error(Status::not_found, std::string("no microphone: cannot open the ") +
                                       (device.empty() ? "default audio source" : "audio source '" + device + "'") +
                                       " through PulseAudio/PipeWire (" + pa_strerror(err) +
                                       "). Is a sound server running, with a capture device?");
}

bool microphone_supported() { return true; }

Microphone::~Microphone() {
  if (impl_ && impl_->pa) pa_simple_free(impl_->pa);
}

void Microphone::read(std::vector<float>& out) {
  out.resize(chunk_samples_);
  int err = 0;
  if (pa_simple_read(impl_->pa, out.data(), out.size() * sizeof(float), &err) < 0)
    throw Error(Status::io_error, std::string("microphone read failed: ") + pa_strerror(err));
  for (auto& x : out)
    if (!std::isfinite(x)) x = 0.0f;
}

}  // namespace vrt
