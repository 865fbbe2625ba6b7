#include "agm/printable.h"

#include <cstdio>

namespace agm {

std::string printable_text(const std::string& s, size_t max_bytes) {
    std::string out;
    const size_t n = s.size() < max_bytes ? s.size() : max_bytes;
    for (size_t i = 0; i < n; ++i) {
        const unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == '\\') {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        } else {
            out += (char)c;
        }
    }
    return s.size() > max_bytes ? out + "..." : out;
}

}  // namespace agm
