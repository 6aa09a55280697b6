// syslog messages (RFC 5424 and RFC 3164) and TCP framing (RFC 6587:
// octet counting "LEN SP MSG" and non-transparent framing, one message per
// LF-terminated line). Pure: the engine owns the sockets.
//
// RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD]* MSG
// RFC 3164: <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG
// Labels: host, app (APP-NAME or TAG), facility (by name: kern, user, ...),
// and what the listener adds (e.g. transport). Severity comes from PRI.
// An RFC 3164 time has no year or zone: the receive time is used instead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/sample.h"
#include "core/status.h"
#include "ingest/log_batch.h"

namespace vigil {

// Parses one message. `now_ms` is used when the message carries no usable
// time. InvalidArgument names what is wrong ("syslog: PRI 200 above 191").
Result<LogRecord> ParseSyslogMessage(std::string_view msg, TimestampMs now_ms);

// Splits a TCP byte stream into syslog messages, accepting both framings
// (a frame starting with a digit is octet-counted). Bounded: a frame longer
// than max_frame_bytes is refused (Feed returns the error; the listener
// closes the connection) instead of buffering without limit.
class SyslogFramer {
 public:
  explicit SyslogFramer(size_t max_frame_bytes = kMaxLogLineBytes + 1024) : max_frame_(max_frame_bytes) {}
  // Appends the complete messages found so far to *messages.
  Status Feed(std::string_view bytes, std::vector<std::string>* messages);
  // At end of stream: a trailing unterminated line is a message too.
  void Finish(std::vector<std::string>* messages);

 private:
  size_t max_frame_;
  std::string buffer_;
};

// Maps syslog severity (0 emerg .. 7 debug) to vigil's scale.
int SeverityFromSyslog(int severity);

}  // namespace vigil
