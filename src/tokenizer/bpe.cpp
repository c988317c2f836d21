// tiktoken-compatible rank BPE; see bpe.h for why there are two merge loops.
#include "tokenizer/bpe.h"

#include <cstdint>
#include <limits>
#include <queue>

namespace vrt::bpe {
namespace {

constexpr int kNoRank = std::numeric_limits<int>::max();
constexpr std::size_t kQuadraticMaxPiece = 64;  // above this the heap's constant factor pays off

int rank_of(const RankMap& ranks, std::string_view bytes) {
  const auto it = ranks.find(bytes);
  return it == ranks.end() ? kNoRank : it->second;
}

// Emits the ranks of the parts delimited by consecutive boundaries (every part is a token).
void emit_parts(std::string_view piece, const std::vector<std::size_t>& bounds,
                const RankMap& ranks, std::vector<int>& out) {
  for (std::size_t k = 0; k + 1 < bounds.size(); ++k)
    out.push_back(rank_of(ranks, piece.substr(bounds[k], bounds[k + 1] - bounds[k])));
}

}  // namespace

void merge_quadratic(std::string_view piece, const RankMap& ranks, std::vector<int>& out) {
  const std::size_t n = piece.size();
  if (n == 0) return;
  if (n == 1) {
    out.push_back(rank_of(ranks, piece));
    return;
  }
  // parts[i] = (start of part i, rank of merging part i with part i+1); two sentinels.
  struct Part {
    std::size_t start;
    int rank;
  };
  std::vector<Part> parts;
  parts.reserve(n + 1);
  for (std::size_t i = 0; i + 1 < n; ++i) parts.push_back({i, rank_of(ranks, piece.substr(i, 2))});
  parts.push_back({n - 1, kNoRank});
  parts.push_back({n, kNoRank});
  auto pair_rank = [&](std::size_t i) {
    if (i + 3 >= parts.size()) return kNoRank;
    return rank_of(ranks, piece.substr(parts[i].start, parts[i + 3].start - parts[i].start));
  };
  for (;;) {
    int best = kNoRank;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      if (parts[i].rank < best) {
        best = parts[i].rank;
        at = i;
      }
    }
    if (best == kNoRank) break;
    if (at > 0) parts[at - 1].rank = pair_rank(at - 1);
    parts[at].rank = pair_rank(at);
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
  std::vector<std::size_t> bounds;
  bounds.reserve(parts.size());
  for (const auto& p : parts) bounds.push_back(p.start);
  emit_parts(piece, bounds, ranks, out);
}

void merge_heap(std::string_view piece, const RankMap& ranks, std::vector<int>& out) {
  const std::size_t n = piece.size();
  if (n == 0) return;
  if (n == 1) {
    out.push_back(rank_of(ranks, piece));
    return;
  }
  // A linked list of parts, part i starting at byte i; removed parts are skipped via next/prev.
  constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> next(n), prev(n);
  std::vector<int> rank(n, kNoRank);  // rank of merging part i with its successor
  std::vector<std::uint8_t> alive(n, 1);
  for (std::size_t i = 0; i < n; ++i) {
    next[i] = i + 1 < n ? i + 1 : kNone;
    prev[i] = i > 0 ? i - 1 : kNone;
  }
  auto end_of = [&](std::size_t i) { return next[i] == kNone ? n : next[i]; };
  auto pair_rank = [&](std::size_t i) {
    const std::size_t j = next[i];
    if (j == kNone) return kNoRank;
    return rank_of(ranks, piece.substr(i, end_of(j) - i));
  };
  // Min-heap on (rank, start): the lowest rank, leftmost first, exactly tiktoken's choice.
  using Entry = std::pair<int, std::size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    rank[i] = rank_of(ranks, piece.substr(i, 2));
    if (rank[i] != kNoRank) heap.push({rank[i], i});
  }
  while (!heap.empty()) {
    const auto [r, i] = heap.top();
    heap.pop();
    if (!alive[i] || rank[i] != r) continue;  // stale entry
    const std::size_t j = next[i];
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] != kNone) prev[next[j]] = i;
    rank[i] = pair_rank(i);
    if (rank[i] != kNoRank) heap.push({rank[i], i});
    if (prev[i] != kNone) {
      const std::size_t p = prev[i];
      rank[p] = pair_rank(p);
      if (rank[p] != kNoRank) heap.push({rank[p], p});
    }
  }
  std::vector<std::size_t> bounds;
  for (std::size_t i = 0; i != kNone; i = next[i]) bounds.push_back(i);
  bounds.push_back(n);
  emit_parts(piece, bounds, ranks, out);
}

void encode_piece(std::string_view piece, const RankMap& ranks, std::vector<int>& out) {
  if (piece.empty()) return;
  if (const auto it = ranks.find(piece); it != ranks.end()) {
    out.push_back(it->second);
    return;
  }
  if (piece.size() <= kQuadraticMaxPiece)
    merge_quadratic(piece, ranks, out);
  else
    merge_heap(piece, ranks, out);
}

}  // namespace vrt::bpe
