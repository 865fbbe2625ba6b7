// Helpers shared by the hostile-input tests (test_hostile*.cpp).
#ifndef AGM_HOSTILE_UTIL_H
#define AGM_HOSTILE_UTIL_H

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "agmodel.h"
#include "doctest.h"
#include "test_util.h"

namespace agm_hostile {

using Bytes = std::vector<uint8_t>;

// An exactly sized, 64-byte-aligned heap copy (ASan reports a read of any
// byte at or past p + n).
using ExactBuf = agm_test::AlignedCopy;

struct Rng {  // xorshift64*, deterministic
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed ? seed : 1) {}
    uint64_t next() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545F4914F6CDD1Dull;
    }
    uint64_t below(uint64_t n) { return next() % n; }
    uint8_t nonzero_byte() { return (uint8_t)(1 + below(255)); }
};

inline bool one_line(const char* m) { return m[0] != '\0' && std::strchr(m, '\n') == nullptr; }

inline bool contains(const char* hay, const char* needle) { return std::strstr(hay, needle) != nullptr; }

// Opens a model from an exactly sized copy of data; on success optionally
// exercises it (tokenize, decode, and with `run` feed and sample), on failure
// checks the message is one line. Defined in test_hostile.cpp.
agm_status open_exact(const uint8_t* data, size_t size, bool verify, agm_error* e,
                      bool exercise_if_ok = false, bool run = false);

// Unaligned little-endian field access in a file image.
template <typename T>
T get(const Bytes& b, uint64_t off) {
    T v;
    std::memcpy(&v, b.data() + off, sizeof v);
    return v;
}
template <typename T>
void set(Bytes* b, uint64_t off, T v) {
    std::memcpy(b->data() + off, &v, sizeof v);
}

}  // namespace agm_hostile

#endif
