// AnalysisCalendar: when a series is analysed at all, and which days are
// special.
//  - Weekly windows (trading sessions, business hours): outside them a
//    series is neither learned nor judged, so the night does not teach the
//    day and a closed market is not an outage.
//  - Special days (holidays, sales): the seasonal profiles neither learn from
//    them nor judge by them (only the level-based detectors do), so
//    Christmas does not poison next week's "same time last week".
// Times are UTC (vigil never guesses time zones); a window is given in
// minutes since Monday 00:00.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace vigil {

class AnalysisCalendar {
 public:
  // [start, end) minutes of the week since Monday 00:00 UTC; end may be
  // below start for a window over Sunday midnight.
  void AddWeeklyWindow(int start_minute, int end_minute) { windows_.emplace_back(start_minute, end_minute); }
  // A whole UTC day, as days since 1970-01-01.
  void AddSpecialDay(int64_t day) { special_.push_back(day); }
  // Parses "Mon-Fri 09:00-17:30" (days: Mon..Sun, one day or a range).
  Status AddWindowSpec(const std::string& spec);
  // Parses "YYYY-MM-DD".
  Status AddSpecialDaySpec(const std::string& date);

  bool InWindow(int64_t ts_ms) const;
  bool IsSpecialDay(int64_t ts_ms) const;
  bool empty() const { return windows_.empty() && special_.empty(); }

 private:
  std::vector<std::pair<int, int>> windows_;
  std::vector<int64_t> special_;
};

}  // namespace vigil
