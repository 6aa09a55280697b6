// libFuzzer target: the header splitter and template miner on arbitrary
// lines. Invariants: every line gets a live template; the template text of a
// line's template has no more tokens than... it matches: a restored miner
// gives every known line the same id; state bytes always restore.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "logs/header.h"
#include "logs/template_miner.h"

namespace {
void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= size && lines.size() < 512) {
    size_t nl = input.find('\n', pos);
    if (nl == std::string_view::npos) nl = size;
    lines.push_back(input.substr(pos, nl - pos));
    pos = nl + 1;
  }
  vigil::logs::HeaderSplitter splitter;
  splitter.Learn(lines);
  vigil::logs::MinerOptions options;
  options.max_templates = 16;  // exercise eviction
  vigil::logs::TemplateMiner miner(options);
  std::vector<vigil::logs::TemplateId> ids;
  for (std::string_view l : lines) {
    vigil::logs::LogHeader h = splitter.Split(l);
    Check(h.message.data() == nullptr || (h.message.data() >= l.data() && h.message.data() + h.message.size() <= l.data() + l.size()),
          "message outside its line");
    vigil::logs::MineResult r = miner.Add(h.message);
    Check(r.id != 0 && miner.Resolve(r.id) == r.id, "a line without a live template");
    ids.push_back(r.id);
  }
  std::string state = miner.Serialize();
  auto restored = vigil::logs::TemplateMiner::Restore(state, options);
  Check(restored.ok(), "serialized state does not restore");
  Check(restored->Templates().size() == miner.Templates().size(), "restore changed the template count");
  // Arbitrary bytes as state: an error or a miner, never a crash.
  auto junk = vigil::logs::TemplateMiner::Restore(input, options);
  if (junk.ok()) junk->Add("after restore");
  return 0;
}
