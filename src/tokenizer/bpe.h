// Rank-based byte-pair merging, as tiktoken does it (mistral-common's Tekkenizer uses tiktoken).
//
// tiktoken has no merge list: the "rank" of a pair is the rank of the concatenated bytes as a
// token, and it repeatedly merges the leftmost adjacent pair of lowest rank. Its loop is
// quadratic in the piece length, which a hostile text (a megabyte of one letter is one regex
// piece) turns into minutes; long pieces therefore go through a heap version that makes the
// same choices in O(n log n).
#pragma once

#include <string_view>
#include <unordered_map>
#include <vector>

namespace vrt::bpe {

// Bytes -> rank. The views point into storage that outlives the map.
using RankMap = std::unordered_map<std::string_view, int>;

// Appends the ranks of `piece` to `out`. Every single byte must be in `ranks`. Like tiktoken, a
// piece that is itself a token is emitted whole without merging.
void encode_piece(std::string_view piece, const RankMap& ranks, std::vector<int>& out);

// The two merge loops behind encode_piece (no whole-piece shortcut); exposed for tests, which
// check that they agree.
void merge_quadratic(std::string_view piece, const RankMap& ranks, std::vector<int>& out);
void merge_heap(std::string_view piece, const RankMap& ranks, std::vector<int>& out);

}  // namespace vrt::bpe
