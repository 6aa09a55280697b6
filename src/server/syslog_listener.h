// SyslogListener: receives syslog (RFC 5424 / RFC 3164) over UDP and TCP
// (octet-counting or newline framing, RFC 6587) and hands the messages to
// the engine's log pipeline. Off unless an address is configured
// (logs.syslog_udp / logs.syslog_tcp in the YAML config).
//
// One I/O thread. A datagram is one message; a TCP connection may carry any
// number. Messages that do not parse are counted and logged (first few),
// never silently dropped; when the log queue is full, a TCP reader waits
// (back-pressure reaches the sender through TCP) and a UDP datagram is
// dropped and counted (UDP has no way to push back).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace vigil {

class Engine;

class SyslogListener {
 public:
  // Binds the configured addresses ("host:port"; port 0 picks a free one;
  // "" = that transport off) and starts the I/O thread.
  static Result<std::unique_ptr<SyslogListener>> Start(Engine* engine, const std::string& udp, const std::string& tcp);
  ~SyslogListener();
  void Stop();
  uint16_t udp_port() const;
  uint16_t tcp_port() const;

  struct Counters {
    std::atomic<uint64_t> messages{0}, rejected{0}, dropped_full{0}, connections{0};
  };
  const Counters& counters() const;

 private:
  struct Impl;
  explicit SyslogListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
