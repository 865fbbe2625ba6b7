#include "agm/crc32.h"

#include <cstring>

namespace agm {
namespace {

struct Tables {
    uint32_t t[4][256];
};

constexpr Tables make_tables() {
    Tables tb{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
        tb.t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
        for (int s = 1; s < 4; ++s) {
            uint32_t prev = tb.t[s - 1][i];
            tb.t[s][i] = (prev >> 8) ^ tb.t[0][prev & 0xFFu];
        }
    }
    return tb;
}

constexpr Tables kTables = make_tables();

}  // namespace

uint32_t crc32_update(uint32_t crc, const void* data, size_t size) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    uint32_t c = ~crc;
    // Bytes up to a 4-byte boundary, then 4 bytes per step through the four
    // tables (one table lookup per byte, no per-bit loop), then the tail.
    while (size > 0 && (reinterpret_cast<uintptr_t>(p) & 3u) != 0) {
        c = kTables.t[0][(c ^ *p++) & 0xFFu] ^ (c >> 8);
        --size;
    }
    while (size >= 4) {
        uint32_t w;
        std::memcpy(&w, p, 4);  // little-endian targets only (asserted in format.h users)
        c ^= w;
        c = kTables.t[3][c & 0xFFu] ^ kTables.t[2][(c >> 8) & 0xFFu] ^
            kTables.t[1][(c >> 16) & 0xFFu] ^ kTables.t[0][c >> 24];
        p += 4;
        size -= 4;
    }
    while (size-- > 0) c = kTables.t[0][(c ^ *p++) & 0xFFu] ^ (c >> 8);
    return ~c;
}

}  // namespace agm
