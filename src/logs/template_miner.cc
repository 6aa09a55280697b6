#include "logs/template_miner.h"

#include <algorithm>
#include <unordered_set>

#include "core/byte_codec.h"
#include "core/hash.h"

namespace vigil::logs {

namespace {

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

using Tokens = std::vector<std::string_view>;

bool IsDelimiterChar(char c) {
  switch (c) {
    case '=': case ':': case ',': case ';': case '(': case ')': case '[': case ']': case '{': case '}':
    case '<': case '>': case '"': case '\'': case '|': case '@': case '/': case '\\':
      return true;
    default:
      return false;
  }
}

Tokens SplitTokens(std::string_view text) {
  Tokens out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(' ', i);
    if (j == std::string_view::npos) j = text.size();
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// "<+>" is a wildcard that stands for one or more tokens (a variable of
// variable length); "<*>" stands for exactly one. Both print as "<*>".
constexpr std::string_view kMulti = "<+>";
inline bool IsVar(std::string_view s) { return s == kWildcard || s == kMulti; }

// A strong constant has a letter outside its masked parts: "port", "uid=<*>".
// "<*>]" or "<*>:<*>" carry structure but say little about the event.
bool IsStrong(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, kWildcard) == 0) {
      i += 2;
      continue;
    }
    char c = s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  }
  return false;
}

template <typename T>
int CountStrong(const T& t) {
  int c = 0;
  for (const auto& s : t) c += !IsVar(s) && IsStrong(s);
  return c;
}

// Whether the tokens a generalization removes look like values rather than
// words: a value has digits, dots, slashes or underscores, or is long.
bool IsUnitOrLiteral(std::string_view s) {
  static constexpr std::string_view kWords[] = {"true", "false", "null", "none", "nil", "B", "KB", "MB", "GB", "TB",
                                                "KiB", "MiB", "GiB", "ms", "us", "ns", "sec", "secs"};
  for (std::string_view w : kWords) {
    if (s == w) return true;
  }
  return false;
}

bool IntroducesValue(std::string_view w);

// Whether the tokens a generalization removes look like values rather than
// words: a value has digits, a slash or an '@', is all punctuation around a
// masked part, is a boolean/null literal or a unit after a number, or is the
// value of a key that introduces values ("user=root").
bool LooksLikeValue(const Tokens& t, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    std::string_view s = t[i];
    if (IsVar(s)) continue;
    while (s.size() > 1 && (s.back() == '.' || s.back() == ',' || s.back() == ';' || s.back() == ':')) s.remove_suffix(1);
    bool empty_pair = s == "()" || s == "[]" || s == "{}" || s == "\"\"" || s == "''";
    while (!s.empty() && (s.back() == '.' || s.back() == ',' || s.back() == ';' || s.back() == ':' || s.back() == ')')) {
      s.remove_suffix(1);
    }
    // Punctuation alone ("****", "--") is structure; a partly masked token or
    // an empty pair of brackets (an empty value) is a value.
    bool value = (!IsStrong(s) && s.find(kWildcard) != std::string_view::npos) || IsUnitOrLiteral(s) || empty_pair;
    size_t eq = s.find_last_of("=:");
    if (eq != std::string_view::npos && eq > 0) {
      std::string_view v = s.substr(eq + 1);
      value = value || IntroducesValue(s.substr(0, eq)) || IsUnitOrLiteral(v) || v.empty();
      // key=value with a structured value (a host name, a partly masked id)
      if (s[eq] == '=' && (v.find(kWildcard) != std::string_view::npos || v.find('.') != std::string_view::npos)) {
        value = true;
      }
    }
    for (char c : s) {
      if ((c >= '0' && c <= '9') || c == '/' || c == '@') value = true;
    }
    if (!value) return false;
  }
  return true;
}

// Lower-case letters only (with a trailing comma or period): a dictionary word.
bool IsPlainWord(std::string_view s) {
  while (!s.empty() && (s.back() == ',' || s.back() == '.')) s.remove_suffix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

// A dotted or underscored name in first position ("com.apple.Foo.daily:")
// names a subject, which varies, rather than the event.
bool LooksLikeSubject(std::string_view s) {
  while (!s.empty() && (s.back() == ':' || s.back() == ',')) s.remove_suffix(1);
  size_t dot = s.find('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < s.size();
}

// Words after which a value usually follows ("for user <*>", "from <*>"): a
// word there becomes a variable after fewer distinct values.
bool IntroducesValue(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "user", "users", "host", "hostname", "rhost", "ruser", "from", "for", "node", "domain", "address", "addr",
      "ip", "uid", "gid", "pid", "account", "login"};
  for (std::string_view k : kWords) {
    if (w.size() == k.size()) {
      bool eq = true;
      for (size_t i = 0; i < w.size() && eq; ++i) eq = (w[i] | 0x20) == k[i];
      if (eq) return true;
    }
  }
  return false;
}

// The display of one wildcard: the common prefix and suffix of the values it
// stood for, cut at delimiters ("host:<*>" and "10.0.0.1:<*>" give "<*>:<*>").
struct Slot {
  std::string prefix;
  std::string suffix;
  uint32_t min_length = 0;
  bool has_values = false;
  bool plain = false;  // spanned several tokens or a masked value: just "<*>"

  void Observe(std::string_view value) {
    if (plain) return;
    if (IsWildcard(value)) {
      plain = true;
      return;
    }
    if (!has_values) {
      prefix.assign(value);
      suffix.assign(value);
      min_length = static_cast<uint32_t>(value.size());
      has_values = true;
      return;
    }
    size_t p = 0;
    while (p < prefix.size() && p < value.size() && prefix[p] == value[p]) ++p;
    prefix.resize(p);
    size_t s = 0;
    while (s < suffix.size() && s < value.size() && suffix[suffix.size() - 1 - s] == value[value.size() - 1 - s]) ++s;
    suffix.erase(0, suffix.size() - s);
    min_length = std::min<uint32_t>(min_length, static_cast<uint32_t>(value.size()));
  }

  std::string Display() const {
    if (plain || !has_values) return std::string(kWildcard);
    size_t p = prefix.size();
    while (p > 0 && !IsDelimiterChar(prefix[p - 1])) --p;
    size_t s = suffix.size();
    size_t cut = 0;
    while (cut < s && !IsDelimiterChar(suffix[cut])) ++cut;
    std::string_view suf = std::string_view(suffix).substr(cut);
    if (p + suf.size() > min_length) return std::string(kWildcard);
    std::string out(prefix.substr(0, p));
    // Keep a variable's own shape out of the constant text: a prefix that
    // ends inside "<*>" is cut back.
    out += kWildcard;
    out += suf;
    return out;
  }
};

struct Cluster {
  TemplateId parent = 0;  // itself when canonical
  std::vector<std::string> pattern;
  std::vector<Slot> slots;  // one per pattern token (used at wildcards)
  std::vector<uint32_t> shapes;
  uint64_t count = 0;
  uint64_t first_line = 0;
  uint64_t last_line = 0;
  bool evicted = false;
  bool generalized = false;
};

struct Shape {
  std::string text;
  TemplateId cluster = 0;
  uint64_t count = 0;
  uint64_t last_line = 0;
  bool live = false;
};

constexpr int kCounterShapes = 6;
struct GeneralizationCounter {
  uint32_t shapes[kCounterShapes] = {};
  uint8_t n = 0;
  bool value_like = true;
  bool counted_gap = false;  // some shape reached this key by replacing a token
};

// The tokens of `shape` that a one-wildcard key leaves out, or false when the
// shape does not fit the key around its wildcard at `gap`.
bool SpanOf(const Tokens& shape, const Tokens& key, size_t gap, std::pair<size_t, size_t>* span) {
  size_t suffix = key.size() - gap - 1;
  if (shape.size() < gap + suffix + 1) return false;
  for (size_t i = 0; i < gap; ++i) {
    if (shape[i] != key[i]) return false;
  }
  for (size_t i = 0; i < suffix; ++i) {
    if (shape[shape.size() - 1 - i] != key[key.size() - 1 - i]) return false;
  }
  *span = {gap, shape.size() - suffix};
  return true;
}

constexpr int kMaxMatchSteps = 4096;

// Matches `leaf` against `pattern` where each "<*>" stands for one or more
// tokens (at most max_span). On success spans[k] = (first leaf token, count)
// for pattern token k.
bool MatchPattern(const std::vector<std::string>& pattern, const Tokens& leaf, size_t pi, size_t li, int max_span,
                  std::vector<std::pair<uint32_t, uint32_t>>* spans, int* steps) {
  if (++*steps > kMaxMatchSteps) return false;
  if (pi == pattern.size()) return li == leaf.size();
  if (li >= leaf.size()) return false;
  size_t remaining_pattern = pattern.size() - pi;
  if (leaf.size() - li < remaining_pattern) return false;
  if (pattern[pi] == kWildcard) {
    (*spans)[pi] = {static_cast<uint32_t>(li), 1};
    return MatchPattern(pattern, leaf, pi + 1, li + 1, max_span, spans, steps);
  }
  if (pattern[pi] == kMulti) {
    size_t max = std::min<size_t>(max_span, leaf.size() - li - (remaining_pattern - 1));
    for (size_t span = 1; span <= max; ++span) {
      (*spans)[pi] = {static_cast<uint32_t>(li), static_cast<uint32_t>(span)};
      if (MatchPattern(pattern, leaf, pi + 1, li + span, max_span, spans, steps)) return true;
    }
    return false;
  }
  if (leaf[li] != pattern[pi]) return false;
  (*spans)[pi] = {static_cast<uint32_t>(li), 1};
  return MatchPattern(pattern, leaf, pi + 1, li + 1, max_span, spans, steps);
}

// The least general pattern covering two patterns: position by position when
// they have the same length, otherwise common prefix and suffix around one
// wildcard.
std::vector<std::string> MergePatterns(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  if (a.size() == b.size()) {
    out.reserve(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i] == b[i]) out.push_back(a[i]);
      else out.emplace_back(a[i] == kMulti || b[i] == kMulti ? kMulti : kWildcard);
    }
  } else {
    size_t p = 0;
    while (p < a.size() && p < b.size() && a[p] == b[p]) ++p;
    size_t s = 0;
    while (s < a.size() - p && s < b.size() - p && a[a.size() - 1 - s] == b[b.size() - 1 - s]) ++s;
    out.assign(a.begin(), a.begin() + p);
    out.emplace_back(kMulti);
    out.insert(out.end(), a.end() - s, a.end());
  }
  // Adjacent wildcards made by the merge are one variable of many tokens
  // only when the inputs disagree on their count; position-wise merges keep
  // them apart ("onExtend:<*> <*> <*>").
  if (a.size() != b.size()) {
    std::vector<std::string> collapsed;
    for (auto& t : out) {
      if (IsVar(t) && !collapsed.empty() && IsVar(collapsed.back())) {
        collapsed.back() = std::string(kMulti);
        continue;
      }
      collapsed.push_back(std::move(t));
    }
    return collapsed;
  }
  return out;
}

}  // namespace

struct TemplateMiner::State {
  std::unordered_map<std::string, uint32_t, TextHash, std::equal_to<>> shape_index;
  std::vector<Shape> shapes;
  std::vector<uint32_t> free_shapes;
  std::vector<Cluster> clusters;  // clusters[id - 1]
  size_t live_clusters = 0;
  // First token of a template with wildcards -> templates (may hold stale ids).
  std::unordered_map<std::string, std::vector<TemplateId>, TextHash, std::equal_to<>> buckets;
  std::unordered_map<uint64_t, GeneralizationCounter> counters;
  uint64_t line = 0;

  Cluster& cluster(TemplateId id) { return clusters[id - 1]; }
  const Cluster& cluster(TemplateId id) const { return clusters[id - 1]; }

  TemplateId Resolve(TemplateId id) const {
    if (id == 0 || id > clusters.size()) return 0;
    while (clusters[id - 1].parent != id) id = clusters[id - 1].parent;
    return clusters[id - 1].evicted ? 0 : id;
  }

  void Register(TemplateId id) {
    const Cluster& c = cluster(id);
    bool wild = false;
    for (const auto& t : c.pattern) wild = wild || IsVar(t);
    if (!wild || c.pattern.empty()) return;
    auto& v = buckets[c.pattern[0]];
    if (std::find(v.begin(), v.end(), id) == v.end()) v.push_back(id);
  }

  void Refine(Cluster& c, const Tokens& leaf, int max_span) {
    std::vector<std::pair<uint32_t, uint32_t>> spans(c.pattern.size());
    int steps = 0;
    if (!MatchPattern(c.pattern, leaf, 0, 0, max_span, &spans, &steps)) return;
    for (size_t k = 0; k < c.pattern.size(); ++k) {
      if (!IsVar(c.pattern[k])) continue;
      if (spans[k].second != 1) {
        c.slots[k].plain = true;
      } else {
        c.slots[k].Observe(leaf[spans[k].first]);
      }
    }
  }

  void RebuildSlots(Cluster& c, int max_span) {
    c.slots.assign(c.pattern.size(), Slot{});
    size_t limit = std::min<size_t>(c.shapes.size(), 256);
    for (size_t i = 0; i < limit; ++i) {
      const Shape& s = shapes[c.shapes[i]];
      if (!s.live) continue;
      Refine(c, SplitTokens(s.text), max_span);
    }
  }
};

TemplateMiner::TemplateMiner(MinerOptions options)
    : options_(options), masker_(options.mask), state_(std::make_unique<State>()) {}
TemplateMiner::~TemplateMiner() = default;
TemplateMiner::TemplateMiner(TemplateMiner&&) noexcept = default;
TemplateMiner& TemplateMiner::operator=(TemplateMiner&&) noexcept = default;

MineResult TemplateMiner::Add(std::string_view message) {
  thread_local MaskedLine masked;
  masker_.Mask(message, &masked);
  return AddMasked(masked);
}

TemplateId TemplateMiner::Resolve(TemplateId id) const { return state_->Resolve(id); }

MineResult TemplateMiner::AddMasked(const MaskedLine& masked) {
  State& st = *state_;
  ++stats_.lines;
  uint64_t line = ++st.line;

  // Fast path: a shape seen before.
  auto hit = st.shape_index.find(std::string_view(masked.text));
  if (hit != st.shape_index.end()) {
    Shape& s = st.shapes[hit->second];
    TemplateId id = st.Resolve(s.cluster);
    if (id != 0) {
      ++stats_.fast_path_hits;
      ++s.count;
      s.last_line = line;
      Cluster& c = st.cluster(id);
      ++c.count;
      c.last_line = line;
      return {id, false};
    }
    // Its template was evicted: forget the shape and start over.
    s.live = false;
    st.free_shapes.push_back(hit->second);
    st.shape_index.erase(hit);
  }

  // A new shape.
  uint32_t shape_index;
  if (!st.free_shapes.empty()) {
    shape_index = st.free_shapes.back();
    st.free_shapes.pop_back();
  } else {
    shape_index = static_cast<uint32_t>(st.shapes.size());
    st.shapes.emplace_back();
  }
  Shape& shape = st.shapes[shape_index];
  shape.text = masked.text;
  shape.count = 1;
  shape.last_line = line;
  shape.live = true;
  st.shape_index.emplace(shape.text, shape_index);
  Tokens leaf = SplitTokens(shape.text);
  int constants = CountStrong(leaf);
  int min_kept = std::max(1, static_cast<int>(options_.min_kept_constants * constants + 0.999));

  auto join_cluster = [&](TemplateId id) {
    Cluster& c = st.cluster(id);
    shape.cluster = id;
    c.shapes.push_back(shape_index);
    ++c.count;
    c.last_line = line;
    st.Refine(c, leaf, 1 << 20);
  };

  // 1. A generalized template that already covers it.
  if (!leaf.empty()) {
    TemplateId best = 0;
    int best_constants = -1;
    std::vector<std::pair<uint32_t, uint32_t>> spans;
    for (std::string_view key : {leaf[0], kWildcard}) {
      auto b = st.buckets.find(key);
      if (b == st.buckets.end()) continue;
      for (TemplateId raw : b->second) {
        TemplateId id = st.Resolve(raw);
        if (id == 0 || id != raw) continue;
        const Cluster& c = st.cluster(id);
        int pc = 0;
        pc = CountStrong(c.pattern);
        if (pc < min_kept || pc <= best_constants) continue;
        spans.assign(c.pattern.size(), {0, 0});
        int steps = 0;
        if (MatchPattern(c.pattern, leaf, 0, 0, 1 << 20, &spans, &steps)) {
          best = id;
          best_constants = pc;
        }
      }
    }
    if (best != 0) {
      join_cluster(best);
      return {best, false};
    }
  }

  // 2. A template of its own.
  if (st.live_clusters >= options_.max_templates) {
    // Evict the least recently seen tenth.
    std::vector<std::pair<uint64_t, TemplateId>> order;
    for (size_t i = 0; i < st.clusters.size(); ++i) {
      const Cluster& c = st.clusters[i];
      if (c.parent == i + 1 && !c.evicted) order.emplace_back(c.last_line, static_cast<TemplateId>(i + 1));
    }
    std::sort(order.begin(), order.end());
    size_t drop = std::max<size_t>(1, order.size() / 10);
    for (size_t i = 0; i < drop; ++i) {
      Cluster& c = st.cluster(order[i].second);
      c.evicted = true;
      c.pattern.clear();
      c.slots.clear();
      c.shapes.clear();
      --st.live_clusters;
      ++stats_.templates_evicted;
    }
  }
  TemplateId id = static_cast<TemplateId>(st.clusters.size() + 1);
  {
    Cluster c;
    c.parent = id;
    c.pattern.assign(leaf.begin(), leaf.end());
    c.slots.assign(c.pattern.size(), Slot{});
    c.shapes.push_back(shape_index);
    c.count = 1;
    c.first_line = line;
    c.last_line = line;
    st.clusters.push_back(std::move(c));
  }
  Shape& s = st.shapes[shape_index];  // shapes may not move, but be explicit
  s.cluster = id;
  ++st.live_clusters;
  ++stats_.templates_created;
  st.Register(id);
  MineResult result{id, true};

  // 3. Count its one-gap generalizations; adopt one that enough distinct
  // shapes share.
  if (st.counters.size() > options_.max_generalization_counters) {
    st.counters.clear();
    ++stats_.counter_resets;
  }
  std::unordered_set<uint64_t> seen_keys;
  std::string key;
  const size_t n = leaf.size();
  auto build_key = [&](size_t begin, size_t end, std::string_view wildcard) {
    key.clear();
    for (size_t k = 0; k < begin; ++k) {
      key += leaf[k];
      key.push_back(' ');
    }
    key += wildcard;
    for (size_t k = end; k < n; ++k) {
      key.push_back(' ');
      key += leaf[k];
    }
  };
  // Whether the shapes counted under a variable-length key really differ by a
  // variable: some fill the gap with one token, at least two with several,
  // and those several-token fillers share no word (else the filler has
  // structure of its own, like "invalid user <*>" against "root").
  auto multi_key_holds = [&](const GeneralizationCounter& g, size_t gap_at) {
    Tokens key_tokens = SplitTokens(key);
    int single = 0, multi = 0;
    std::vector<std::unordered_set<std::string_view>> words;
    std::vector<Tokens> keep;
    for (int k = 0; k < std::min<int>(g.n, kCounterShapes); ++k) {
      const Shape& m = st.shapes[g.shapes[k]];
      if (!m.live) continue;
      keep.push_back(SplitTokens(m.text));
      std::pair<size_t, size_t> span;
      if (!SpanOf(keep.back(), key_tokens, gap_at, &span)) return false;
      size_t len = span.second - span.first;
      if (len == 1) {
        ++single;
        continue;
      }
      ++multi;
      std::unordered_set<std::string_view> w;
      for (size_t t = span.first; t < span.second; ++t) {
        if (IsStrong(keep.back()[t])) w.insert(keep.back()[t]);
      }
      for (const auto& other : words) {
        for (std::string_view x : w) {
          if (other.contains(x)) return false;
        }
      }
      words.push_back(std::move(w));
    }
    return single >= 1 && multi >= 2;
  };
  auto merge_on = [&](GeneralizationCounter& g) -> bool {
    // Merge the templates of the shapes that share this generalization.
    std::vector<TemplateId> members;
    for (int k = 0; k < std::min<int>(g.n, kCounterShapes); ++k) {
      const Shape& m = st.shapes[g.shapes[k]];
      if (!m.live) continue;
      TemplateId r = st.Resolve(m.cluster);
      if (r != 0 && std::find(members.begin(), members.end(), r) == members.end()) members.push_back(r);
    }
    TemplateId mine = st.Resolve(id);
    if (mine != 0 && std::find(members.begin(), members.end(), mine) == members.end()) members.push_back(mine);
    if (members.size() < 2) return false;
    std::sort(members.begin(), members.end());
    TemplateId target = members[0];
    Cluster& t = st.cluster(target);
    Tokens key_tokens = SplitTokens(key);
    std::vector<std::string> generalized =
        MergePatterns(t.pattern, std::vector<std::string>(key_tokens.begin(), key_tokens.end()));
    for (size_t k = 1; k < members.size(); ++k) generalized = MergePatterns(generalized, st.cluster(members[k]).pattern);
    t.pattern = std::move(generalized);
    t.generalized = true;
    for (size_t k = 1; k < members.size(); ++k) {
      Cluster& o = st.cluster(members[k]);
      o.parent = target;
      t.count += o.count;
      t.first_line = std::min(t.first_line, o.first_line);
      t.shapes.insert(t.shapes.end(), o.shapes.begin(), o.shapes.end());
      o.shapes.clear();
      o.slots.clear();
      --st.live_clusters;
      ++stats_.templates_merged;
    }
    st.RebuildSlots(t, 1 << 20);
    st.Register(target);
    result = {target, target != id ? false : result.new_template};
    return true;
  };
  auto consider = [&](size_t begin, size_t end, std::string_view wildcard) -> bool {
    bool identity = begin == end;  // the shape itself, which has wildcards already
    int removed = 0;
    for (size_t k = begin; k < end; ++k) removed += !IsVar(leaf[k]) && IsStrong(leaf[k]);
    if (constants - removed < min_kept) return false;
    if (identity) key = shape.text;
    else build_key(begin, end, wildcard);
    uint64_t h = StableHash64(key);
    if (!seen_keys.insert(h).second) return false;
    GeneralizationCounter& g = st.counters[h];
    if (!identity) {
      bool value_like = LooksLikeValue(leaf, begin, end) || (begin > 0 && IntroducesValue(leaf[begin - 1])) ||
                        (begin > 0 && end == begin + 1 && leaf[begin - 1] == "to" && !IsPlainWord(leaf[begin]));
      g.value_like = (g.n == 0 ? value_like : g.value_like && value_like);
      g.counted_gap = true;
    }
    if (g.n < kCounterShapes) g.shapes[g.n] = shape_index;
    if (g.n < 255) ++g.n;
    // A shape that already has the wildcard where others have words counts
    // toward the others' generalization, but cannot found one alone.
    if (!g.counted_gap) return false;
    int quorum = g.value_like ? options_.quorum_value_like : options_.quorum_words;
    if (wildcard == kMulti) quorum = std::max(quorum, 3);
    if (g.n < quorum) return false;
    if (wildcard == kMulti && !multi_key_holds(g, begin)) return false;
    return merge_on(g);
  };
  // Each key costs the length of the shape: very long messages (thousands of
  // tokens) would make this quadratic, so they only found templates.
  if (n > options_.max_generalization_tokens) return result;
  bool has_wildcard = false;
  for (std::string_view t : leaf) has_wildcard = has_wildcard || IsVar(t);
  if (has_wildcard && consider(0, 0, kWildcard)) return result;
  for (size_t i = 0; i < n; ++i) {
    if (IsVar(leaf[i])) continue;
    // A message's first word names the event ("boot", "halt", "Accepted");
    // only a value there may become a variable.
    if (i == 0 && !LooksLikeValue(leaf, 0, 1) && !LooksLikeSubject(leaf[0])) continue;
    if (consider(i, i + 1, kWildcard)) return result;
  }
  // 3b. The key=value skeleton: every value of a key=value token replaced by
  // "<*>" at once ("tag=\"AudioMix\", name=audioserver" and
  // "tag=\"*launch*\", name=android" share it). Values of named keys vary.
  {
    std::string skeleton;
    int replaced = 0;
    for (size_t k = 0; k < n; ++k) {
      if (k) skeleton.push_back(' ');
      std::string_view t = leaf[k];
      size_t eq = t.find('=');
      if (eq != std::string_view::npos && eq > 0 && eq + 1 < t.size() && !IsVar(t) &&
          t.substr(eq + 1) != kWildcard && t.substr(eq + 1, 4) != "<*>,") {
        skeleton.append(kWildcard);
        ++replaced;
      } else {
        skeleton.append(t);
      }
    }
    if (replaced >= 2) {
      key = skeleton;
      uint64_t h = StableHash64(key);
      if (seen_keys.insert(h).second) {
        GeneralizationCounter& g = st.counters[h];
        g.counted_gap = true;
        if (g.n < kCounterShapes) g.shapes[g.n] = shape_index;
        if (g.n < 255) ++g.n;
        if (g.n >= options_.quorum_value_like && merge_on(g)) return result;
      }
    }
  }
  for (int gap = 1; gap <= options_.max_gap_tokens; ++gap) {
    for (size_t i = 0; i + gap <= n; ++i) {
      bool any = false;
      for (size_t k = i; k < i + gap; ++k) any = any || !IsVar(leaf[k]);
      if (!any || (i == 0 && !LooksLikeValue(leaf, 0, 1))) continue;
      if (consider(i, i + gap, kMulti)) return result;
    }
  }
  return result;
}

std::string TemplateMiner::TemplateText(TemplateId id) const {
  TemplateId r = state_->Resolve(id);
  if (r == 0) return "";
  const Cluster& c = state_->cluster(r);
  std::string out;
  for (size_t i = 0; i < c.pattern.size(); ++i) {
    if (i) out.push_back(' ');
    if (IsVar(c.pattern[i]) && i < c.slots.size()) {
      out += c.slots[i].Display();
    } else {
      out += c.pattern[i];
    }
  }
  return out;
}

std::vector<TemplateInfo> TemplateMiner::Templates() const {
  std::vector<TemplateInfo> out;
  const State& st = *state_;
  for (size_t i = 0; i < st.clusters.size(); ++i) {
    const Cluster& c = st.clusters[i];
    TemplateId id = static_cast<TemplateId>(i + 1);
    if (c.parent != id || c.evicted) continue;
    out.push_back({id, TemplateText(id), c.count, c.first_line});
  }
  return out;
}

// Format (version 1): u8 version; varint line; varint #clusters; per cluster:
// varint parent, u8 flags (1 evicted, 2 generalized), varint count,
// varint first_line, varint last_line, varint #tokens, tokens; per cluster
// slots are rebuilt from its shapes. Then varint #shapes; per shape:
// text, varint cluster, varint count, varint last_line.
std::string TemplateMiner::Serialize() const {
  const State& st = *state_;
  std::string out;
  bytes::PutU8(&out, 1);
  bytes::PutVarint64(&out, st.line);
  bytes::PutVarint64(&out, st.clusters.size());
  for (const Cluster& c : st.clusters) {
    bytes::PutVarint64(&out, c.parent);
    bytes::PutU8(&out, static_cast<uint8_t>((c.evicted ? 1 : 0) | (c.generalized ? 2 : 0)));
    bytes::PutVarint64(&out, c.count);
    bytes::PutVarint64(&out, c.first_line);
    bytes::PutVarint64(&out, c.last_line);
    bytes::PutVarint64(&out, c.pattern.size());
    for (const auto& t : c.pattern) bytes::PutLengthPrefixed(&out, t);
  }
  uint64_t live = 0;
  for (const Shape& s : st.shapes) live += s.live;
  bytes::PutVarint64(&out, live);
  for (const Shape& s : st.shapes) {
    if (!s.live) continue;
    bytes::PutLengthPrefixed(&out, s.text);
    bytes::PutVarint64(&out, s.cluster);
    bytes::PutVarint64(&out, s.count);
    bytes::PutVarint64(&out, s.last_line);
  }
  return out;
}

Result<TemplateMiner> TemplateMiner::Restore(std::string_view in, MinerOptions options) {
  TemplateMiner m(options);
  State& st = *m.state_;
  auto corrupt = [](const std::string& what) { return Status::Corruption("template miner state: " + what); };
  uint8_t version = 0;
  if (!bytes::GetU8(&in, &version) || version != 1) return corrupt("unknown version");
  uint64_t n = 0;
  if (!bytes::GetVarint64(&in, &st.line) || !bytes::GetVarint64(&in, &n)) return corrupt("truncated header");
  if (n > (1u << 28) || n > in.size()) return corrupt("template count " + std::to_string(n) + " too large");
  st.clusters.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    Cluster& c = st.clusters[i];
    uint64_t parent = 0, tokens = 0;
    uint8_t flags = 0;
    if (!bytes::GetVarint64(&in, &parent) || !bytes::GetU8(&in, &flags) || !bytes::GetVarint64(&in, &c.count) ||
        !bytes::GetVarint64(&in, &c.first_line) || !bytes::GetVarint64(&in, &c.last_line) ||
        !bytes::GetVarint64(&in, &tokens)) {
      return corrupt("truncated template " + std::to_string(i + 1));
    }
    if (parent == 0 || parent > n || parent > i + 1 || tokens > in.size()) {
      return corrupt("template " + std::to_string(i + 1) + " has a bad parent or size");
    }
    c.parent = static_cast<TemplateId>(parent);
    c.evicted = flags & 1;
    c.generalized = flags & 2;
    for (uint64_t k = 0; k < tokens; ++k) {
      std::string_view t;
      if (!bytes::GetLengthPrefixed(&in, &t)) return corrupt("truncated token in template " + std::to_string(i + 1));
      c.pattern.emplace_back(t);
    }
    c.slots.assign(c.pattern.size(), Slot{});
  }
  uint64_t shapes = 0;
  if (!bytes::GetVarint64(&in, &shapes) || shapes > in.size()) return corrupt("bad shape count");
  for (uint64_t i = 0; i < shapes; ++i) {
    Shape s;
    std::string_view text;
    uint64_t cluster = 0;
    if (!bytes::GetLengthPrefixed(&in, &text) || !bytes::GetVarint64(&in, &cluster) ||
        !bytes::GetVarint64(&in, &s.count) || !bytes::GetVarint64(&in, &s.last_line)) {
      return corrupt("truncated shape " + std::to_string(i));
    }
    if (cluster == 0 || cluster > n) return corrupt("shape " + std::to_string(i) + " names template " + std::to_string(cluster));
    s.text.assign(text);
    s.cluster = static_cast<TemplateId>(cluster);
    s.live = true;
    uint32_t idx = static_cast<uint32_t>(st.shapes.size());
    if (!st.shape_index.emplace(s.text, idx).second) return corrupt("duplicate shape " + std::to_string(i));
    st.shapes.push_back(std::move(s));
    TemplateId r = st.Resolve(static_cast<TemplateId>(cluster));
    if (r != 0) st.cluster(r).shapes.push_back(idx);
  }
  if (!in.empty()) return corrupt(std::to_string(in.size()) + " trailing bytes");
  for (size_t i = 0; i < st.clusters.size(); ++i) {
    Cluster& c = st.clusters[i];
    if (c.parent == i + 1 && !c.evicted) {
      ++st.live_clusters;
      st.RebuildSlots(c, 1 << 20);
      st.Register(static_cast<TemplateId>(i + 1));
    }
  }
  return m;
}

}  // namespace vigil::logs
