// UTF-8 streaming and JSON strings (text.h).
#include "text.h"

#include <cstdio>

namespace agm_serve {

namespace {

const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// The length of the character a lead byte starts (0: not a lead byte).
size_t lead_length(unsigned char c) {
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}

// Whether c may be the second byte after lead (the ranges that exclude
// overlongs, surrogates and code points above U+10FFFF).
bool second_ok(unsigned char lead, unsigned char c) {
    if (lead == 0xE0) return c >= 0xA0 && c <= 0xBF;
    if (lead == 0xED) return c >= 0x80 && c <= 0x9F;
    if (lead == 0xF0) return c >= 0x90 && c <= 0xBF;
    if (lead == 0xF4) return c >= 0x80 && c <= 0x8F;
    return c >= 0x80 && c <= 0xBF;
}

}  // namespace

void Utf8Stream::push(const char* bytes, size_t n, std::string* out) {
    for (size_t i = 0; i < n; ++i) {
        const unsigned char c = (unsigned char)bytes[i];
        if (n_ > 0) {
            const bool ok = n_ == 1 ? second_ok(buf_[0], c) : (c >= 0x80 && c <= 0xBF);
            if (ok) {
                buf_[n_++] = c;
                if (n_ == need_) {
                    out->append(reinterpret_cast<const char*>(buf_), n_);
                    n_ = 0;
                }
                continue;
            }
            out->append(kReplacement);  // cut short: this byte starts afresh
            n_ = 0;
        }
        const size_t len = lead_length(c);
        if (len == 0) {
            out->append(kReplacement);
        } else if (len == 1) {
            out->push_back((char)c);
        } else {
            buf_[0] = c;
            n_ = 1;
            need_ = len;
        }
    }
}

void Utf8Stream::flush(std::string* out) {
    if (n_ > 0) out->append(kReplacement);
    n_ = 0;
}

bool valid_utf8(const std::string& s) {
    Utf8Stream u;
    std::string out;
    u.push(s.data(), s.size(), &out);
    return u.pending() == 0 && out == s;
}

void append_json_string(std::string* out, const std::string& s) {
    out->push_back('"');
    for (const char ch : s) {
        const unsigned char c = (unsigned char)ch;
        switch (c) {
            case '"': out->append("\\\""); break;
            case '\\': out->append("\\\\"); break;
            case '\n': out->append("\\n"); break;
            case '\r': out->append("\\r"); break;
            case '\t': out->append("\\t"); break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char esc[8];
                    std::snprintf(esc, sizeof esc, "\\u%04x", c);
                    out->append(esc);
                } else {
                    out->push_back(ch);
                }
        }
    }
    out->push_back('"');
}

}  // namespace agm_serve
