// Verification decoding's policy, written once: the stream schedule (runtime/stream.cpp) follows
// it for every decoder pass, and replay_verification() follows it on recorded token streams
// (`voxtral-rt bench`, scripts/verify_sim.sh), so the benchmark measures the policy that runs.
//
// A pass computes k positions at once. Row 0's input is the previous position's outcome; row
// j > 0's input is a guess of the token row j - 1 will write: the forced token when teacher
// forcing, else the majority follower of row j - 1's input so far ([STREAMING_PAD] for a token
// not seen yet: most positions write pads, and pads follow pads). Rows are accepted in order
// while the guess feeding the next row was right; the rest is recomputed by the next pass. Each
// row's values do not depend on k, so the output is greedy decoding's exactly; k = 1 is plain
// greedy decoding.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "voxtral_rt/profile.h"  // VerificationReplay

namespace vrt {

class VerifyPolicy {
 public:
  // forced: teacher forcing (SessionOptions::force_tokens): generated token n's outcome.
  VerifyPolicy(int pad_id, int eos_id, std::vector<int> forced = {});

  // Forgets what was learned; the next input is 0 (the prompt feeds the first positions).
  void reset();
  // The input of the next position: the last outcome ([STREAMING_PAD] after an EOS).
  int next_input() const { return next_input_; }
  // The inputs of the k rows of the next pass into `rows` (rows[0] = next_input()); `generated`
  // is the number of tokens decided so far (row 0 decides token number `generated`).
  void plan(std::int64_t k, std::int64_t generated, std::vector<int>& rows) const;
  // Records generated token number `index`, the greedy choice `argmax`; returns its outcome (the
  // forced token while teacher forcing lasts, else argmax), which feeds the next position.
  int record(int argmax, std::int64_t index);
  bool is_eos(int outcome) const { return outcome == eos_id_; }

 private:
  struct Follower {  // Boyer-Moore majority vote: O(1) per token, one entry per vocabulary id
    int candidate = 0;
    int votes = 0;
  };
  int guess_after(int token) const;

  int pad_id_, eos_id_;
  std::vector<int> forced_;
  int next_input_ = 0;
  std::unordered_map<int, Follower> followers_;
};

// The work verification decoding does on a recorded greedy stream: tokens[0] is the prompt's
// token; positions become available in chunks of `chunk` decoder positions counted from
// position 0 (the offline schedule's encoder chunks; 0 = all at once); the prompt takes
// n_prompt positions. Each pass takes up to k rows.
VerificationReplay replay_verification(std::span<const int> tokens, std::int64_t k, int pad_id, int eos_id,
                                       std::int64_t n_prompt, std::int64_t chunk);

}  // namespace vrt
