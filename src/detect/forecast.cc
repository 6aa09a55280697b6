#include "detect/forecast.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace vigil {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kTiny = 1e-12;

double Sigmoid(double u) { return 1.0 / (1.0 + std::exp(-u)); }
double Logit(double p) { return std::log(p / (1.0 - p)); }

// Mean of the finite values in y[from, to); NaN when there are none.
double FiniteMean(std::span<const double> y, size_t from, size_t to) {
  double sum = 0;
  size_t n = 0;
  for (size_t i = from; i < to && i < y.size(); ++i) {
    if (std::isfinite(y[i])) {
      sum += y[i];
      ++n;
    }
  }
  return n ? sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
}

// phi + phi^2 + ... + phi^h, in closed form: forecasts are made for several
// horizons at every step while fitting.
double DampedSum(double phi, TrendKind t, int h) {
  if (t == TrendKind::kNone) return 0;
  if (t == TrendKind::kLinear || phi >= 1) return h;
  return phi * (1 - std::pow(phi, h)) / (1 - phi);
}

bool Seasonal(const HoltWintersParams& p) { return p.season != SeasonKind::kNone && p.period >= 2; }

// Minimises f over R^k by the Nelder-Mead simplex (Nelder and Mead 1965)
// with the usual coefficients (reflect 1, expand 2, contract 1/2, shrink 1/2).
template <typename F>
std::vector<double> NelderMead(F&& f, std::vector<double> x0, double step, int max_evals) {
  const size_t k = x0.size();
  if (k == 0) return x0;
  std::vector<std::vector<double>> pts(k + 1, x0);
  std::vector<double> val(k + 1);
  for (size_t i = 0; i < k; ++i) pts[i + 1][i] += step;
  int evals = 0;
  for (size_t i = 0; i <= k; ++i, ++evals) val[i] = f(pts[i]);
  std::vector<size_t> order(k + 1);
  std::vector<double> centroid(k), trial(k), trial2(k);
  while (evals < max_evals) {
    for (size_t i = 0; i <= k; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return val[a] < val[b]; });
    size_t best = order.front(), worst = order.back(), second = order[k - 1];
    double spread = std::fabs(val[worst] - val[best]);
    if (spread <= 1e-10 * (std::fabs(val[best]) + 1e-30)) break;
    std::fill(centroid.begin(), centroid.end(), 0.0);
    for (size_t i = 0; i <= k; ++i) {
      if (i == worst) continue;
      for (size_t d = 0; d < k; ++d) centroid[d] += pts[i][d] / static_cast<double>(k);
    }
    for (size_t d = 0; d < k; ++d) trial[d] = centroid[d] + (centroid[d] - pts[worst][d]);
    double fr = f(trial);
    ++evals;
    if (fr < val[best]) {
      for (size_t d = 0; d < k; ++d) trial2[d] = centroid[d] + 2.0 * (centroid[d] - pts[worst][d]);
      double fe = f(trial2);
      ++evals;
      if (fe < fr) {
        pts[worst] = trial2;
        val[worst] = fe;
      } else {
        pts[worst] = trial;
        val[worst] = fr;
      }
      continue;
    }
    if (fr < val[second]) {
      pts[worst] = trial;
      val[worst] = fr;
      continue;
    }
    bool outside = fr < val[worst];
    for (size_t d = 0; d < k; ++d) {
      trial2[d] = outside ? centroid[d] + 0.5 * (trial[d] - centroid[d])
                          : centroid[d] + 0.5 * (pts[worst][d] - centroid[d]);
    }
    double fc = f(trial2);
    ++evals;
    if (fc < std::min(fr, val[worst])) {
      pts[worst] = trial2;
      val[worst] = fc;
      continue;
    }
    for (size_t i = 0; i <= k; ++i) {
      if (i == best) continue;
      for (size_t d = 0; d < k; ++d) pts[i][d] = pts[best][d] + 0.5 * (pts[i][d] - pts[best][d]);
      val[i] = f(pts[i]);
      ++evals;
    }
  }
  size_t best = static_cast<size_t>(std::min_element(val.begin(), val.end()) - val.begin());
  return pts[best];
}

// Maps unconstrained coordinates to smoothing parameters inside the
// admissible region: 0 < beta < alpha, 0 < gamma < 1 - alpha, 0.8 <= phi <= 0.98
// (the range Hyndman et al. recommend for the damping factor).
// The last coordinate shifts the initial level by multiples of the series'
// standard deviation: the initial states are estimated too (as Hyndman et
// al. do), which matters when a small alpha keeps the level near its start.
struct ParamMap {
  HoltWintersParams form;
  bool trend = false, season = false, damped = false;
  double level_scale = 1;

  ParamMap(const HoltWintersParams& f, double scale) : form(f), level_scale(scale) {
    trend = f.trend != TrendKind::kNone;
    season = Seasonal(f);
    damped = f.trend == TrendKind::kDamped;
  }
  std::vector<double> Start() const {
    std::vector<double> u{Logit(std::clamp(form.alpha, 0.01, 0.99))};
    if (trend) u.push_back(Logit(std::clamp(form.beta / form.alpha, 0.01, 0.99)));
    if (season) u.push_back(Logit(std::clamp(form.gamma / (1 - form.alpha), 0.01, 0.99)));
    if (damped) u.push_back(Logit(std::clamp((form.phi - 0.8) / 0.18, 0.01, 0.99)));
    u.push_back(0.0);
    return u;
  }
  double LevelShift(const std::vector<double>& u) const { return u.back() * level_scale; }
  HoltWintersParams Apply(const std::vector<double>& u) const {
    HoltWintersParams p = form;
    size_t i = 0;
    p.alpha = std::clamp(Sigmoid(u[i++]), 1e-4, 0.9999);
    p.beta = trend ? p.alpha * std::clamp(Sigmoid(u[i++]), 1e-4, 0.9999) : 0;
    p.gamma = season ? (1 - p.alpha) * std::clamp(Sigmoid(u[i++]), 1e-4, 0.9999) : 0;
    if (damped) p.phi = 0.8 + 0.18 * Sigmoid(u[i++]);
    else if (p.trend == TrendKind::kLinear) p.phi = 1.0;
    else p.phi = 0;
    return p;
  }
  size_t SmoothingCount() const { return 1 + trend + season + damped; }
};

struct RunResult {
  double sse1 = kInf;  // one-step squared errors
  size_t n1 = 0;
  double objective = kInf;         // mean over the fit horizons of their MAE
  std::vector<double> rmse;        // per fit horizon
};

// The horizons the parameters are fitted for: 1 and up to three more
// spread up to the horizon the forecast will be used at.
std::vector<int> FitHorizons(int fit_horizon, size_t n) {
  int cap = std::max(1, static_cast<int>(n / 3));
  int h = std::clamp(fit_horizon, 1, cap);
  std::vector<int> hs{1};
  for (int x : {h / 4, h / 2, h}) {
    if (x > hs.back()) hs.push_back(x);
  }
  return hs;
}

// One pass of the model over y: initial states from the start; after `burn`
// points, every forecast made for each fit horizon h is compared with the
// value h steps later (a rolling-origin evaluation inside the history), and
// the one-step errors are summed for sigma.
RunResult Run(std::span<const double> y, const HoltWintersParams& p, double level_shift, size_t burn,
              const std::vector<int>& horizons, HoltWinters* out) {
  HoltWinters hw(p);
  if (y.size() < hw.MinHistory()) return {};
  hw.Initialize(y);
  hw.ShiftLevel(level_shift);
  const size_t nh = horizons.size();
  std::vector<std::vector<double>> pending(nh);
  for (size_t j = 0; j < nh; ++j) pending[j].assign(static_cast<size_t>(horizons[j]), 0.0);
  std::vector<double> abs_err(nh, 0.0), sq_err(nh, 0.0);
  std::vector<size_t> count(nh, 0);
  RunResult r;
  r.sse1 = 0;
  for (size_t t = 0; t < y.size(); ++t) {
    const bool scored = t >= burn && std::isfinite(y[t]);
    for (size_t j = 0; j < nh; ++j) {
      size_t h = static_cast<size_t>(horizons[j]);
      if (!scored || t < burn + h) continue;
      double e = y[t] - pending[j][t % h];
      abs_err[j] += std::fabs(e);
      sq_err[j] += e * e;
      ++count[j];
    }
    double e = hw.Update(y[t]);
    if (!std::isfinite(e)) return {};
    if (scored) {
      r.sse1 += e * e;
      ++r.n1;
    }
    for (size_t j = 0; j < nh; ++j) {
      size_t h = static_cast<size_t>(horizons[j]);
      pending[j][t % h] = hw.Forecast(horizons[j]);
    }
  }
  double obj = 0;
  r.rmse.assign(nh, 0.0);
  size_t used = 0;
  for (size_t j = 0; j < nh; ++j) {
    if (count[j] == 0) continue;
    obj += abs_err[j] / static_cast<double>(count[j]);
    r.rmse[j] = std::sqrt(sq_err[j] / static_cast<double>(count[j]));
    ++used;
  }
  if (used == 0 || !std::isfinite(obj)) return {};
  r.objective = obj / static_cast<double>(used);
  if (out) *out = hw;
  return r;
}

Result<ForecastModel> FitWithBurn(std::span<const double> y, const HoltWintersParams& form, double coverage,
                                  size_t burn, int fit_horizon) {
  double mean = FiniteMean(y, 0, y.size()), var = 0;
  size_t nf = 0;
  for (double v : y) {
    if (std::isfinite(v)) {
      var += (v - mean) * (v - mean);
      ++nf;
    }
  }
  ParamMap map(form, nf > 1 ? std::sqrt(var / static_cast<double>(nf - 1)) : 1.0);
  if (map.season && form.season == SeasonKind::kMultiplicative) {
    for (double v : y) {
      if (std::isfinite(v) && v <= 0) {
        return Status::InvalidArgument("a multiplicative season needs strictly positive values");
      }
    }
  }
  HoltWinters probe(form);
  if (y.size() < probe.MinHistory() || y.size() <= burn + 2) {
    return Status::InvalidArgument("too little history for this model form: " + std::to_string(y.size()) +
                                   " points");
  }
  const std::vector<int> horizons = FitHorizons(fit_horizon, y.size() > burn ? y.size() - burn : 1);
  auto objective = [&](const std::vector<double>& u) {
    return Run(y, map.Apply(u), map.LevelShift(u), burn, horizons, nullptr).objective;
  };
  std::vector<double> u = NelderMead(objective, map.Start(), 1.0, 120 * static_cast<int>(map.SmoothingCount() + 1));
  ForecastModel m;
  m.state = HoltWinters(map.Apply(u));
  RunResult r = Run(y, m.state.params(), map.LevelShift(u), burn, horizons, &m.state);
  if (r.n1 == 0 || !std::isfinite(r.objective)) return Status::InvalidArgument("model diverged on this series");
  m.sigma = std::sqrt(r.sse1 / static_cast<double>(r.n1));
  m.z = NormalQuantileTwoSided(coverage);
  m.score = r.objective;
  m.history = y.size();
  for (size_t j = 0; j < horizons.size(); ++j) {
    if (r.rmse[j] > 0) m.horizon_rmse.emplace_back(horizons[j], r.rmse[j]);
  }
  return m;
}

}  // namespace

const char* TrendKindName(TrendKind t) {
  switch (t) {
    case TrendKind::kNone: return "none";
    case TrendKind::kDamped: return "damped";
    case TrendKind::kLinear: return "linear";
  }
  return "?";
}

const char* SeasonKindName(SeasonKind s) {
  switch (s) {
    case SeasonKind::kNone: return "none";
    case SeasonKind::kAdditive: return "additive";
    case SeasonKind::kMultiplicative: return "multiplicative";
  }
  return "?";
}

// ---- HoltWinters ----

HoltWinters::HoltWinters(const HoltWintersParams& p) : p_(p) {
  if (!Seasonal(p_)) p_.season = SeasonKind::kNone;
  if (p_.trend == TrendKind::kNone) p_.phi = 0;
  if (p_.trend == TrendKind::kLinear) p_.phi = 1;
  if (p_.season != SeasonKind::kNone) {
    season_.assign(static_cast<size_t>(p_.period), p_.season == SeasonKind::kAdditive ? 0.0 : 1.0);
  }
}

size_t HoltWinters::MinHistory() const { return season_.empty() ? 4 : 2 * season_.size(); }

void HoltWinters::Initialize(std::span<const double> y) {
  const size_t m = season_.size();
  pos_ = 0;
  if (m == 0) {
    size_t k = std::clamp<size_t>(y.size() / 2, 1, 10);
    double a = FiniteMean(y, 0, k), b = FiniteMean(y, k, 2 * k);
    if (!std::isfinite(a)) a = FiniteMean(y, 0, y.size());
    if (!std::isfinite(b)) b = a;
    trend_ = p_.trend == TrendKind::kNone ? 0 : (b - a) / static_cast<double>(k);
    level_ = a - trend_ * (static_cast<double>(k) + 1) / 2;
    return;
  }
  double a = FiniteMean(y, 0, m), b = FiniteMean(y, m, 2 * m);
  if (!std::isfinite(a)) a = FiniteMean(y, 0, y.size());
  if (!std::isfinite(b)) b = a;
  trend_ = p_.trend == TrendKind::kNone ? 0 : (b - a) / static_cast<double>(m);
  level_ = a - trend_ * (static_cast<double>(m) + 1) / 2;
  for (size_t i = 0; i < m; ++i) {
    // The slot's deviation from its cycle mean, averaged over the first two
    // cycles where both exist.
    double dev = 0;
    int n = 0;
    for (size_t c = 0; c < 2; ++c) {
      size_t t = c * m + i;
      double mean = c == 0 ? a : b;
      if (t < y.size() && std::isfinite(y[t])) {
        dev += p_.season == SeasonKind::kAdditive ? y[t] - mean : y[t] / std::max(mean, kTiny);
        ++n;
      }
    }
    season_[i] = n ? dev / n : (p_.season == SeasonKind::kAdditive ? 0.0 : 1.0);
  }
  // Normalise: additive factors sum to 0, multiplicative average 1.
  double mean = 0;
  for (double s : season_) mean += s;
  mean /= static_cast<double>(m);
  for (double& s : season_) {
    if (p_.season == SeasonKind::kAdditive) s -= mean;
    else s = mean > kTiny ? s / mean : 1.0;
  }
}

void HoltWinters::ShiftLevel(double delta) { level_ += delta; }

double HoltWinters::Season(int h) const {
  if (season_.empty()) return p_.season == SeasonKind::kMultiplicative ? 1.0 : 0.0;
  size_t m = season_.size();
  return season_[(pos_ + static_cast<size_t>(h - 1)) % m];
}

double HoltWinters::Forecast(int h) const {
  double base = level_ + DampedSum(p_.phi, p_.trend, h) * trend_;
  switch (p_.season) {
    case SeasonKind::kAdditive: return base + Season(h);
    case SeasonKind::kMultiplicative: return base * Season(h);
    case SeasonKind::kNone: break;
  }
  return base;
}

double HoltWinters::Update(double y) {
  double f = Forecast(1);
  double e = std::isfinite(y) ? y - f : 0.0;
  double phi_b = p_.trend == TrendKind::kNone ? 0.0 : p_.phi * trend_;
  double base = level_ + phi_b;
  switch (p_.season) {
    case SeasonKind::kNone:
      level_ = base + p_.alpha * e;
      trend_ = phi_b + p_.beta * e;
      break;
    case SeasonKind::kAdditive: {
      double& s = season_[pos_];
      level_ = base + p_.alpha * e;
      trend_ = phi_b + p_.beta * e;
      s += p_.gamma * e;
      pos_ = (pos_ + 1) % season_.size();
      break;
    }
    case SeasonKind::kMultiplicative: {
      double& s = season_[pos_];
      double sd = std::max(s, 1e-6);
      level_ = base + p_.alpha * e / sd;
      trend_ = phi_b + p_.beta * e / sd;
      s = std::max(s + p_.gamma * e / std::max(std::fabs(base), 1e-9), 1e-6);
      pos_ = (pos_ + 1) % season_.size();
      break;
    }
  }
  if (p_.trend == TrendKind::kNone) trend_ = 0;
  return e;
}

double HoltWinters::VarianceFactor(int h) const {
  double sum = 0, phi_j = 0, p = 1;
  const int m = season_.empty() ? 0 : static_cast<int>(season_.size());
  for (int j = 1; j < h; ++j) {
    if (p_.trend == TrendKind::kLinear) {
      phi_j = j;
    } else if (p_.trend == TrendKind::kDamped) {
      p *= p_.phi;
      phi_j += p;
    }
    double c = p_.alpha + p_.beta * phi_j + ((m && j % m == 0) ? p_.gamma : 0.0);
    sum += c * c;
  }
  return sum;
}

// ---- ForecastModel ----

ForecastPoint ForecastModel::At(int h) const {
  ForecastPoint fp;
  fp.mean = state.Forecast(h);
  double sd = sigma * std::sqrt(1 + state.VarianceFactor(h));
  if (state.params().season == SeasonKind::kMultiplicative) sd *= std::max(state.Season(h), 0.0);
  sd = std::max(sd, EmpiricalSd(h));
  fp.lower = fp.mean - z * sd;
  fp.upper = fp.mean + z * sd;
  return fp;
}

std::vector<ForecastPoint> ForecastModel::Forecast(int horizon) const {
  std::vector<ForecastPoint> out;
  if (horizon <= 0) return out;
  out.reserve(static_cast<size_t>(horizon));
  const HoltWintersParams& p = state.params();
  const int m = p.season == SeasonKind::kNone ? 0 : p.period;
  double var = 0, phi_j = 0, pw = 1;
  for (int h = 1; h <= horizon; ++h) {
    if (h > 1) {
      int j = h - 1;
      if (p.trend == TrendKind::kLinear) {
        phi_j = j;
      } else if (p.trend == TrendKind::kDamped) {
        pw *= p.phi;
        phi_j += pw;
      }
      double c = p.alpha + p.beta * phi_j + ((m && j % m == 0) ? p.gamma : 0.0);
      var += c * c;
    }
    ForecastPoint fp;
    fp.mean = state.Forecast(h);
    double sd = sigma * std::sqrt(1 + var);
    if (p.season == SeasonKind::kMultiplicative) sd *= std::max(state.Season(h), 0.0);
    sd = std::max(sd, EmpiricalSd(h));
    fp.lower = fp.mean - z * sd;
    fp.upper = fp.mean + z * sd;
    out.push_back(fp);
  }
  return out;
}

double ForecastModel::EmpiricalSd(int h) const {
  double sd = 0;
  for (const auto& [fh, rmse] : horizon_rmse) {
    if (fh <= h) sd = rmse;
  }
  return sd;
}

std::string ForecastModel::Describe() const {
  const HoltWintersParams& p = state.params();
  char buf[256];
  std::string trend = p.trend == TrendKind::kNone ? "no trend" : std::string(TrendKindName(p.trend)) + " trend";
  std::string season = p.season == SeasonKind::kNone
                           ? "no season"
                           : std::string(SeasonKindName(p.season)) + " season of " + std::to_string(p.period);
  std::snprintf(buf, sizeof buf, "%s, %s (alpha=%.3g beta=%.3g gamma=%.3g phi=%.3g)", trend.c_str(), season.c_str(),
                p.alpha, p.beta, p.gamma, p.phi);
  return buf;
}

// ---- fitting ----

Result<ForecastModel> FitForecastForm(std::span<const double> y, const HoltWintersParams& form, double coverage,
                                      int fit_horizon) {
  size_t burn = Seasonal(form) ? static_cast<size_t>(form.period) : 4;
  return FitWithBurn(y, form, coverage, burn, fit_horizon);
}

Result<ForecastModel> FitForecastModel(std::span<const double> y, const ForecastOptions& opts) {
  size_t finite = 0;
  for (double v : y) finite += std::isfinite(v);
  if (finite < 8) {
    return Status::InvalidArgument("need at least 8 values to forecast, got " + std::to_string(finite));
  }
  if (!(opts.coverage > 0 && opts.coverage < 1)) {
    return Status::InvalidArgument("coverage must be between 0 and 1");
  }
  int period = opts.period > 0 ? opts.period : DetectSeasonPeriod(y, opts.max_period);
  if (period >= 2 && y.size() < 2 * static_cast<size_t>(period) + 4) period = 1;
  bool positive = true;
  for (double v : y) positive = positive && (!std::isfinite(v) || v > 0);

  std::vector<HoltWintersParams> forms;
  std::vector<TrendKind> trends{TrendKind::kNone};
  if (opts.allow_trend) {
    trends.push_back(TrendKind::kDamped);
    trends.push_back(TrendKind::kLinear);
  }
  std::vector<SeasonKind> seasons{SeasonKind::kNone};
  if (period >= 2) {
    seasons.push_back(SeasonKind::kAdditive);
    if (opts.allow_multiplicative && positive) seasons.push_back(SeasonKind::kMultiplicative);
  }
  for (TrendKind t : trends) {
    for (SeasonKind s : seasons) {
      HoltWintersParams f;
      f.trend = t;
      f.season = s;
      f.period = s == SeasonKind::kNone ? 1 : period;
      f.alpha = 0.3;
      f.beta = 0.03;
      f.gamma = 0.1;
      f.phi = 0.9;
      forms.push_back(f);
    }
  }
  // Every form is scored on the same points, after the longest burn-in.
  size_t burn = period >= 2 ? static_cast<size_t>(period) : 4;
  Result<ForecastModel> best = Status::InvalidArgument("no model form could be fitted");
  for (const auto& f : forms) {
    auto m = FitWithBurn(y, f, opts.coverage, burn, opts.fit_horizon);
    if (!m.ok()) continue;
    if (!best.ok() || m->score < best->score) best = std::move(m);
  }
  return best;
}

// ---- season length ----

int DetectSeasonPeriod(std::span<const double> y, int max_period) {
  // Finite values, gaps closed by carrying the last value (the caller passes
  // evenly spaced data; a few gaps must not break the lag structure).
  std::vector<double> x;
  x.reserve(y.size());
  double last = std::numeric_limits<double>::quiet_NaN();
  for (double v : y) {
    if (std::isfinite(v)) last = v;
    if (std::isfinite(last)) x.push_back(last);
  }
  const size_t n = x.size();
  int max_lag = static_cast<int>(std::min<size_t>(static_cast<size_t>(std::max(max_period, 0)), n / 3));
  if (max_lag < 2) return 1;
  // Remove the least-squares line, so a trend does not masquerade as a
  // long-lag correlation.
  double mt = (static_cast<double>(n) - 1) / 2, my = 0;
  for (double v : x) my += v;
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0;
  for (size_t t = 0; t < n; ++t) {
    sxy += (static_cast<double>(t) - mt) * (x[t] - my);
    sxx += (static_cast<double>(t) - mt) * (static_cast<double>(t) - mt);
  }
  double slope = sxx > 0 ? sxy / sxx : 0;
  double var = 0;
  for (size_t t = 0; t < n; ++t) {
    x[t] -= my + slope * (static_cast<double>(t) - mt);
    var += x[t] * x[t];
  }
  if (var <= kTiny * static_cast<double>(n)) return 1;
  std::vector<double> acf(static_cast<size_t>(max_lag) + 2, 0.0);
  for (size_t k = 1; k < acf.size() && k < n; ++k) {
    double s = 0;
    for (size_t t = k; t < n; ++t) s += x[t] * x[t - k];
    acf[k] = s / var;
  }
  acf[0] = 1;
  int best = 1;
  double best_acf = 0.3;
  double trough = 1;
  for (int k = 2; k <= max_lag; ++k) {
    trough = std::min(trough, acf[static_cast<size_t>(k) - 1]);
    double a = acf[static_cast<size_t>(k)];
    bool peak = a > acf[static_cast<size_t>(k) - 1] && a >= acf[static_cast<size_t>(k) + 1];
    // A real season dips and comes back: the peak must stand well above the
    // lowest correlation at a shorter lag.
    if (peak && a > best_acf && a - trough >= 0.2) {
      best = k;
      best_acf = a;
    }
  }
  if (best < 8) return best;
  // Near a long season's peak the correlation is flat and noise picks the
  // lag; the exact period is the one whose multiples line up too, so refine
  // within 3% by the sum of correlations at k, 2k, 3k (as far as n/2 allows).
  auto lagged = [&](size_t k) {
    double s = 0;
    for (size_t t = k; t < n; ++t) s += x[t] * x[t - k];
    return s / var;
  };
  int span = std::max(1, best * 3 / 100);
  double best_sum = -kInf;
  int refined = best;
  for (int k = best - span; k <= best + span; ++k) {
    double sum = 0;
    for (size_t j = 1; j <= 3 && j * static_cast<size_t>(k) <= n / 2; ++j) sum += lagged(j * static_cast<size_t>(k));
    if (sum > best_sum) {
      best_sum = sum;
      refined = k;
    }
  }
  return refined;
}

double NormalQuantileTwoSided(double coverage) {
  // Solves erfc(z / sqrt 2) = 1 - coverage by bisection: exact enough, and
  // called once per fit.
  double target = 1 - std::clamp(coverage, 1e-9, 1 - 1e-12);
  double lo = 0, hi = 40;
  for (int i = 0; i < 100; ++i) {
    double mid = (lo + hi) / 2;
    if (std::erfc(mid / std::sqrt(2.0)) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

}  // namespace vigil
