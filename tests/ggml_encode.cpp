#include "ggml_encode.h"

#include <cmath>
#include <cstring>

#include "agm/half.h"

namespace agm_test {
namespace {

void put_u16(std::vector<uint8_t>* out, uint16_t v) {
    out->push_back((uint8_t)(v & 0xFF));
    out->push_back((uint8_t)(v >> 8));
}

bool all_zero(const int8_t* w, uint32_t n) {
    for (uint32_t i = 0; i < n; ++i)
        if (w[i] != 0) return false;
    return true;
}

// Base-3 digits (w + 1), most significant first, as an 8-bit fixed-point
// fraction rounded up: byte = ceil(v * 256 / 243).
uint8_t pack_trits(const int8_t* const* w, int n_digits) {
    uint32_t v = 0;
    for (int k = 0; k < 5; ++k) v = v * 3 + (k < n_digits ? (uint32_t)(*w[k] + 1) : 0u);
    return (uint8_t)((v * 256 + 242) / 243);
}

}  // namespace

std::vector<uint8_t> encode_tq2_0(const int8_t* w, uint64_t n, uint16_t d_bits, uint16_t zero_d) {
    std::vector<uint8_t> out;
    for (uint64_t b = 0; b < n / 256; ++b) {
        const int8_t* x = w + b * 256;
        for (uint32_t h = 0; h < 2; ++h)
            for (uint32_t j = 0; j < 32; ++j) {
                uint8_t byte = 0;
                for (uint32_t k = 0; k < 4; ++k) byte |= (uint8_t)((x[128 * h + 32 * k + j] + 1) << (2 * k));
                out.push_back(byte);
            }
        put_u16(&out, all_zero(x, 256) ? zero_d : d_bits);
    }
    return out;
}

std::vector<uint8_t> encode_tq1_0(const int8_t* w, uint64_t n, uint16_t d_bits, uint16_t zero_d) {
    std::vector<uint8_t> out;
    for (uint64_t b = 0; b < n / 256; ++b) {
        const int8_t* x = w + b * 256;
        const int8_t* d[5];
        for (uint32_t m = 0; m < 32; ++m) {  // values 32n + m
            for (int k = 0; k < 5; ++k) d[k] = x + 32 * k + m;
            out.push_back(pack_trits(d, 5));
        }
        for (uint32_t m = 0; m < 16; ++m) {  // values 160 + 16n + m
            for (int k = 0; k < 5; ++k) d[k] = x + 160 + 16 * k + m;
            out.push_back(pack_trits(d, 5));
        }
        for (uint32_t m = 0; m < 4; ++m) {  // values 240 + 4n + m, four digits
            for (int k = 0; k < 4; ++k) d[k] = x + 240 + 4 * k + m;
            out.push_back(pack_trits(d, 4));
        }
        put_u16(&out, all_zero(x, 256) ? zero_d : d_bits);
    }
    return out;
}

std::vector<uint8_t> encode_i2_s(const int8_t* w, uint64_t n, float scale) {
    std::vector<uint8_t> out(n / 4 + 32, 0);
    for (uint64_t e = 0; e < n; ++e) {
        const uint64_t blk = e / 128, j = e % 128;
        out[blk * 32 + j % 32] |= (uint8_t)((w[e] + 1) << (6 - 2 * (j / 32)));
    }
    std::memcpy(out.data() + n / 4, &scale, 4);
    return out;
}

std::vector<uint8_t> encode_q8_0(const float* x, uint64_t n, std::vector<float>* decoded) {
    std::vector<uint8_t> out;
    if (decoded) decoded->assign(n, 0.0f);
    for (uint64_t b = 0; b < n / 32; ++b) {
        float amax = 0.0f;
        for (uint32_t i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(x[b * 32 + i]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const uint16_t dh = agm::f32_to_f16(d);
        const float dd = agm::f16_to_f32(dh);
        put_u16(&out, dh);
        for (uint32_t i = 0; i < 32; ++i) {
            const int q = (int)std::lround(x[b * 32 + i] * id);
            out.push_back((uint8_t)(int8_t)q);
            if (decoded) (*decoded)[b * 32 + i] = dd * (float)q;
        }
    }
    return out;
}

std::vector<uint8_t> encode_f16(const float* x, uint64_t n) {
    std::vector<uint8_t> out;
    for (uint64_t i = 0; i < n; ++i) put_u16(&out, agm::f32_to_f16(x[i]));
    return out;
}

std::vector<uint8_t> encode_bf16(const float* x, uint64_t n) {
    std::vector<uint8_t> out;
    for (uint64_t i = 0; i < n; ++i) {
        uint32_t b;
        std::memcpy(&b, &x[i], 4);
        put_u16(&out, (uint16_t)(b >> 16));
    }
    return out;
}

std::vector<uint8_t> encode_f32(const float* x, uint64_t n) {
    std::vector<uint8_t> out(n * 4);
    std::memcpy(out.data(), x, n * 4);
    return out;
}

float round_to_f16(float x) { return agm::f16_to_f32(agm::f32_to_f16(x)); }

float round_to_bf16(float x) {
    uint32_t b;
    std::memcpy(&b, &x, 4);
    b += 0x7FFFu + ((b >> 16) & 1u);  // nearest even (finite inputs)
    b &= 0xFFFF0000u;
    float r;
    std::memcpy(&r, &b, 4);
    return r;
}

}  // namespace agm_test
