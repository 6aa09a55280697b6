#include "detect/calendar.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace vigil {

namespace {
constexpr int64_t kDayMs = 86400000;
constexpr int kWeekMinutes = 7 * 24 * 60;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int DayIndex(const std::string& name) {
  static const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  for (int i = 0; i < 7; ++i) {
    if (name == kDays[i]) return i;
  }
  return -1;
}
}  // namespace

Status AnalysisCalendar::AddWindowSpec(const std::string& spec) {
  char days[16] = {0};
  int h1, m1, h2, m2;
  if (std::sscanf(spec.c_str(), "%15s %d:%d-%d:%d", days, &h1, &m1, &h2, &m2) != 5 || h1 < 0 || h1 > 24 || h2 < 0 ||
      h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59) {
    return Status::InvalidArgument("calendar window \"" + spec + "\": expected e.g. \"Mon-Fri 09:00-17:30\"");
  }
  std::string d(days);
  size_t dash = d.find('-');
  int first = DayIndex(d.substr(0, dash));
  int last = dash == std::string::npos ? first : DayIndex(d.substr(dash + 1));
  if (first < 0 || last < 0) return Status::InvalidArgument("calendar window \"" + spec + "\": unknown day name");
  for (int day = first;; day = (day + 1) % 7) {
    AddWeeklyWindow(day * 1440 + h1 * 60 + m1, (day * 1440 + h2 * 60 + m2) % kWeekMinutes);
    if (day == last) break;
  }
  return Status::Ok();
}

Status AnalysisCalendar::AddSpecialDaySpec(const std::string& date) {
  int y, m, d;
  if (std::sscanf(date.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31) {
    return Status::InvalidArgument("special day \"" + date + "\": expected YYYY-MM-DD");
  }
  // days_from_civil (H. Hinnant), written from its description.
  int64_t yy = y - (m <= 2);
  const int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  const int64_t yoe = yy - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  AddSpecialDay(era * 146097 + doe - 719468);
  return Status::Ok();
}

bool AnalysisCalendar::InWindow(int64_t ts_ms) const {
  if (windows_.empty()) return true;
  // 1970-01-01 was a Thursday (index 3 from Monday).
  const int64_t day = FloorDiv(ts_ms, kDayMs);
  const int weekday = static_cast<int>(((day + 3) % 7 + 7) % 7);
  const int minute = weekday * 1440 + static_cast<int>((ts_ms - day * kDayMs) / 60000);
  for (auto [s, e] : windows_) {
    if (s <= e ? (minute >= s && minute < e) : (minute >= s || minute < e)) return true;
  }
  return false;
}

bool AnalysisCalendar::IsSpecialDay(int64_t ts_ms) const {
  if (special_.empty()) return false;
  const int64_t day = FloorDiv(ts_ms, kDayMs);
  return std::find(special_.begin(), special_.end(), day) != special_.end();
}

}  // namespace vigil
