// The mixed-radix FFT against a direct O(n^2) DFT in long double, for every kernel (radix 2, 3,
// 4, 5, generic primes), mixed sizes, and the n_fft = 400 power spectrum the front end uses.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "frontend/fft.h"
#include "voxtral_rt/error.h"

namespace vrt::fft {
namespace {

struct Dft {
  std::vector<long double> re, im;
};

Dft naive_dft(const std::vector<double>& xr, const std::vector<double>& xi) {
  const std::size_t n = xr.size();
  Dft d{std::vector<long double>(n), std::vector<long double>(n)};
  const long double two_pi = 6.283185307179586476925286766559L;
  for (std::size_t k = 0; k < n; ++k) {
    long double sr = 0, si = 0;
    for (std::size_t t = 0; t < n; ++t) {
      const long double a = two_pi * static_cast<long double>((t * k) % n) / static_cast<long double>(n);
      sr += xr[t] * std::cos(a) + xi[t] * std::sin(a);
      si += xi[t] * std::cos(a) - xr[t] * std::sin(a);
    }
    d.re[k] = sr;
    d.im[k] = si;
  }
  return d;
}

std::vector<double> random_vector(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

TEST(FftTest, ComplexMatchesDirectDft) {
  std::mt19937 rng(7);
  std::vector<int> sizes;
  for (int n = 1; n <= 40; ++n) sizes.push_back(n);
  for (int n : {49, 64, 100, 121, 127, 128, 200, 210, 343, 400, 1000}) sizes.push_back(n);
  for (int n : sizes) {
    const auto xr = random_vector(static_cast<std::size_t>(n), rng);
    const auto xi = random_vector(static_cast<std::size_t>(n), rng);
    const Dft want = naive_dft(xr, xi);
    ComplexFft f(n);
    auto re = xr, im = xi;
    std::vector<double> work(2 * static_cast<std::size_t>(n));
    f.forward(re.data(), im.data(), work.data());
    double err = 0.0;
    for (std::size_t k = 0; k < re.size(); ++k) {
      err = std::max(err, static_cast<double>(std::fabs(re[k] - want.re[k])));
      err = std::max(err, static_cast<double>(std::fabs(im[k] - want.im[k])));
    }
    EXPECT_LT(err, 1e-12 * n) << "n = " << n;
  }
}

TEST(FftTest, RealPowerSpectrumMatchesDirectDft) {
  std::mt19937 rng(11);
  for (int n : {1, 2, 3, 4, 5, 6, 7, 8, 10, 15, 16, 25, 64, 98, 99, 160, 200, 254, 255, 400, 512}) {
    const auto x = random_vector(static_cast<std::size_t>(n), rng);
    const Dft want = naive_dft(x, std::vector<double>(x.size(), 0.0));
    RealFft f(n);
    ASSERT_EQ(f.n_bins(), n / 2 + 1);
    std::vector<double> power(static_cast<std::size_t>(f.n_bins())), work(f.work_size());
    f.power_spectrum(x.data(), power.data(), work.data());
    double err = 0.0;
    for (std::size_t k = 0; k < power.size(); ++k) {
      const long double p = want.re[k] * want.re[k] + want.im[k] * want.im[k];
      err = std::max(err, static_cast<double>(std::fabs(power[k] - p)));
    }
    EXPECT_LT(err, 1e-11 * n * n) << "n = " << n;
  }
}

TEST(FftTest, RejectsBadSizes) {
  for (int n : {0, -1, (1 << 20) + 1}) {
    try {
      RealFft f(n);
      ADD_FAILURE() << "accepted n = " << n;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::invalid_argument);
    }
  }
}

}  // namespace
}  // namespace vrt::fft
