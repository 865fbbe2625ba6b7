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

namespace agm {

// Reads a whole file; refuses files larger than max_bytes.
inline bool read_whole_file(const std::string& path, std::vector<uint8_t>* out, Error* err,
                            uint64_t max_bytes = (uint64_t)4 << 30) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr)
        return fail_as(err, ErrorKind::Io, "cannot open %s: %s", path.c_str(), std::strerror(errno));
    out->clear();
    uint8_t buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        if (out->size() + n > max_bytes) {
            std::fclose(f);
            return fail_as(err, ErrorKind::Io, "%s is larger than %llu bytes", path.c_str(),
                           (unsigned long long)max_bytes);
        }
        out->insert(out->end(), buf, buf + n);
    }
    const bool bad = std::ferror(f) != 0;
    std::fclose(f);
    if (bad) return fail_as(err, ErrorKind::Io, "cannot read %s", path.c_str());
    return true;
}

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
