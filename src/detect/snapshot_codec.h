// Little-endian binary encoding used by detector snapshots (AppendTo/Parse).
//
// Snapshots are written by one build and may be read by a later one, so the
// encoding is explicit: fixed-width little-endian integers and IEEE-754
// doubles, byte by byte, independent of the host's endianness. Readers
// consume from the front of a string_view and report truncation as a
// Corruption status instead of reading past the end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vigil {

void PutU8(std::string* out, uint8_t v);
void PutU32(std::string* out, uint32_t v);
void PutU64(std::string* out, uint64_t v);
void PutI64(std::string* out, int64_t v);
void PutDouble(std::string* out, double v);

// Each Get* advances `*in` past the value on success. On failure `*in` is
// left unchanged and the status names `what` was being read.
Status GetU8(std::string_view* in, uint8_t* v, const char* what);
Status GetU32(std::string_view* in, uint32_t* v, const char* what);
Status GetU64(std::string_view* in, uint64_t* v, const char* what);
Status GetI64(std::string_view* in, int64_t* v, const char* what);
Status GetDouble(std::string_view* in, double* v, const char* what);

}  // namespace vigil
