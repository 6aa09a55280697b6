#include "ingest/json_samples.h"

#include <string>
#include <utility>
#include <vector>

#include "ingest/json_text.h"
#include "ingest/label_check.h"

namespace vigil {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
namespace ii = ingest_internal;

// simdjson's array::size() saturates at 0xFFFFFF (24 bits on the tape).
size_t ArraySize(array a) {
  size_t n = a.size();
  if (n < 0xFFFFFF) return n;
  n = 0;
  for ([[maybe_unused]] element e : a) ++n;
  return n;
}

// Decodes series[index]. Returns "" and appends to out->series on success,
// otherwise the reason (with its path).
std::string DecodeSeries(element e, size_t index, TimestampMs now_ms, size_t* n_samples, WriteBatch* out) {
  const std::string path = "series[" + std::to_string(index) + "]";
  *n_samples = 0;
  if (e.type() != element_type::OBJECT) return path + ": expected an object, got " + ii::JsonTypeName(e);
  const object obj = ii::ObjectOf(e);

  element samples_el;
  if (obj["samples"].get(samples_el)) return path + ".samples: missing";
  if (samples_el.type() != element_type::ARRAY) {
    return path + ".samples: expected an array, got " + ii::JsonTypeName(samples_el);
  }
  const array samples = ii::ArrayOf(samples_el);
  *n_samples = ArraySize(samples);

  element labels_el;
  if (obj["labels"].get(labels_el)) return path + ".labels: missing";
  if (labels_el.type() != element_type::OBJECT) {
    return path + ".labels: expected an object, got " + ii::JsonTypeName(labels_el);
  }
  std::vector<ii::LabelView> labels;
  labels.reserve(ii::ObjectOf(labels_el).size());
  for (auto field : ii::ObjectOf(labels_el)) {
    if (field.value.type() != element_type::STRING) {
      return path + ".labels" + ii::KeyPath(field.key) + ": expected a string, got " + ii::JsonTypeName(field.value);
    }
    labels.push_back(ii::LabelView{field.key, ii::StringOf(field.value)});
  }
  std::string why = ii::NormalizeLabels(labels, /*require_metric_name=*/true);
  if (!why.empty()) return path + ".labels: " + why;
  if (*n_samples == 0) return {};

  std::vector<Sample> points;
  points.reserve(*n_samples);
  size_t j = 0;
  for (element s : samples) {
    Sample p{now_ms, 0};
    if (s.type() == element_type::ARRAY) {
      const array pair = ii::ArrayOf(s);
      if (pair.size() != 2) {
        return path + ".samples[" + std::to_string(j) + "]: expected a [time, value] pair, got an array of " +
               std::to_string(pair.size());
      }
      auto it = pair.begin();
      if (!ii::JsonToTime(*it, &p.ts_ms, &why)) return path + ".samples[" + std::to_string(j) + "][0]: " + why;
      ++it;
      if (!ii::JsonToValue(*it, &p.value, &why)) return path + ".samples[" + std::to_string(j) + "][1]: " + why;
    } else if (s.type() == element_type::OBJECT || s.type() == element_type::BOOL ||
               s.type() == element_type::NULL_VALUE) {
      return path + ".samples[" + std::to_string(j) + "]: expected a [time, value] pair, got " + ii::JsonTypeName(s);
    } else if (!ii::JsonToValue(s, &p.value, &why)) {
      return path + ".samples[" + std::to_string(j) + "]: " + why;
    }
    points.push_back(p);
    ++j;
  }
  TimeSeries& series = out->series.emplace_back();
  series.labels = ii::LabelsFromViews(labels);
  series.samples = std::move(points);
  out->sample_count += series.samples.size();
  return {};
}

}  // namespace

Status DecodeJsonSamples(std::string_view body, TimestampMs now_ms, WriteBatch* out) {
  out->Clear();
  ii::JsonDocument doc;
  if (Status st = doc.Parse(body); !st.ok()) return st;

  element list_el = doc.root();
  if (list_el.type() == element_type::OBJECT) {
    if (ii::ObjectOf(list_el)["series"].get(list_el)) {
      return Status::InvalidArgument("\"series\": missing (expected {\"series\": [...]} or an array of series)");
    }
    if (list_el.type() != element_type::ARRAY) {
      return Status::InvalidArgument(std::string("\"series\": expected an array, got ") + ii::JsonTypeName(list_el));
    }
  } else if (list_el.type() != element_type::ARRAY) {
    return Status::InvalidArgument(std::string("expected {\"series\": [...]} or an array of series, got ") +
                                   ii::JsonTypeName(list_el));
  }
  const array list = ii::ArrayOf(list_el);
  out->series.reserve(list.size());
  size_t index = 0;
  for (element e : list) {
    size_t n_samples = 0;
    std::string why = DecodeSeries(e, index, now_ms, &n_samples, out);
    if (!why.empty()) {
      out->rejected.push_back(Rejection{index, n_samples, std::move(why)});
      out->rejected_samples += n_samples;
    }
    ++index;
  }
  return Status::Ok();
}

}  // namespace vigil
