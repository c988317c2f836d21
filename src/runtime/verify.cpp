#include "runtime/verify.h"

#include <algorithm>

namespace vrt {

VerifyPolicy::VerifyPolicy(int pad_id, int eos_id, std::vector<int> forced)
    : pad_id_(pad_id), eos_id_(eos_id), forced_(std::move(forced)) {}

void VerifyPolicy::reset() {
  next_input_ = 0;
  followers_.clear();
}

int VerifyPolicy::guess_after(int token) const {
  const auto it = followers_.find(token);
  return it == followers_.end() ? pad_id_ : it->second.candidate;
}

void VerifyPolicy::plan(std::int64_t k, std::int64_t generated, std::vector<int>& rows) const {
  rows.assign(static_cast<std::size_t>(k), next_input_);
  for (std::int64_t j = 1; j < k; ++j) {
    const std::int64_t idx = generated + j - 1;  // the generated token that feeds row j
    rows[static_cast<std::size_t>(j)] = idx < static_cast<std::int64_t>(forced_.size())
                                            ? forced_[static_cast<std::size_t>(idx)]
                                            : guess_after(rows[static_cast<std::size_t>(j - 1)]);
  }
}

int VerifyPolicy::record(int argmax, std::int64_t index) {
  const int outcome = index < static_cast<std::int64_t>(forced_.size()) ? forced_[static_cast<std::size_t>(index)] : argmax;
  const int input = next_input_;
  next_input_ = outcome == eos_id_ ? pad_id_ : outcome;  // only fed on when the stream goes on
  auto [it, fresh] = followers_.try_emplace(input, Follower{next_input_, 0});
  (void)fresh;
  Follower& f = it->second;
  if (f.candidate == next_input_) {
    ++f.votes;
  } else if (f.votes == 0) {
    f = {next_input_, 1};
  } else {
    --f.votes;
  }
  return outcome;
}

VerificationReplay replay_verification(std::span<const int> tokens, std::int64_t k, int pad_id, int eos_id,
                                       std::int64_t n_prompt, std::int64_t chunk) {
  VerificationReplay r;
  const auto n = static_cast<std::int64_t>(tokens.size());
  if (n == 0) return r;
  VerifyPolicy policy(pad_id, eos_id);
  policy.record(tokens[0], 0);
  std::vector<int> rows;
  for (std::int64_t i = 1; i < n;) {  // i: the next token; its decoder position is n_prompt - 1 + i
    const std::int64_t pos = n_prompt - 1 + i;
    const std::int64_t available = chunk > 0 ? (pos / chunk + 1) * chunk - pos : n;
    const std::int64_t k_pass = std::min({k, n - i, available});
    policy.plan(k_pass, i, rows);
    std::int64_t accepted = 0;
    while (accepted < k_pass) {
      policy.record(tokens[static_cast<std::size_t>(i + accepted)], i + accepted);
      ++accepted;
      if (accepted < k_pass && policy.next_input() != rows[static_cast<std::size_t>(accepted)]) break;
    }
    i += accepted;
    r.positions += accepted;
    ++r.passes;
    ++r.pass_rows[k_pass];
  }
  return r;
}

}  // namespace vrt
