// libFuzzer target: syslog parsing and TCP framing. Every frame the framer
// returns is a substring of the input, and parsed records are valid.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/log_fuzz_checks.h"
#include "ingest/syslog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using vigil::ingest_internal::FuzzCheck;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  vigil::SyslogFramer framer(4096);
  std::vector<std::string> frames;
  // Feed in two pieces to exercise partial frames.
  size_t cut = size / 2;
  vigil::Status st = framer.Feed(input.substr(0, cut), &frames);
  if (st.ok()) st = framer.Feed(input.substr(cut), &frames);
  if (st.ok()) framer.Finish(&frames);
  else vigil::ingest_internal::CheckMessage(st.message());
  for (const std::string& f : frames) {
    FuzzCheck(f.size() <= input.size(), "frame longer than the input");
    auto r = vigil::ParseSyslogMessage(f, 1795334178810);
    vigil::LogBatch b;
    if (r.ok()) b.records.push_back(*r);
    vigil::ingest_internal::CheckLogBatch(b, r.ok() ? vigil::Status::Ok() : r.status());
  }
  auto whole = vigil::ParseSyslogMessage(input, 1795334178810);
  vigil::LogBatch b;
  if (whole.ok()) b.records.push_back(*whole);
  vigil::ingest_internal::CheckLogBatch(b, whole.ok() ? vigil::Status::Ok() : whole.status());
  return 0;
}
