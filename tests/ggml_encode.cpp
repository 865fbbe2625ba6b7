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

std::vector<uint8_t> encode_q4_k(const float* x, uint64_t n, std::vector<float>* decoded) {
    std::vector<uint8_t> out;
    if (decoded) decoded->assign(n, 0.0f);
    for (uint64_t b = 0; b < n / 256; ++b) {
        const float* xb = x + b * 256;
        float step[8], off[8], max_step = 0.0f, max_off = 0.0f;
        for (int j = 0; j < 8; ++j) {
            float lo = xb[32 * j], hi = xb[32 * j];
            for (int l = 0; l < 32; ++l) {
                lo = std::fmin(lo, xb[32 * j + l]);
                hi = std::fmax(hi, xb[32 * j + l]);
            }
            off[j] = lo < 0.0f ? -lo : 0.0f;
            step[j] = (hi + off[j]) / 15.0f;
            max_step = std::fmax(max_step, step[j]);
            max_off = std::fmax(max_off, off[j]);
        }
        const uint16_t dh = agm::f32_to_f16(max_step / 63.0f), mh = agm::f32_to_f16(max_off / 63.0f);
        const float d = agm::f16_to_f32(dh), dmin = agm::f16_to_f32(mh);
        uint8_t blk[144] = {0};
        std::memcpy(blk, &dh, 2);
        std::memcpy(blk + 2, &mh, 2);
        uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; ++j) {
            sc[j] = (uint8_t)(d > 0.0f ? std::fmin(63.0f, std::round(step[j] / d)) : 0.0f);
            mn[j] = (uint8_t)(dmin > 0.0f ? std::fmin(63.0f, std::round(off[j] / dmin)) : 0.0f);
            uint8_t* s6 = blk + 4;
            if (j < 4) {
                s6[j] |= sc[j];
                s6[j + 4] |= mn[j];
            } else {
                s6[j + 4] = (uint8_t)((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
                s6[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
                s6[j] |= (uint8_t)((mn[j] >> 4) << 6);
            }
        }
        for (int i = 0; i < 256; ++i) {
            const int j = i / 32;
            const float ds = d * (float)sc[j], m = dmin * (float)mn[j];
            const float qf = ds > 0.0f ? std::round((xb[i] + m) / ds) : 0.0f;
            const int q = (int)std::fmin(15.0f, std::fmax(0.0f, qf));
            const int byte = (i / 64) * 32 + i % 32;
            blk[16 + byte] |= (uint8_t)((i % 64) < 32 ? q : q << 4);
            if (decoded) (*decoded)[b * 256 + i] = ds * (float)q - m;
        }
        out.insert(out.end(), blk, blk + 144);
    }
    return out;
}

std::vector<uint8_t> encode_q6_k(const float* x, uint64_t n, std::vector<float>* decoded) {
    std::vector<uint8_t> out;
    if (decoded) decoded->assign(n, 0.0f);
    for (uint64_t b = 0; b < n / 256; ++b) {
        const float* xb = x + b * 256;
        float step[16], max_step = 0.0f;
        for (int k = 0; k < 16; ++k) {
            float a = 0.0f;
            for (int l = 0; l < 16; ++l) a = std::fmax(a, std::fabs(xb[16 * k + l]));
            step[k] = a / 31.0f;
            max_step = std::fmax(max_step, step[k]);
        }
        const uint16_t dh = agm::f32_to_f16(max_step / 127.0f);
        const float d = agm::f16_to_f32(dh);
        uint8_t blk[210] = {0};
        int8_t sc[16];
        for (int k = 0; k < 16; ++k) sc[k] = (int8_t)(d > 0.0f ? std::fmin(127.0f, std::round(step[k] / d)) : 0.0f);
        std::memcpy(blk + 192, sc, 16);
        std::memcpy(blk + 208, &dh, 2);
        for (int i = 0; i < 256; ++i) {
            const int half = i / 128, r = i % 128, quarter = r / 32, l = r % 32;
            const int si = 8 * half + l / 16 + 2 * quarter;  // the scale ggml pairs with this value
            const float ds = d * (float)sc[si];
            const float qf = ds > 0.0f ? std::round(xb[i] / ds) : 0.0f;
            const int q = (int)std::fmin(31.0f, std::fmax(-32.0f, qf)) + 32;
            uint8_t* ql = blk + 64 * half;
            uint8_t* qh = blk + 128 + 32 * half;
            ql[l + (quarter & 1) * 32] |= (uint8_t)(quarter < 2 ? (q & 0xF) : (q & 0xF) << 4);
            qh[l] |= (uint8_t)((q >> 4) << (2 * quarter));
            if (decoded) (*decoded)[b * 256 + i] = d * (float)sc[si] * (float)(q - 32);
        }
        out.insert(out.end(), blk, blk + 210);
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
