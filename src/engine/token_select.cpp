#include "engine/token_select.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace r1 {

namespace {

constexpr size_t kChunk = 4096;         // ids compared per vectorised pass of top_k_by_rank
constexpr size_t kSortDirectly = 2048;  // nucleus candidates up to this many are simply sorted
constexpr float kInf = std::numeric_limits<float>::infinity();

void sort_by_rank(std::span<const float> l, std::span<int32_t> ids) {
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return ranks_before(l, a, b); });
}

}  // namespace

void top_k_by_rank(const kernels::SamplingKernels& kern, std::span<const float> l, size_t k,
                   std::vector<int32_t>& out, std::vector<int32_t>& scratch) {
  R1_CHECK(k > 0, "top_k_by_rank needs k >= 1");
  const size_t cap = std::max<size_t>(4 * k, 1024);  // survivors kept before they are cut back to k
  out.clear();
  scratch.resize(kChunk + 16);
  // Ids come in increasing order, so once the buffer is cut back to k, a later token equal to the k-th
  // logit ranks after it: from then on only strictly larger logits can enter.
  float threshold = -std::numeric_limits<float>::infinity();
  auto cut_back = [&] {
    std::nth_element(out.begin(), out.begin() + long(k - 1), out.end(),
                     [&](int32_t a, int32_t b) { return ranks_before(l, a, b); });
    out.resize(k);
    const float kth = l[size_t(out[k - 1])];  // the k-th by rank: the smallest logit kept
    threshold = std::nextafter(kth, std::numeric_limits<float>::infinity());
  };
  for (size_t off = 0; off < l.size(); off += kChunk) {
    const size_t n = std::min(kChunk, l.size() - off);
    const size_t m = kern.select_range(l.data() + off, n, threshold, kInf, scratch.data(), n);
    for (size_t j = 0; j < m; ++j) out.push_back(int32_t(off) + scratch[j]);
    if (out.size() > cap) cut_back();
  }
  sort_by_rank(l, out);
  if (out.size() > k) out.resize(k);
}

NucleusCut nucleus_cut(const kernels::SamplingKernels& kern, std::span<const float> l,
                       std::span<const float> e, double z, double p, float max_logit, float scale,
                       std::vector<int32_t>& scratch) {
  const double target = p * z;
  // Tokens whose e is below t0 = (1 - p)·z / V together weigh less than (1 - p)·z, so the nucleus lies
  // within {e >= t0}. In logit space (a rank prefix, unlike e, whose rounding need not be monotone) that is
  // l >= max + ln(t0) / scale, lowered by a margin for the rounding of e and of this bound.
  const double t0 = (1 - p) * z / double(l.size());
  const double span = -std::log(t0) / double(scale) * (1 + 1e-3) + 1e-3;
  float lo = float(double(max_logit) - span);
  float hi = std::nextafter(max_logit, std::numeric_limits<float>::infinity());
  // Invariant: mass(l >= lo) reaches the target, mass(l >= hi) does not. Each pass weighs kThresholds
  // points of [lo, hi) at once and keeps the piece holding the boundary, until few tokens remain in it. (The
  // first pass also counts l >= lo, whose mass the bound above guarantees.)
  constexpr size_t kSplits = kernels::kThresholds;
  float t[kSplits];
  double mass[kSplits];
  size_t count[kSplits];
  if (scratch.size() < l.size() + 16) scratch.resize(l.size() + 16);
  size_t count_lo = kern.select_range(l.data(), l.size(), lo, hi, scratch.data(), kSortDirectly),
         count_hi = 0;
  double mass_hi = 0;  // Σ e over l >= hi, the tokens ranked before every candidate
  // The tokens the passes read: the whole row, or (once few enough remain) the piece [lo, hi) copied out,
  // whose weights then add to those of l >= hi.
  std::span<const float> pl = l, pe = e;
  thread_local std::vector<float> piece_l, piece_e;
  thread_local std::vector<int32_t> piece_ids;
  bool compacted = false;
  double base_mass = 0;  // once compacted: Σ e and count of the tokens above the piece (l >= its hi)
  size_t base_count = 0;
  const bool narrowed = count_lo <= kSortDirectly;  // few enough already: scratch holds them
  for (bool first = true; count_lo - count_hi > kSortDirectly; first = false) {
    if (!first && !compacted && (count_lo - count_hi) * 4 < l.size()) {
      piece_ids.resize(count_lo - count_hi + 16);
      const size_t m = kern.select_range(l.data(), l.size(), lo, hi, piece_ids.data(), piece_ids.size());
      piece_ids.resize(m);
      piece_l.resize(m);
      piece_e.resize(m);
      for (size_t i = 0; i < m; ++i) {
        piece_l[i] = l[size_t(piece_ids[i])];
        piece_e[i] = e[size_t(piece_ids[i])];
      }
      pl = piece_l;
      pe = piece_e;
      compacted = true;
      base_mass = mass_hi;  // the tokens above the copied piece, fixed from now on
      base_count = count_hi;
    }
    size_t k = 0;
    for (size_t j = first ? 0 : 1; j <= kSplits && k < kSplits; ++j) {
      const float x = lo + (hi - lo) * (float(j) / float(kSplits + (first ? 0 : 1)));
      if ((j == 0 || x > lo) && x < hi && (k == 0 || x > t[k - 1])) t[k++] = x;
    }
    if (k == (first ? 1 : 0)) break;  // lo and hi are one float apart: the rest are ties
    for (size_t j = k; j < kSplits; ++j) t[j] = std::numeric_limits<float>::infinity();
    kern.mass_ge(pl.data(), pe.data(), pl.size(), t, mass, count);
    size_t j = 0;  // the first point whose mass falls short: the boundary lies below it
    while (j < k && base_mass + mass[j] >= target) ++j;
    if (j > 0) {
      lo = t[j - 1];
      count_lo = base_count + count[j - 1];
    }
    if (j < k) {
      hi = t[j];
      count_hi = base_count + count[j];
      mass_hi = base_mass + mass[j];
    }
  }
  size_t n_cand = count_lo;
  if (compacted) {
    n_cand = 0;
    for (size_t i = 0; i < pl.size(); ++i)
      if (pl[i] >= lo && pl[i] < hi) scratch[n_cand++] = piece_ids[i];
  } else if (!narrowed) {
    n_cand = kern.select_range(l.data(), l.size(), lo, hi, scratch.data(), l.size());
  }
  if (n_cand == 0) {
    // The bisection ended on an empty piece, which the bounds above should exclude; seen once while serving
    // and not yet understood, so fall back to the plain search over every token rather than fail the request.
    spdlog::warn(
        "nucleus_cut: empty piece [{}, {}) (z {}, target {}, counts {}..{}); searching the whole row", lo, hi,
        z, target, count_hi, count_lo);
    lo = -std::numeric_limits<float>::infinity();
    hi = std::numeric_limits<float>::infinity();
    mass_hi = 0;
    count_hi = 0;
    n_cand = kern.select_range(l.data(), l.size(), lo, hi, scratch.data(), l.size());
    if (n_cand == 0) {  // every logit NaN: the maximum's id is the only answer left
      scratch[0] = int32_t(kern.argmax(l.data(), l.size()));
      n_cand = 1;
    }
  }
  std::span<int32_t> cand(scratch.data(), n_cand);
  sort_by_rank(l, cand);
  NucleusCut cut;
  size_t j = 0;
  double c = mass_hi;
  for (; j < cand.size(); ++j) {
    c += double(e[size_t(cand[j])]);
    if (c >= target) break;
  }
  j = std::min(j, cand.size() - 1);  // the mass fell short of p·z only by rounding: keep them all
  cut.last = cand[j];
  cut.kept = count_hi + j + 1;
  for (size_t k = j + 1; k < cand.size() && l[size_t(cand[k])] == l[size_t(cut.last)]; ++k)
    cut.tied_after.push_back(cand[k]);
  return cut;
}

}  // namespace r1
