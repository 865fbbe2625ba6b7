// Stop strings (agmodel.h): one Knuth-Morris-Pratt automaton per string over
// the output's bytes. The bytes held back are the longest end of the output
// that is still the start of some stop string, which is the largest state.
#include <cstring>

#include "agmodel.h"
#include "api_util.h"

extern "C" {

agm_status agm_stop_init(agm_stop* s, const char* const* strings, const size_t* lengths, size_t n,
                         agm_error* error) {
    if (s == nullptr || (n > 0 && strings == nullptr)) return agm::report_arg(error, "agm_stop_init: NULL argument");
    std::memset(s, 0, sizeof *s);
    s->matched = -1;
    if (n > AGM_STOP_MAX)
        return agm::report_arg(error, "agm_stop_init: at most 8 stop strings (AGM_STOP_MAX)");
    for (size_t i = 0; i < n; ++i) {
        if (strings[i] == nullptr) return agm::report_arg(error, "agm_stop_init: NULL stop string");
        const size_t len = lengths != nullptr ? lengths[i] : std::strlen(strings[i]);
        if (len == 0 || len > AGM_STOP_MAX_BYTES)
            return agm::report_arg(error, "agm_stop_init: a stop string has 1 to 64 bytes (AGM_STOP_MAX_BYTES)");
        std::memcpy(s->text[i], strings[i], len);
        s->len[i] = (uint8_t)len;
        // fail[q]: the longest proper prefix of text[0..q] that also ends it.
        const char* p = s->text[i];
        uint8_t* f = s->fail[i];
        f[0] = 0;
        for (size_t q = 1, k = 0; q < len; ++q) {
            while (k > 0 && p[q] != p[k]) k = f[k - 1];
            if (p[q] == p[k]) ++k;
            f[q] = (uint8_t)k;
        }
    }
    s->n = (uint32_t)n;
    return AGM_OK;
}

agm_status agm_stop_feed(agm_stop* s, const char* bytes, size_t n, char* out, size_t cap, size_t* n_out,
                         agm_error* error) {
    if (s == nullptr || n_out == nullptr || (n > 0 && bytes == nullptr) || out == nullptr)
        return agm::report_arg(error, "agm_stop_feed: NULL argument");
    *n_out = 0;
    if (cap < n || cap - n < AGM_STOP_MAX_BYTES)
        return agm::report_arg(error, "agm_stop_feed: out needs n + 64 bytes (AGM_STOP_MAX_BYTES)", AGM_ERR_BUFFER);
    if (s->matched >= 0) return AGM_OK;
    size_t o = 0;
    for (size_t b = 0; b < n; ++b) {
        const char c = bytes[b];
        uint32_t longest = 0;
        for (uint32_t i = 0; i < s->n; ++i) {
            uint32_t q = s->state[i];
            const char* p = s->text[i];
            while (q > 0 && p[q] != c) q = s->fail[i][q - 1];
            if (p[q] == c) ++q;
            s->state[i] = (uint8_t)q;
            // Two strings ending at this byte: the longer began first.
            if (q == s->len[i] && (s->matched < 0 || s->len[i] > s->len[s->matched])) s->matched = (int32_t)i;
            if (q > longest) longest = q;
        }
        // The held bytes and c: what may still start a stop string stays.
        const uint32_t total = s->n_held + 1;
        if (s->matched >= 0) {
            // The match ends at c and began in the held bytes (it is at most
            // one longer than they are): the bytes before it go out.
            const uint32_t before = total - s->len[s->matched];
            std::memcpy(out + o, s->held, before);
            o += before;
            s->n_held = 0;
            break;
        }
        const uint32_t release = total - longest;
        // held + c, first `release` bytes out, the rest kept.
        char buf[AGM_STOP_MAX_BYTES + 1];
        std::memcpy(buf, s->held, s->n_held);
        buf[s->n_held] = c;
        std::memcpy(out + o, buf, release);
        o += release;
        std::memcpy(s->held, buf + release, longest);
        s->n_held = longest;
    }
    *n_out = o;
    return AGM_OK;
}

int agm_stop_matched(const agm_stop* s) { return s != nullptr ? s->matched : -1; }

size_t agm_stop_flush(agm_stop* s, char* out, size_t cap) {
    if (s == nullptr || out == nullptr || s->matched >= 0) return 0;
    const size_t n = s->n_held < cap ? s->n_held : cap;
    std::memcpy(out, s->held, n);
    s->n_held = 0;
    for (uint32_t i = 0; i < s->n; ++i) s->state[i] = 0;
    return n;
}

}  // extern "C"
