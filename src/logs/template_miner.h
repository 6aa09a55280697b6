// TemplateMiner: online log template mining, one message at a time.
//
// The algorithm (vigil's own; see docs/logs.md for the why):
//  1. Mask obvious variables (masking.h) so a message becomes a "shape":
//     "Failed password for root from <*> port <*> ssh2".
//  2. Exact shapes are looked up in a hash table: after warm-up almost every
//     line ends here (the fast path; one-token and fully masked lines never go
//     further). Drain (He et al., ICWS 2017) walks a parse tree and computes a
//     similarity per line instead.
//  3. A new shape is matched against the generalized templates whose first
//     token it shares; a "<*>" in a template may stand for one or more tokens,
//     so "Invalid user boris zhang" and "Invalid user test9" meet (Drain keys
//     its tree on the token count and splits them).
//  4. Otherwise the shape founds a template of its own, and each of its
//     one-gap generalizations (one run of up to four tokens replaced by "<*>")
//     is counted. When enough distinct shapes share a generalization, the
//     differing position is a variable and their templates merge. This is the
//     statistical insight of Brain (Yu et al., IEEE TSC 2023), that constants
//     repeat while variables vary, applied online: a word is promoted to a
//     variable only after several distinct values are seen in one place, so
//     "Accepted password" and "Failed password" stay two templates while
//     user names become "<*>".
//  5. Merged templates keep every id they had (an id becomes an alias of the
//     oldest), and the template text is refined as shapes join: a wildcard
//     whose values all end in ":<*>" is shown as "<*>:<*>".
//
// Memory is bounded (max templates, max shapes, max generalization counters);
// what is evicted is counted in stats(). State serializes to bytes so ids stay
// stable across restarts. Pure: no clock, no I/O, no threads; one instance per
// stream, used from one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "logs/masking.h"

namespace vigil::logs {

using TemplateId = uint32_t;  // 1, 2, ...; 0 is "none"

struct MinerOptions {
  MaskOptions mask;
  size_t max_templates = 50000;
  size_t max_shapes = 200000;
  size_t max_generalization_counters = 2000000;
  // Distinct shapes that must share a generalization before it is adopted:
  // when the differing tokens look like values (digits, dots, long) and when
  // they are plain words.
  int quorum_value_like = 2;
  int quorum_words = 5;
  int max_gap_tokens = 4;
  // Messages with more tokens are not generalized (each generalization key
  // costs the message's length; a 1 MiB line would make a new shape quadratic).
  size_t max_generalization_tokens = 128;
  // A generalization must keep at least this fraction of the shape's constant
  // tokens (and at least one).
  double min_kept_constants = 0.5;
};

struct MinerStats {
  uint64_t lines = 0;
  uint64_t fast_path_hits = 0;
  uint64_t templates_created = 0;
  uint64_t templates_merged = 0;
  uint64_t templates_evicted = 0;
  uint64_t shapes_evicted = 0;
  uint64_t counter_resets = 0;
};

struct MineResult {
  TemplateId id = 0;          // the canonical template of this line now
  bool new_template = false;  // this line founded a template
};

struct TemplateInfo {
  TemplateId id = 0;
  std::string text;
  uint64_t count = 0;
  uint64_t first_line = 0;  // the miner's line counter when it was founded
};

class TemplateMiner {
 public:
  explicit TemplateMiner(MinerOptions options = {});
  ~TemplateMiner();
  TemplateMiner(TemplateMiner&&) noexcept;
  TemplateMiner& operator=(TemplateMiner&&) noexcept;

  // Masks and mines one message (the part after the header).
  MineResult Add(std::string_view message);
  // Mines an already masked message (the caller reuses one MaskedLine).
  MineResult AddMasked(const MaskedLine& masked);

  // The canonical id an id was merged into (itself when never merged); 0 for
  // an unknown or evicted id.
  TemplateId Resolve(TemplateId id) const;
  // The current text of a template ("" for an unknown id).
  std::string TemplateText(TemplateId id) const;
  // Canonical templates, by id.
  std::vector<TemplateInfo> Templates() const;
  const MinerStats& stats() const { return stats_; }
  const VariableMasker& masker() const { return masker_; }

  // Persisted state: templates (with aliases) and known shapes. The
  // generalization counters are not kept (they refill from new shapes).
  std::string Serialize() const;
  static Result<TemplateMiner> Restore(std::string_view bytes, MinerOptions options = {});

 private:
  struct State;
  MinerOptions options_;
  VariableMasker masker_;
  MinerStats stats_;
  std::unique_ptr<State> state_;
};

}  // namespace vigil::logs
