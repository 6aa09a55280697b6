// A minimal reader of the protobuf wire format (internal to src/ingest), for
// decoders that read fields straight out of a request buffer instead of
// copying them into a generated message first.
//
// Strictness follows the protobuf runtime 3.21: keys of at most 5 bytes
// (bits above 32 dropped), field number 0 refused, varints of at most 10 bytes,
// lengths below 2^31 that fit the enclosing message, wire types 6 and 7
// refused. One deliberate difference: groups (wire types 3 and 4, deprecated
// since proto2 and never sent by Prometheus or Loki) are refused rather than
// skipped.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace vigil::ingest_internal {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

// The first problem met while reading one buffer; shared by the readers of
// its nested messages.
struct WireError {
  const char* what = nullptr;  // null while all is well
  const char* message = "";    // protobuf message type being read
  size_t offset = 0;           // byte offset in the whole buffer
  std::string ToString(size_t total) const {
    return std::string(what) + " at byte " + std::to_string(offset) + " of " + std::to_string(total) + " (in " +
           message + ")";
  }
};

class WireReader {
 public:
  // Reads `data`, which lies inside the buffer starting at `base` (used for
  // error offsets). `message` names the message type for error messages.
  WireReader(std::string_view data, const char* base, const char* message, WireError* error)
      : p_(reinterpret_cast<const uint8_t*>(data.data())),
        end_(p_ + data.size()),
        base_(reinterpret_cast<const uint8_t*>(base)),
        message_(message),
        error_(error) {}

  bool done() const { return p_ == end_; }
  // Where the next field starts.
  const char* position() const { return reinterpret_cast<const char*>(p_); }

  bool ReadKey(uint32_t* field, uint32_t* wire) {
    const uint8_t* start = p_;
    uint64_t key64;
    if (!ReadVarintBounded(5, &key64)) return false;
    // Like the protobuf runtime, keep the low 32 bits of a 5-byte key.
    const uint32_t key = static_cast<uint32_t>(key64);
    *field = key >> 3;
    *wire = key & 7;
    if (*field == 0) return FailAt(start, "field number 0");
    if (*wire == kStartGroup || *wire == kEndGroup) return FailAt(start, "groups (wire types 3 and 4) are not supported");
    if (*wire > kFixed32) return FailAt(start, "invalid wire type");
    return true;
  }

  bool ReadVarint(uint64_t* value) { return ReadVarintBounded(10, value); }

  bool ReadFixed64(uint64_t* value) {
    if (end_ - p_ < 8) return Fail("truncated fixed64 field");
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p_[i];  // little-endian on any host
    p_ += 8;
    *value = v;
    return true;
  }

  // A length-delimited payload (bytes, string or nested message).
  bool ReadLen(std::string_view* value) {
    const uint8_t* start = p_;
    uint64_t len;
    if (!ReadVarintBounded(5, &len)) return false;
    if (len > 0x7fffffffULL) return FailAt(start, "length of 2 GiB or more");
    if (len > static_cast<uint64_t>(end_ - p_)) return FailAt(start, "length-delimited field runs past its message");
    *value = std::string_view(reinterpret_cast<const char*>(p_), static_cast<size_t>(len));
    p_ += len;
    return true;
  }

  // Skips the payload of a field this decoder does not read.
  bool Skip(uint32_t wire) {
    switch (wire) {
      case kVarint: {
        uint64_t ignored;
        return ReadVarint(&ignored);
      }
      case kFixed64:
        if (end_ - p_ < 8) return Fail("truncated fixed64 field");
        p_ += 8;
        return true;
      case kLen: {
        std::string_view ignored;
        return ReadLen(&ignored);
      }
      case kFixed32:
        if (end_ - p_ < 4) return Fail("truncated fixed32 field");
        p_ += 4;
        return true;
      default:  // ReadKey refuses the other wire types
        return Fail("invalid wire type");
    }
  }

  // Walks every field of a message without reading any: true when it is
  // well-formed.
  bool SkipAll() {
    uint32_t field, wire;
    while (!done()) {
      if (!ReadKey(&field, &wire) || !Skip(wire)) return false;
    }
    return true;
  }

  bool Fail(const char* what) { return FailAt(p_, what); }

 private:
  bool FailAt(const uint8_t* at, const char* what) {
    if (error_->what == nullptr) {
      error_->what = what;
      error_->message = message_;
      error_->offset = static_cast<size_t>(at - base_);
    }
    return false;
  }

  bool ReadVarintBounded(int max_bytes, uint64_t* value) {
    const uint8_t* start = p_;
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; ++i) {
      if (p_ == end_) return FailAt(start, "truncated varint");
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) {
        *value = v;
        return true;
      }
    }
    return FailAt(start, max_bytes == 10 ? "varint longer than 10 bytes" : "key or length varint longer than 5 bytes");
  }

  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* base_;
  const char* message_;
  WireError* error_;
};

// Hands each length-delimited field of the message `r` reads to
// `fn(field, bytes)` (false = stop: the error is already in the reader's
// WireError); fields of other wire types are checked and skipped. For
// messages whose fields of interest are all nested messages or strings.
template <class Fn>
bool ForEachLenField(WireReader& r, Fn&& fn) {
  uint32_t field, wire;
  while (!r.done()) {
    if (!r.ReadKey(&field, &wire)) return false;
    if (wire != kLen) {
      if (!r.Skip(wire)) return false;
      continue;
    }
    std::string_view bytes;
    if (!r.ReadLen(&bytes) || !fn(field, bytes)) return false;
  }
  return true;
}

}  // namespace vigil::ingest_internal
