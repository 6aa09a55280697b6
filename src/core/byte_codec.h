// Byte encodings for vigil's persisted binary formats (detector snapshots,
// store BLOB columns). Every module that writes bytes to disk uses these, so
// there is one definition of each encoding.
//
// Integers are little-endian regardless of the host; varints are base-128
// (7 bits per byte, low groups first). Formats built from these pieces are
// persisted: change a format by adding a version byte, never by changing an
// encoding here.
//
// Get* functions consume from the front of *in and return false when *in is
// too short or malformed (then *in is unspecified). Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/labels.h"

namespace vigil::bytes {

void PutU8(std::string* out, uint8_t v);
void PutFixed32(std::string* out, uint32_t v);
void PutFixed64(std::string* out, uint64_t v);
void PutVarint64(std::string* out, uint64_t v);
void PutDouble(std::string* out, double v);  // IEEE-754 bits as fixed64
void PutLengthPrefixed(std::string* out, std::string_view b);  // varint length, bytes
// Varint count, then each name and value length-prefixed.
void PutLabels(std::string* out, const Labels& labels);

bool GetU8(std::string_view* in, uint8_t* v);
bool GetFixed32(std::string_view* in, uint32_t* v);
bool GetFixed64(std::string_view* in, uint64_t* v);
bool GetVarint64(std::string_view* in, uint64_t* v);
bool GetDouble(std::string_view* in, double* v);
bool GetLengthPrefixed(std::string_view* in, std::string_view* b);
bool GetLabels(std::string_view* in, Labels* labels);

}  // namespace vigil::bytes
