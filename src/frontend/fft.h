// Small exact FFTs for the STFT, in float64.
//
// ComplexFft: X[k] = sum_t x[t] e^{-2 pi i t k / n}, any n >= 1, split re/im arrays.
// Mixed-radix Stockham autosort (decimation in frequency): a stage of radix p on length
// n_cur = p m with stride s maps
//   y[q + s (p k + r)] = W_{n_cur}^{k r} * sum_j x[q + s (k + j m)] W_p^{j r}
// for k < m, q < s, r < p, then recurses on length m with stride s p. Kernels for p = 2, 3,
// 4, 5 and a generic O(p^2) one for other primes. n = 200 (n_fft 400 / 2) = 4 * 2 * 5 * 5.
//
// RealFft: power spectrum |X[k]|^2, k in [0, n/2], of a real length-n input. Even n packs
// z[t] = x[2t] + i x[2t+1] into one complex FFT of n/2 and unpacks
//   X[k] = E[k] + W_n^k O[k],  E = (Z[k] + conj Z[n/2-k]) / 2,  O = (Z[k] - conj Z[n/2-k]) / 2i;
// odd n runs the complex FFT of length n on x with zero imaginary part.
#pragma once

#include <cstddef>
#include <vector>

namespace vrt::fft {

class ComplexFft {
 public:
  explicit ComplexFft(int n);  // n in [1, 2^20]; throws Error(invalid_argument) otherwise

  int size() const { return n_; }
  // In place on re[0..n), im[0..n); `work` must hold 2n doubles.
  void forward(double* re, double* im, double* work) const;

 private:
  struct Stage {
    int radix;
    int m;        // length of each sub-transform after this stage
    int stride;   // s: product of the radices before this stage
    std::size_t twiddle;  // offset of this stage's (p-1) x m twiddles in tw_re_/tw_im_
  };
  template <int P>
  void run_stage(const Stage& st, const double* xr, const double* xi, double* yr,
                 double* yi) const;
  void run_generic(const Stage& st, const double* xr, const double* xi, double* yr,
                   double* yi) const;

  int n_ = 0;
  std::vector<Stage> stages_;
  std::vector<double> tw_re_, tw_im_;      // stage twiddles, [r-1][k] = W_{p m}^{k r}
  std::vector<double> root_re_, root_im_;  // W_n^t for the generic kernel (W_p = W_n^{n/p})
};

class RealFft {
 public:
  explicit RealFft(int n);  // throws Error(invalid_argument) for n outside [1, 2^20]

  int size() const { return n_; }
  int n_bins() const { return n_ / 2 + 1; }
  std::size_t work_size() const;  // doubles of `work` needed by power_spectrum
  // x[0..n) -> power[0..n/2]. x and power may not alias work.
  void power_spectrum(const double* x, double* power, double* work) const;

 private:
  int n_ = 0;
  ComplexFft complex_;                  // n/2 for even n, n for odd n
  std::vector<double> unpack_re_, unpack_im_;  // W_n^k, k in [0, n/2]
};

}  // namespace vrt::fft
