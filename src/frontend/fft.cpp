// Mixed-radix Stockham FFT and the real-input power spectrum built on it (math in fft.h).
// Twiddles come from cos/sin of exactly reduced angles 2 pi (t mod n) / n, so every table
// entry is within an ulp of the true root; with float64 arithmetic the transform error is
// ~1e-15 relative to the frame energy, far below what the float32 log-mel output can show.
#include "frontend/fft.h"

#include <cmath>
#include <string>
#include <tuple>
#include <utility>

#include "voxtral_rt/error.h"

namespace vrt::fft {
namespace {

constexpr int kMaxSize = 1 << 20;
constexpr double kTwoPi = 6.283185307179586476925286766559;

void check_size(int n, const char* what) {
  if (n < 1 || n > kMaxSize) {
    throw Error(Status::invalid_argument,
                std::string(what) + ": size " + std::to_string(n) + " outside [1, 2^20]");
  }
}

// e^{-2 pi i t / n}
std::pair<double, double> root(long long t, long long n) {
  const double a = kTwoPi * static_cast<double>(t % n) / static_cast<double>(n);
  return {std::cos(a), -std::sin(a)};
}

// Radices in the order the stages run: 4s first (fewest twiddle multiplies), then 2, 3, 5,
// then any other prime factors.
std::vector<int> factorize(int n) {
  std::vector<int> f;
  while (n % 4 == 0) { f.push_back(4); n /= 4; }
  for (int p : {2, 3, 5}) {
    while (n % p == 0) { f.push_back(p); n /= p; }
  }
  for (int p = 7; p * p <= n; p += 2) {
    while (n % p == 0) { f.push_back(p); n /= p; }
  }
  if (n > 1) f.push_back(n);
  return f;
}

// Size-P DFT of (ar, ai) into (br, bi), unrolled for the radices of n_fft = 400.
template <int P>
inline void butterfly(const double* ar, const double* ai, double* br, double* bi) {
  if constexpr (P == 2) {
    br[0] = ar[0] + ar[1]; bi[0] = ai[0] + ai[1];
    br[1] = ar[0] - ar[1]; bi[1] = ai[0] - ai[1];
  } else if constexpr (P == 3) {
    constexpr double kS = 0.86602540378443864676372317075294;  // sin(2 pi / 3)
    const double tr = ar[1] + ar[2], ti = ai[1] + ai[2];
    const double dr = ar[1] - ar[2], di = ai[1] - ai[2];
    const double mr = ar[0] - 0.5 * tr, mi = ai[0] - 0.5 * ti;
    br[0] = ar[0] + tr; bi[0] = ai[0] + ti;
    // -i kS d = kS (di, -dr)
    br[1] = mr + kS * di; bi[1] = mi - kS * dr;
    br[2] = mr - kS * di; bi[2] = mi + kS * dr;
  } else if constexpr (P == 4) {
    const double t0r = ar[0] + ar[2], t0i = ai[0] + ai[2];
    const double t1r = ar[0] - ar[2], t1i = ai[0] - ai[2];
    const double t2r = ar[1] + ar[3], t2i = ai[1] + ai[3];
    const double t3r = ar[1] - ar[3], t3i = ai[1] - ai[3];
    br[0] = t0r + t2r; bi[0] = t0i + t2i;
    br[2] = t0r - t2r; bi[2] = t0i - t2i;
    // b1 = t1 - i t3, b3 = t1 + i t3
    br[1] = t1r + t3i; bi[1] = t1i - t3r;
    br[3] = t1r - t3i; bi[3] = t1i + t3r;
  } else if constexpr (P == 5) {
    constexpr double kC1 = 0.30901699437494742410229341718282;   // cos(2 pi / 5)
    constexpr double kC2 = -0.80901699437494742410229341718282;  // cos(4 pi / 5)
    constexpr double kS1 = 0.95105651629515357211643933337938;   // sin(2 pi / 5)
    constexpr double kS2 = 0.58778525229247312916870595463907;   // sin(4 pi / 5)
    const double t1r = ar[1] + ar[4], t1i = ai[1] + ai[4];
    const double t2r = ar[2] + ar[3], t2i = ai[2] + ai[3];
    const double d1r = ar[1] - ar[4], d1i = ai[1] - ai[4];
    const double d2r = ar[2] - ar[3], d2i = ai[2] - ai[3];
    br[0] = ar[0] + t1r + t2r; bi[0] = ai[0] + t1i + t2i;
    const double m1r = ar[0] + kC1 * t1r + kC2 * t2r, m1i = ai[0] + kC1 * t1i + kC2 * t2i;
    const double m2r = ar[0] + kC2 * t1r + kC1 * t2r, m2i = ai[0] + kC2 * t1i + kC1 * t2i;
    // b1,4 = m1 -/+ i (s1 d1 + s2 d2); b2,3 = m2 -/+ i (s2 d1 - s1 d2); -i u = (u_i, -u_r)
    const double u1r = kS1 * d1r + kS2 * d2r, u1i = kS1 * d1i + kS2 * d2i;
    const double u2r = kS2 * d1r - kS1 * d2r, u2i = kS2 * d1i - kS1 * d2i;
    br[1] = m1r + u1i; bi[1] = m1i - u1r;
    br[4] = m1r - u1i; bi[4] = m1i + u1r;
    br[2] = m2r + u2i; bi[2] = m2i - u2r;
    br[3] = m2r - u2i; bi[3] = m2i + u2r;
  }
}

}  // namespace

ComplexFft::ComplexFft(int n) : n_(n) {
  check_size(n, "ComplexFft");
  int stride = 1;
  for (int p : factorize(n)) {
    const int m = n / (stride * p);
    stages_.push_back({p, m, stride, tw_re_.size()});
    const long long len = static_cast<long long>(p) * m;
    for (int r = 1; r < p; ++r) {
      for (int k = 0; k < m; ++k) {
        const auto [c, s] = root(static_cast<long long>(k) * r, len);
        tw_re_.push_back(c);
        tw_im_.push_back(s);
      }
    }
    if (p > 5) {
      if (root_re_.empty()) {
        root_re_.resize(static_cast<std::size_t>(n));
        root_im_.resize(static_cast<std::size_t>(n));
        for (int t = 0; t < n; ++t) {
          std::tie(root_re_[static_cast<std::size_t>(t)], root_im_[static_cast<std::size_t>(t)]) =
              root(t, n);
        }
      }
    }
    stride *= p;
  }
}

template <int P>
void ComplexFft::run_stage(const Stage& st, const double* xr, const double* xi, double* yr,
                           double* yi) const {
  const int m = st.m;
  const int s = st.stride;
  const double* twr = tw_re_.data() + st.twiddle;
  const double* twi = tw_im_.data() + st.twiddle;
  double ar[P], ai[P], br[P], bi[P], wr[P], wi[P];
  for (int k = 0; k < m; ++k) {
    for (int r = 1; r < P; ++r) {
      wr[r] = twr[(r - 1) * m + k];
      wi[r] = twi[(r - 1) * m + k];
    }
    for (int q = 0; q < s; ++q) {
      for (int j = 0; j < P; ++j) {
        const std::size_t idx = static_cast<std::size_t>(q + s * (k + j * m));
        ar[j] = xr[idx];
        ai[j] = xi[idx];
      }
      butterfly<P>(ar, ai, br, bi);
      const std::size_t out = static_cast<std::size_t>(q + s * P * k);
      yr[out] = br[0];
      yi[out] = bi[0];
      for (int r = 1; r < P; ++r) {
        const std::size_t o = out + static_cast<std::size_t>(s * r);
        yr[o] = br[r] * wr[r] - bi[r] * wi[r];
        yi[o] = br[r] * wi[r] + bi[r] * wr[r];
      }
    }
  }
}

void ComplexFft::run_generic(const Stage& st, const double* xr, const double* xi, double* yr,
                             double* yi) const {
  const int p = st.radix;
  const int m = st.m;
  const int s = st.stride;
  const int root_step = n_ / p;  // W_p = W_n^{n/p}
  const double* twr = tw_re_.data() + st.twiddle;
  const double* twi = tw_im_.data() + st.twiddle;
  for (int k = 0; k < m; ++k) {
    for (int q = 0; q < s; ++q) {
      for (int r = 0; r < p; ++r) {
        double sr = 0.0, si = 0.0;
        for (int j = 0; j < p; ++j) {
          const std::size_t idx = static_cast<std::size_t>(q + s * (k + j * m));
          const auto t = static_cast<std::size_t>(((j * r) % p) * root_step);
          sr += xr[idx] * root_re_[t] - xi[idx] * root_im_[t];
          si += xr[idx] * root_im_[t] + xi[idx] * root_re_[t];
        }
        const std::size_t o = static_cast<std::size_t>(q + s * (p * k + r));
        if (r == 0) {
          yr[o] = sr;
          yi[o] = si;
        } else {
          const double w_r = twr[(r - 1) * m + k], w_i = twi[(r - 1) * m + k];
          yr[o] = sr * w_r - si * w_i;
          yi[o] = sr * w_i + si * w_r;
        }
      }
    }
  }
}

void ComplexFft::forward(double* re, double* im, double* work) const {
  double* xr = re;
  double* xi = im;
  double* yr = work;
  double* yi = work + n_;
  for (const Stage& st : stages_) {
    switch (st.radix) {
      case 2: run_stage<2>(st, xr, xi, yr, yi); break;
      case 3: run_stage<3>(st, xr, xi, yr, yi); break;
      case 4: run_stage<4>(st, xr, xi, yr, yi); break;
      case 5: run_stage<5>(st, xr, xi, yr, yi); break;
      default: run_generic(st, xr, xi, yr, yi); break;
    }
    std::swap(xr, yr);
    std::swap(xi, yi);
  }
  if (xr != re) {
    for (int t = 0; t < n_; ++t) {
      re[t] = xr[t];
      im[t] = xi[t];
    }
  }
}

RealFft::RealFft(int n)
    : n_(n), complex_((check_size(n, "RealFft"), n % 2 == 0 ? n / 2 : n)) {
  if (n % 2 == 0) {
    const int half = n / 2;
    unpack_re_.resize(static_cast<std::size_t>(half) + 1);
    unpack_im_.resize(static_cast<std::size_t>(half) + 1);
    for (int k = 0; k <= half; ++k) {
      std::tie(unpack_re_[static_cast<std::size_t>(k)], unpack_im_[static_cast<std::size_t>(k)]) =
          root(k, n);
    }
  }
}

std::size_t RealFft::work_size() const { return 4 * static_cast<std::size_t>(complex_.size()); }

void RealFft::power_spectrum(const double* x, double* power, double* work) const {
  const int nc = complex_.size();
  double* zr = work;
  double* zi = work + nc;
  double* fft_work = work + 2 * static_cast<std::size_t>(nc);
  if (n_ % 2 != 0) {
    for (int t = 0; t < nc; ++t) {
      zr[t] = x[t];
      zi[t] = 0.0;
    }
    complex_.forward(zr, zi, fft_work);
    for (int k = 0; k <= n_ / 2; ++k) power[k] = zr[k] * zr[k] + zi[k] * zi[k];
    return;
  }
  for (int t = 0; t < nc; ++t) {
    zr[t] = x[2 * t];
    zi[t] = x[2 * t + 1];
  }
  complex_.forward(zr, zi, fft_work);
  // k = 0 and k = n/2 only see Z[0]: X[0] = Re + Im, X[n/2] = Re - Im.
  power[0] = (zr[0] + zi[0]) * (zr[0] + zi[0]);
  power[nc] = (zr[0] - zi[0]) * (zr[0] - zi[0]);
  for (int k = 1; k < nc; ++k) {
    const int c = nc - k;
    const double er = 0.5 * (zr[k] + zr[c]), ei = 0.5 * (zi[k] - zi[c]);
    // O = (Z[k] - conj Z[c]) / 2i
    const double orr = 0.5 * (zi[k] + zi[c]), oi = -0.5 * (zr[k] - zr[c]);
    const double wr = unpack_re_[static_cast<std::size_t>(k)];
    const double wi = unpack_im_[static_cast<std::size_t>(k)];
    const double xr = er + wr * orr - wi * oi;
    const double xi = ei + wr * oi + wi * orr;
    power[k] = xr * xr + xi * xi;
  }
}

}  // namespace vrt::fft
