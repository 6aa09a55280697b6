#include "ingest/syslog.h"

#include <array>
#include <cctype>

#include "core/time_format.h"
#include "ingest/label_check.h"

namespace vigil {

namespace {

namespace ii = ingest_internal;

constexpr std::array<const char*, 24> kFacilities = {
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
    "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5",
    "local6", "local7"};

std::string_view NextField(std::string_view* s) {
  size_t sp = s->find(' ');
  std::string_view f = s->substr(0, sp);
  *s = sp == std::string_view::npos ? std::string_view() : s->substr(sp + 1);
  return f;
}

bool IsMonth(std::string_view m) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (auto x : kMonths) {
    if (m == x) return true;
  }
  return false;
}

}  // namespace

int SeverityFromSyslog(int s) {
  if (s <= 2) return 5;  // emerg, alert, crit
  if (s == 3) return 4;
  if (s == 4) return 3;
  if (s <= 6) return 2;  // notice, info
  return 0;
}

Result<LogRecord> ParseSyslogMessage(std::string_view msg, TimestampMs now_ms) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r' || msg.back() == '\0')) msg.remove_suffix(1);
  if (msg.size() < 3 || msg[0] != '<') return Status::InvalidArgument("syslog: message does not start with <PRI>");
  size_t close = msg.find('>');
  if (close == std::string_view::npos || close < 2 || close > 4) return Status::InvalidArgument("syslog: malformed <PRI>");
  int pri = 0;
  for (size_t i = 1; i < close; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(msg[i]))) return Status::InvalidArgument("syslog: PRI is not a number");
    pri = pri * 10 + (msg[i] - '0');
  }
  if (pri > 191) return Status::InvalidArgument("syslog: PRI " + std::to_string(pri) + " above 191");
  std::string_view rest = msg.substr(close + 1);
  LogRecord r;
  r.ts_ms = now_ms;
  r.severity = SeverityFromSyslog(pri & 7);
  std::string host, app;
  std::string_view text;
  if (rest.size() >= 2 && rest[0] == '1' && rest[1] == ' ') {
    // RFC 5424.
    rest.remove_prefix(2);
    std::string_view ts = NextField(&rest);
    host = std::string(NextField(&rest));
    app = std::string(NextField(&rest));
    NextField(&rest);  // PROCID
    NextField(&rest);  // MSGID
    if (ts != "-") {
      auto t = ParseRfc3339(ts);
      if (!t.ok()) return Status::InvalidArgument("syslog: RFC 5424 timestamp " + ii::Quote(ts) + " is not RFC 3339");
      if (*t < 0) return Status::InvalidArgument("syslog: RFC 5424 timestamp " + ii::Quote(ts) + " is before 1970");
      r.ts_ms = *t;
    }
    // STRUCTURED-DATA: "-" or one or more [id param="v"...] elements.
    if (!rest.empty() && rest[0] == '-') {
      rest.remove_prefix(rest.size() > 1 ? 2 : 1);
    } else {
      while (!rest.empty() && rest[0] == '[') {
        size_t i = 1;
        bool in_quotes = false;
        for (; i < rest.size(); ++i) {
          char c = rest[i];
          if (in_quotes && c == '\\') {
            ++i;
          } else if (c == '"') {
            in_quotes = !in_quotes;
          } else if (c == ']' && !in_quotes) {
            break;
          }
        }
        if (i >= rest.size()) return Status::InvalidArgument("syslog: unterminated structured data");
        rest.remove_prefix(i + 1);
      }
      if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    }
    // A UTF-8 byte order mark may introduce MSG.
    if (rest.starts_with("\xEF\xBB\xBF")) rest.remove_prefix(3);
    text = rest;
  } else {
    // RFC 3164: "Mmm dd hh:mm:ss HOST TAG: MSG"; the time is optional.
    std::string_view probe = rest;
    std::string_view month = NextField(&probe);
    if (IsMonth(month)) {
      if (!probe.empty() && probe[0] == ' ') probe.remove_prefix(1);  // "Nov  2"
      NextField(&probe);                                               // day
      NextField(&probe);                                               // time
      rest = probe;
      std::string_view h = NextField(&probe);
      if (!h.empty() && h.back() != ':') {
        host = std::string(h);
        rest = probe;
      }
    }
    size_t colon = rest.find(": ");
    size_t space = rest.find(' ');
    if (colon != std::string_view::npos && colon <= space) {
      std::string_view tag = rest.substr(0, colon);
      size_t bracket = tag.find('[');
      app = std::string(tag.substr(0, bracket));
      text = rest.substr(colon + 2);
    } else {
      text = rest;
    }
  }
  std::vector<ii::LabelView> views;
  if (!host.empty() && host != "-") views.push_back({"host", host});
  if (!app.empty() && app != "-") views.push_back({"app", app});
  views.push_back({"facility", kFacilities[pri >> 3]});
  std::string why = ii::NormalizeLabels(views, false);
  if (!why.empty()) return Status::InvalidArgument("syslog: " + why);
  r.labels = ii::LabelsFromViews(views);
  why = ii::CheckLogLine(text);
  if (!why.empty()) return Status::InvalidArgument("syslog: " + why);
  r.line.assign(text);
  return r;
}

Status SyslogFramer::Feed(std::string_view bytes, std::vector<std::string>* messages) {
  buffer_.append(bytes);
  size_t pos = 0;
  Status status;
  while (pos < buffer_.size()) {
    char c = buffer_[pos];
    if (c == '\n' || c == '\r' || c == ' ') {
      ++pos;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      // Octet counting: LEN SP MSG.
      size_t sp = buffer_.find(' ', pos);
      if (sp == std::string::npos) {
        if (buffer_.size() - pos > 10) {
          status = Status::InvalidArgument("syslog: octet count without a space after 10 digits");
          buffer_.clear();
          return status;
        }
        break;
      }
      size_t len = 0;
      for (size_t i = pos; i < sp; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(buffer_[i])) || sp - pos > 9) {
          status = Status::InvalidArgument("syslog: bad octet count " + ii::Quote(std::string_view(buffer_).substr(pos, sp - pos)));
          buffer_.clear();
          return status;
        }
        len = len * 10 + static_cast<size_t>(buffer_[i] - '0');
      }
      if (len > max_frame_) {
        status = Status::InvalidArgument("syslog: frame of " + std::to_string(len) + " bytes exceeds the limit of " +
                                         std::to_string(max_frame_));
        buffer_.clear();
        return status;
      }
      if (buffer_.size() - sp - 1 < len) break;
      messages->emplace_back(buffer_.substr(sp + 1, len));
      pos = sp + 1 + len;
      continue;
    }
    size_t nl = buffer_.find('\n', pos);
    if (nl == std::string::npos) {
      if (buffer_.size() - pos > max_frame_) {
        buffer_.clear();
        return Status::InvalidArgument("syslog: line longer than " + std::to_string(max_frame_) + " bytes without a newline");
      }
      break;
    }
    size_t end = nl;
    if (end > pos && buffer_[end - 1] == '\r') --end;
    messages->emplace_back(buffer_.substr(pos, end - pos));
    pos = nl + 1;
  }
  buffer_.erase(0, pos);
  return Status::Ok();
}

void SyslogFramer::Finish(std::vector<std::string>* messages) {
  size_t start = buffer_.find_first_not_of("\r\n ");
  if (start != std::string::npos) messages->emplace_back(buffer_.substr(start));
  buffer_.clear();
}

}  // namespace vigil
