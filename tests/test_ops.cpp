// The forward pass's elementwise operations against the C library they
// replace: expf_exact (engine/src/fast_math.h) must return what expf returns
// for every float, and the activation quantiser's rounding must be C's
// round(). Strided over all 2^32 float patterns (every 251st on the host,
// every 65,521st under QEMU, where libm's expf is software floating point);
// AGM_TEST_EXHAUSTIVE=1 checks every one (about a minute on the host).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ios>
#include <random>
#include <vector>

#include "doctest.h"
#include "fast_math.h"
#include "ops.h"
#include "test_util.h"

namespace {

float from_bits(uint32_t b) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}

uint32_t to_bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

uint32_t stride() {
    if (const char* e = std::getenv("AGM_TEST_EXHAUSTIVE"); e != nullptr && *e == '1') return 1;
#if defined(__arm__)
    return 65521;
#else
    return 251;
#endif
}

}  // namespace

TEST_CASE("expf_exact equals the C library's expf") {
    const uint32_t step = stride();
    uint64_t checked = 0, fast = 0, mismatches = 0;
    uint32_t first_bad = 0;
    for (uint64_t b = 0; b <= 0xFFFFFFFFull; b += step) {
        const float x = from_bits((uint32_t)b);
        const float want = expf(x), got = agm::expf_exact(x);
        ++checked;
        fast += x > -86.0f && x < 88.0f;
        if (to_bits(want) != to_bits(got) && !(want != want && got != got)) {
            if (mismatches++ == 0) first_bad = (uint32_t)b;
        }
    }
    // the edges of the fast range and around them
    for (float x : {-86.0f, 88.0f, std::nextafterf(-86.0f, 0.0f), std::nextafterf(88.0f, 0.0f), 0.0f, -0.0f,
                    1e-30f, -1e-30f, 1.0f, -1.0f, 0.5f, 87.9f, -85.9f, INFINITY, -INFINITY, NAN}) {
        const float want = expf(x), got = agm::expf_exact(x);
        ++checked;
        if (to_bits(want) != to_bits(got) && !(want != want && got != got)) {
            if (mismatches++ == 0) first_bad = to_bits(x);
        }
    }
    MESSAGE("expf_exact: " << checked << " floats checked (stride " << step << "), " << fast
            << " in the fast range, " << mismatches << " differ from expf");
    INFO("first difference at float bits 0x" << std::hex << first_bad);
    CHECK(mismatches == 0);
    CHECK(fast > checked / 3);
}

TEST_CASE("quantize_absmax_i8 rounds as the reference: round((double)(x * r)), clamped") {
    // The reference's formula, with the library's round().
    auto want_q = [](float x, float r) {
        const double v = round((double)(x * r));
        return (int8_t)(v >= 127.0 ? 127 : v <= -127.0 ? -127 : v == v ? (int)v : 0);
    };
    std::mt19937_64 rng(agm_test::test_seed());
    std::vector<float> x(4099);
    int8_t q[4224];
    for (int iter = 0; iter < 50; ++iter) {
        for (size_t i = 0; i < x.size(); ++i) {
            switch (rng() % 4) {
                case 0: x[i] = from_bits((uint32_t)rng()); break;  // any pattern, NaN and Inf too
                case 1: x[i] = (float)((int)(rng() % 255) - 127) * 0.5f; break;  // exact halves
                case 2: x[i] = std::ldexp((float)(rng() % 1000) - 500.0f, -(int)(rng() % 40)); break;
                default: x[i] = (float)((double)(rng() % 2000001) / 1e6 - 1.0); break;
            }
        }
        if (iter % 2) x[0] = 126.5f * (iter % 4 == 1 ? 1.0f : -1.0f);
        const float s = agm::quantize_absmax_i8(x.data(), (uint32_t)x.size(), q, 4224);
        if (s == 0.0f) {
            for (size_t i = 0; i < 4224; ++i) REQUIRE(q[i] == 0);
            continue;
        }
        const float r = (float)(1.0 / (double)s);
        for (size_t i = 0; i < x.size(); ++i) {
            INFO("x " << x[i] << " bits " << to_bits(x[i]));
            REQUIRE(q[i] == want_q(x[i], r));
        }
        for (size_t i = x.size(); i < 4224; ++i) REQUIRE(q[i] == 0);
    }
    // a finite vector whose values hit every rounding case exactly: a max of
    // 127 (scale 1, r 1) and the halves between
    std::vector<float> h;
    for (int k = -254; k <= 254; ++k) h.push_back((float)k * 0.5f);
    agm::quantize_absmax_i8(h.data(), (uint32_t)h.size(), q, (uint32_t)h.size());
    for (size_t i = 0; i < h.size(); ++i) CHECK(q[i] == want_q(h[i], 1.0f));
}
