#include "detect/spectral_residual.h"

#include <cmath>
#include <complex>

namespace vigil {

namespace {

using Complex = std::complex<float>;

// In-place iterative radix-2 FFT of kFft points (inverse when inverse=true,
// without the 1/n factor).
void Fft(std::array<Complex, SpectralResidual::kFft>& a, bool inverse) {
  constexpr int n = SpectralResidual::kFft;
  for (int i = 1, j = 0; i < n; ++i) {
    int bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[static_cast<size_t>(i)], a[static_cast<size_t>(j)]);
  }
  for (int len = 2; len <= n; len <<= 1) {
    const float ang = 2.0f * static_cast<float>(M_PI) / static_cast<float>(len) * (inverse ? 1.0f : -1.0f);
    const Complex wl(std::cos(ang), std::sin(ang));
    for (int i = 0; i < n; i += len) {
      Complex w(1, 0);
      for (int k = 0; k < len / 2; ++k) {
        Complex u = a[static_cast<size_t>(i + k)];
        Complex v = a[static_cast<size_t>(i + k + len / 2)] * w;
        a[static_cast<size_t>(i + k)] = u + v;
        a[static_cast<size_t>(i + k + len / 2)] = u - v;
        w *= wl;
      }
    }
  }
}

}  // namespace

void SpectralResidual::Add(double x) {
  ring_[static_cast<size_t>(head_)] = static_cast<float>(x);
  head_ = (head_ + 1) % kWindow;
  if (filled_ < kWindow) ++filled_;
}

double SpectralResidual::Score() const {
  if (filled_ < kWindow) return 0;

  std::array<Complex, kFft> a;
  std::array<float, kWindow> v;
  for (int i = 0; i < kWindow; ++i) v[static_cast<size_t>(i)] = ring_[static_cast<size_t>((head_ + i) % kWindow)];
  // Extension (the paper's trick): predict the next value from the six
  // points BEFORE the newest one (so that the newest point, possibly the
  // anomaly, does not bend the prediction) and append kExtend copies.
  const float* tail = &v[kWindow - 7];  // tail[0..5] = x[n-6] .. x[n-1]
  float slopes = 0;
  for (int i = 0; i < 5; ++i) slopes += (tail[5] - tail[i]) / static_cast<float>(5 - i);
  const float ext = tail[1] + slopes;
  // No mean removal: a zero DC bin would drag the local average of the log
  // spectrum down and amplify the lowest frequencies.
  const float mean = 0;
  for (int i = 0; i < kWindow; ++i) a[static_cast<size_t>(i)] = Complex(v[static_cast<size_t>(i)] - mean, 0);
  for (int i = 0; i < kExtend; ++i) a[static_cast<size_t>(kWindow + i)] = Complex(ext - mean, 0);

  Fft(a, false);
  std::array<float, kFft> log_amp;
  for (int i = 0; i < kFft; ++i) log_amp[static_cast<size_t>(i)] = std::log(std::abs(a[static_cast<size_t>(i)]) + 1e-8f);
  for (int i = 0; i < kFft; ++i) {
    float avg = 0;
    for (int d = -1; d <= 1; ++d) avg += log_amp[static_cast<size_t>((i + d + kFft) % kFft)];
    avg /= 3;
    const float amp = std::abs(a[static_cast<size_t>(i)]);
    const Complex phase = amp > 1e-12f ? a[static_cast<size_t>(i)] / amp : Complex(0, 0);
    a[static_cast<size_t>(i)] = phase * std::exp(log_amp[static_cast<size_t>(i)] - avg);
  }
  Fft(a, true);
  const float s = std::abs(a[kWindow - 1]);
  float local = 0;
  for (int i = kWindow - 1 - kLocal; i < kWindow - 1; ++i) local += std::abs(a[static_cast<size_t>(i)]);
  local /= kLocal;
  return local > 1e-12f ? (s - local) / local : 0.0;
}

}  // namespace vigil
