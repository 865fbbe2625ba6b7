// Small helpers shared by the command-line tools (not part of the library).
#ifndef AGM_TOOL_UTIL_H
#define AGM_TOOL_UTIL_H

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agm/error.h"
#include "agm/file_io.h"

namespace agm {

// Parses a whole decimal/float argument or returns false.
inline bool parse_long(const char* s, long long lo, long long hi, long long* out) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return false;
    *out = v;
    return true;
}

inline bool parse_float(const char* s, double lo, double hi, double* out) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

}  // namespace agm

#endif
