// The microphone in a build without PulseAudio (-DVRT_MIC=OFF, or AUTO without libpulse-dev):
// the same API, whose constructor says what is missing.
#include "voxtral_rt/error.h"
#include "voxtral_rt/microphone.h"

namespace vrt {

struct Microphone::Impl {};

bool microphone_supported() { return false; }

Microphone::Microphone(const std::string&, int) {
  throw Error(Status::not_found,
              "no microphone: this voxtral-rt was built without microphone support (install libpulse-dev and "
              "configure with -DVRT_MIC=ON, or pipe audio into `voxtral-rt stream -`)");
}

Microphone::~Microphone() = default;

void Microphone::read(std::vector<float>&) { throw Error(Status::bad_state, "no microphone in this build"); }

}  // namespace vrt
