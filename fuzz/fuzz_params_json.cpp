// Fuzz target: params.json (ModelConfig::from_json) and what is derived from an accepted config:
// the exact tensor set, the parameter count, the mel front end's configuration.
//
// Invariants: errors are bad_checkpoint or unsupported_model; an accepted config passes
// validate(), round-trips through to_json() (from_json(to_json(c)).to_json() == c.to_json()),
// has every dimension within the documented ranges, and gives a tensor set whose shapes are
// positive and whose element counts do not overflow (checked in 128 bits here).
#include "fuzz_util.h"
#include "model/tensor_names.h"
#include "voxtral_rt/config.h"
#include "voxtral_rt/mel.h"

using vrt::Error;
using vrt::Status;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vrt::ModelConfig c;
  try {
    c = vrt::ModelConfig::from_json(vrt::fuzz::as_text({data, size}), "fuzz/params.json");
  } catch (const Error& e) {
    VRT_FUZZ_CHECK(e.status() == Status::bad_checkpoint || e.status() == Status::unsupported_model);
    return 0;
  }
  c.validate();  // must not throw for a config from_json accepted
  // docs/LIMITS.md: dimensions in [1, 65536], layers <= 1024, vocab <= 4,194,304.
  for (const int d :
       {c.dim, c.head_dim, c.hidden_dim, c.n_heads, c.n_kv_heads, c.encoder.dim, c.encoder.head_dim,
        c.encoder.hidden_dim, c.encoder.n_heads, c.encoder.n_kv_heads})
    VRT_FUZZ_CHECK(d >= 1 && d <= 65536);
  VRT_FUZZ_CHECK(c.n_layers >= 1 && c.n_layers <= 1024);
  VRT_FUZZ_CHECK(c.encoder.n_layers >= 1 && c.encoder.n_layers <= 1024);
  VRT_FUZZ_CHECK(c.vocab_size >= 1 && c.vocab_size <= (1 << 22));
  VRT_FUZZ_CHECK(c.n_heads % c.n_kv_heads == 0 && c.head_dim % 2 == 0);
  VRT_FUZZ_CHECK(c.samples_per_token() > 0);

  const std::string text = c.to_json();
  const auto back = vrt::ModelConfig::from_json(text, "round trip");
  VRT_FUZZ_CHECK(back.to_json() == text);

  vrt::fuzz::i128 total = 0;
  for (const auto& t : vrt::expected_tensors(c)) {
    vrt::fuzz::i128 n = 1;
    for (const auto d : t.shape) {
      VRT_FUZZ_CHECK(d >= 1);
      n *= d;
      VRT_FUZZ_CHECK(n < (static_cast<vrt::fuzz::i128>(1) << 62));
    }
    VRT_FUZZ_CHECK(t.elements() == n);
    total += n;
  }
  VRT_FUZZ_CHECK(total < (static_cast<vrt::fuzz::i128>(1) << 62));
  VRT_FUZZ_CHECK(c.parameter_count() == static_cast<std::int64_t>(total));

  // The front end's configuration comes from the same block; a config that loads must either
  // give a valid mel setup or be refused with a clear error (never UB).
  try {
    const auto mel = vrt::MelConfig::from_model(c);
    mel.validate();
  } catch (const Error& e) {
    VRT_FUZZ_CHECK(e.status() == Status::invalid_argument || e.status() == Status::bad_checkpoint ||
                   e.status() == Status::unsupported_model);
  }
  return 0;
}
