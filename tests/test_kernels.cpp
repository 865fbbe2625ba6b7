// Kernel conformance: every registered variant against an independent oracle
// (decode each weight, multiply) on seeded random shapes and edge cases,
// compared exactly. Set AGM_TEST_SEED to replay a failure.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "agm/format.h"
#include "agm/model_file.h"
#include "agm/quant.h"
#include "agm/ternary.h"
#include "doctest.h"
#include "kernels/kernels.h"
#include "test_util.h"

namespace {

struct Ternary {
    uint32_t rows, cols;
    std::vector<int8_t> w;        // [rows][cols] in -1..1 (the oracle's view)
    std::vector<uint8_t> packed;  // AGM_TYPE_T2_B128, 32-byte aligned rows
    size_t stride;
    uint32_t n_blocks;
};

// Packs by the format's definition (format.h), independently of the converter.
Ternary pack(uint32_t rows, uint32_t cols, const std::vector<int8_t>& w) {
    Ternary t{rows, cols, w, {}, 0, 0};
    t.n_blocks = (cols + 127) / 128;
    t.stride = (size_t)t.n_blocks * 32;
    t.packed.assign(t.stride * rows + 64, 0);
    for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t c = 0; c < cols; ++c) {
            const int8_t v = w[(size_t)r * cols + c];
            const uint8_t code = v == 0 ? 0 : v > 0 ? 1 : 3;
            const uint32_t blk = c / 128, in = c % 128;
            t.packed[(size_t)r * t.stride + blk * 32 + in % 32] |= (uint8_t)(code << (2 * (in / 32)));
        }
    return t;
}

std::vector<int32_t> oracle(const Ternary& t, const std::vector<int8_t>& q) {
    std::vector<int32_t> y(t.rows);
    for (uint32_t r = 0; r < t.rows; ++r) {
        int64_t s = 0;
        for (uint32_t c = 0; c < t.cols; ++c) s += (int64_t)t.w[(size_t)r * t.cols + c] * q[c];
        y[r] = (int32_t)s;
    }
    return y;
}

void check_all_variants(const Ternary& t, const std::vector<int8_t>& q_in, const char* what,
                        uint64_t seed) {
    std::vector<int8_t> q(t.n_blocks * 128, 0);
    std::memcpy(q.data(), q_in.data(), t.cols);
    const std::vector<int32_t> want = oracle(t, q_in);
    size_t n_sets;
    const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
    for (size_t k = 0; k < n_sets; ++k) {
        if (!agm::kernel_set_runs(sets[k])) continue;  // this CPU lacks its instructions
        std::vector<int32_t> got(t.rows, 0x5A5A5A5A);
        sets[k].tmatvec_t2_i8(t.packed.data(), t.stride, t.rows, t.n_blocks, q.data(), got.data());
        INFO("variant " << sets[k].name << ", " << what << ", rows " << t.rows << ", cols " << t.cols
                        << ", seed " << seed);
        CHECK(got == want);
    }
}

}  // namespace

TEST_CASE("tmatvec_t2_i8: random shapes, every variant equals the oracle") {
    const uint64_t seed = agm_test::test_seed();
    size_t n_sets;
    const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
    std::string names;
    for (size_t k = 0; k < n_sets; ++k)
        names += std::string(k ? ", " : "") + sets[k].name + (agm::kernel_set_runs(sets[k]) ? "" : " (not on this CPU)");
    MESSAGE("kernel variants in this build: ", names, "; the engine uses ", std::string(agm::best_kernels().name),
            "; seed ", seed);
    std::mt19937_64 rng(seed);
    for (int iter = 0; iter < 300; ++iter) {
        const uint32_t rows = 1 + (uint32_t)(rng() % 40);
        // Mostly sizes that are not multiples of a block, some that are.
        const uint32_t cols = iter % 5 == 0 ? 128 * (1 + (uint32_t)(rng() % 6)) : 1 + (uint32_t)(rng() % 900);
        std::vector<int8_t> w((size_t)rows * cols), q(cols);
        for (auto& v : w) v = (int8_t)((int)(rng() % 3) - 1);
        for (auto& v : q) v = (int8_t)((int)(rng() % 255) - 127);
        check_all_variants(pack(rows, cols, w), q, "random", seed);
    }
}

TEST_CASE("tmatvec_t2_i8: edge cases") {
    const uint64_t seed = agm_test::test_seed();
    struct Shape { uint32_t rows, cols; };
    for (Shape s : {Shape{1, 1}, Shape{1, 128}, Shape{3, 129}, Shape{5, 8192}, Shape{2, 8193}, Shape{7, 2816}}) {
        for (int w_kind = 0; w_kind < 3; ++w_kind) {
            for (int q_kind = 0; q_kind < 3; ++q_kind) {
                std::vector<int8_t> w((size_t)s.rows * s.cols), q(s.cols);
                for (size_t i = 0; i < w.size(); ++i) w[i] = (int8_t)(w_kind == 0 ? -1 : w_kind == 1 ? 1 : (int)(i % 3) - 1);
                for (size_t i = 0; i < q.size(); ++i) q[i] = (int8_t)(q_kind == 0 ? 127 : q_kind == 1 ? -127 : (i % 2 ? 127 : -127));
                // all -1 / all +1 weights with extreme activations: the
                // largest sums a lane can see (8192 columns = 64 blocks).
                check_all_variants(pack(s.rows, s.cols, w), q, "edge", seed);
            }
        }
    }
}

TEST_CASE("tmatvec_t2_i8: code 10 reads as zero") {
    Ternary t = pack(1, 128, std::vector<int8_t>(128, 1));
    for (int j = 0; j < 32; ++j) t.packed[j] = 0xAA;  // every pair 10
    std::vector<int8_t> q(128, 100);
    size_t n_sets;
    const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
    for (size_t k = 0; k < n_sets; ++k) {
        if (!agm::kernel_set_runs(sets[k])) continue;  // this CPU lacks its instructions
        int32_t y = 1;
        sets[k].tmatvec_t2_i8(t.packed.data(), t.stride, 1, 1, q.data(), &y);
        CHECK(y == 0);
    }
}

TEST_CASE("matvec_f32: sequential sums, every variant bit-identical to the plain loop") {
    std::mt19937_64 rng(agm_test::test_seed());
    std::uniform_real_distribution<float> d(-2.0f, 2.0f);
    for (uint32_t cols : {1u, 4u, 7u, 12u, 256u, 260u, 333u}) {  // ARMv6: odd and even chunks of 4
        const uint32_t rows = 17;
        std::vector<float> w((size_t)rows * cols), x(cols);
        for (auto& v : w) v = d(rng);
        for (auto& v : x) v = d(rng);
        std::vector<float> want(rows);
        for (uint32_t r = 0; r < rows; ++r) {
            volatile float s = 0.0f;  // volatile: keep the oracle's order and rounding
            for (uint32_t i = 0; i < cols; ++i) s = s + w[(size_t)r * cols + i] * x[i];
            want[r] = s;
        }
        size_t n_sets;
        const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
        for (size_t k = 0; k < n_sets; ++k) {
            if (!agm::kernel_set_runs(sets[k])) continue;  // this CPU lacks its instructions
            std::vector<float> got(rows);
            sets[k].matvec_f32(w.data(), rows, cols, x.data(), got.data());
            CHECK(std::memcmp(got.data(), want.data(), rows * sizeof(float)) == 0);
        }
    }
}

// ---- AGM_TYPE_TL5_R4 ---------------------------------------------------------

namespace {

// The first element of v at or after an 8-byte boundary.
template <typename T>
T* align8(std::vector<T>& v) {
    T* p = v.data();
    while (reinterpret_cast<uintptr_t>(p) & 7u) ++p;
    return p;
}

// Where the buffers a kernel gets start, past an 8-byte boundary:
// the weights are only promised 4-byte alignment, the table 2-byte, the
// sums 4-byte (the session's arena aligns all to 64).
struct Offsets {
    uint32_t w_bytes = 0;        // 0 or 4
    uint32_t table_entries = 0;  // int16 entries: 0 (8-byte aligned), 1 (2-byte), 2 (4-byte)
    uint32_t acc_entries = 0;    // int32 entries: 0 or 1
};

// Packs with the format's shared packer (agm/ternary.h), runs every variant's
// table builder and product, and compares with the plain-multiply oracle.
// A write past the table or past the sums fails the check too.
void check_tl5(uint32_t rows, uint32_t cols, const std::vector<int8_t>& w, const std::vector<int8_t>& q_in,
               const char* what, uint64_t seed, Offsets off = Offsets()) {
    std::vector<uint8_t> packed;
    agm::Error err;
    REQUIRE(agm::pack_ternary(AGM_TYPE_TL5_R4, w.data(), rows, cols, &packed, &err));
    const uint32_t n_groups = agm::tl5_quad_words(AGM_TYPE_TL5_R4, cols), n_quads = (rows + 3) / 4;
    std::vector<uint8_t> w_store(packed.size() + off.w_bytes + 8);
    uint8_t* w_at = align8(w_store) + off.w_bytes;
    std::memcpy(w_at, packed.data(), packed.size());
    std::vector<int8_t> q(n_groups * 5, 0);
    std::memcpy(q.data(), q_in.data(), cols);
    Ternary t{rows, cols, w, {}, 0, 0};
    const std::vector<int32_t> want = oracle(t, q_in);
    std::vector<int16_t> want_table(n_groups * AGM_TL5_TABLE_STRIDE);
    agm::tl5_table__ref(q.data(), n_groups, want_table.data());
    const size_t table_size = (size_t)n_groups * AGM_TL5_TABLE_STRIDE, acc_size = (size_t)n_quads * 4;
    size_t n_sets;
    const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
    for (size_t k = 0; k < n_sets; ++k) {
        if (!agm::kernel_set_runs(sets[k])) continue;  // this CPU lacks its instructions
        INFO("variant " << sets[k].name << ", " << what << ", rows " << rows << ", cols " << cols << ", offsets "
                        << off.w_bytes << "/" << off.table_entries << "/" << off.acc_entries << ", seed " << seed);
        std::vector<int16_t> table_store(table_size + off.table_entries + 8, 0x5A5A);
        int16_t* table = align8(table_store) + off.table_entries;
        sets[k].tl5_table(q.data(), n_groups, table);
        CHECK(std::vector<int16_t>(table, table + table_size) == want_table);
        CHECK(table[table_size] == 0x5A5A);
        // a variant that does not read the table gets none (the session builds
        // none for it): garbage in its place
        if (!sets[k].tl5_reads_tables) std::fill(table, table + table_size, (int16_t)0x5A5A);
        std::vector<int32_t> acc_store(acc_size + off.acc_entries + 3, 0x5A5A5A5A);
        int32_t* got = align8(acc_store) + off.acc_entries;
        sets[k].tmatvec_tl5_i8(w_at, n_quads, n_groups, q.data(), table, got);
        // the padding rows of the last quad are zero weights
        CHECK(std::vector<int32_t>(got, got + rows) == want);
        for (uint32_t r = rows; r < n_quads * 4; ++r) CHECK(got[r] == 0);
        CHECK(got[acc_size] == 0x5A5A5A5A);
        if (off.acc_entries) CHECK(got[-1] == 0x5A5A5A5A);
    }
}

}  // namespace

TEST_CASE("tmatvec_tl5_i8x2: two vectors at once, every variant equals the oracle on each") {
    const uint64_t seed = agm_test::test_seed();
    std::mt19937_64 rng(seed ^ 0x7152);
    for (int iter = 0; iter < 150; ++iter) {
        const uint32_t rows = 1 + (uint32_t)(rng() % 37);
        const uint32_t cols = iter % 5 == 0    ? 40 * (1 + (uint32_t)(rng() % 8))
                              : iter % 17 == 3 ? 2500 + (uint32_t)(rng() % 2700)
                                               : 1 + (uint32_t)(rng() % 700);
        const bool extreme = iter % 10 == 1;  // all +1 weights, activations +-127: the largest tile sums
        std::vector<int8_t> w((size_t)rows * cols), qa(cols), qb(cols);
        for (auto& v : w) v = extreme ? 1 : (int8_t)((int)(rng() % 3) - 1);
        for (auto& v : qa) v = extreme ? 127 : (int8_t)((int)(rng() % 255) - 127);
        for (auto& v : qb) v = extreme ? -127 : (int8_t)((int)(rng() % 255) - 127);
        std::vector<uint8_t> packed;
        agm::Error err;
        REQUIRE(agm::pack_ternary(AGM_TYPE_TL5_R4, w.data(), rows, cols, &packed, &err));
        const uint32_t n_groups = agm::tl5_quad_words(AGM_TYPE_TL5_R4, cols), n_quads = (rows + 3) / 4;
        std::vector<int8_t> pa(n_groups * 5, 0), pb(n_groups * 5, 0);
        std::memcpy(pa.data(), qa.data(), cols);
        std::memcpy(pb.data(), qb.data(), cols);
        Ternary t{rows, cols, w, {}, 0, 0};
        const std::vector<int32_t> want_a = oracle(t, qa), want_b = oracle(t, qb);
        std::vector<uint32_t> want_table(n_groups * AGM_TL5_TABLE_STRIDE);
        agm::tl5_table_x2__ref(pa.data(), pb.data(), n_groups, want_table.data());
        size_t n_sets;
        const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
        for (size_t k = 0; k < n_sets; ++k) {
            if (!agm::kernel_set_runs(sets[k])) continue;  // this CPU lacks its instructions
            INFO("variant " << sets[k].name << ", rows " << rows << ", cols " << cols << ", seed " << seed);
            std::vector<uint32_t> table(n_groups * AGM_TL5_TABLE_STRIDE, 0x5A5A5A5Au);
            sets[k].tl5_table_x2(pa.data(), pb.data(), n_groups, table.data());
            CHECK(table == want_table);
            // a variant that does not read the tables gets none (the session
            // builds none for it): garbage in their place
            if (!sets[k].tl5x2_reads_tables) std::fill(table.begin(), table.end(), 0x5A5A5A5Au);
            std::vector<int32_t> got_a(n_quads * 4, 0x5A5A5A5A), got_b(n_quads * 4, 0x5A5A5A5A);
            sets[k].tmatvec_tl5_i8x2(packed.data(), n_quads, n_groups, pa.data(), pb.data(), table.data(),
                                     got_a.data(), got_b.data());
            got_a.resize(rows);
            got_b.resize(rows);
            CHECK(got_a == want_a);
            CHECK(got_b == want_b);
        }
    }
}

TEST_CASE("tmatvec_tl5_i8_shared: matrices that read one vector, each equals the oracle") {
    const uint64_t seed = agm_test::test_seed();
    std::mt19937_64 rng(seed ^ 0x7153);
    size_t n_sets;
    const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
    int checked = 0;
    for (int iter = 0; iter < 60; ++iter) {
        const uint32_t n_mats = 1 + (uint32_t)(rng() % 3);
        const uint32_t cols = iter % 4 == 0 ? 80 * (1 + (uint32_t)(rng() % 8)) : 1 + (uint32_t)(rng() % 1400);
        std::vector<int8_t> q(cols);
        for (auto& v : q) v = (int8_t)((int)(rng() % 255) - 127);
        const uint32_t n_groups = agm::tl5_quad_words(AGM_TYPE_TL5_R4, cols);
        std::vector<int8_t> qp(n_groups * 5, 0);
        std::memcpy(qp.data(), q.data(), cols);
        std::vector<std::vector<uint8_t>> packed(n_mats);
        std::vector<std::vector<int32_t>> want(n_mats);
        std::vector<uint32_t> rows(n_mats), quads(n_mats);
        for (uint32_t m = 0; m < n_mats; ++m) {
            rows[m] = 1 + (uint32_t)(rng() % 37);
            quads[m] = (rows[m] + 3) / 4;
            std::vector<int8_t> w((size_t)rows[m] * cols);
            for (auto& v : w) v = (int8_t)((int)(rng() % 3) - 1);
            agm::Error err;
            REQUIRE(agm::pack_ternary(AGM_TYPE_TL5_R4, w.data(), rows[m], cols, &packed[m], &err));
            want[m] = oracle(Ternary{rows[m], cols, w, {}, 0, 0}, q);
        }
        for (size_t k = 0; k < n_sets; ++k) {
            if (!agm::kernel_set_runs(sets[k]) || sets[k].tmatvec_tl5_i8_shared == nullptr) continue;
            INFO("variant " << sets[k].name << ", " << n_mats << " matrices, cols " << cols << ", seed " << seed);
            std::vector<std::vector<int32_t>> got(n_mats);
            std::vector<const uint8_t*> wp(n_mats);
            std::vector<int32_t*> accp(n_mats);
            for (uint32_t m = 0; m < n_mats; ++m) {
                got[m].assign(quads[m] * 4 + 1, 0x5A5A5A5A);
                wp[m] = packed[m].data();
                accp[m] = got[m].data();
            }
            sets[k].tmatvec_tl5_i8_shared(n_mats, wp.data(), quads.data(), n_groups, qp.data(), accp.data());
            for (uint32_t m = 0; m < n_mats; ++m) {
                CHECK(std::vector<int32_t>(got[m].begin(), got[m].begin() + rows[m]) == want[m]);
                for (uint32_t r = rows[m]; r < quads[m] * 4; ++r) CHECK(got[m][r] == 0);
                CHECK(got[m][quads[m] * 4] == 0x5A5A5A5A);
            }
            ++checked;
        }
    }
#if defined(__ARM_FEATURE_SIMD32) && !defined(__thumb__)
    CHECK(checked == 60);  // the ARMv6 set has it
#else
    CHECK(checked == 0);
#endif
}

TEST_CASE("tmatvec_tl5_i8: random shapes, every variant equals the oracle") {
    const uint64_t seed = agm_test::test_seed();
    std::mt19937_64 rng(seed ^ 0x715);
    for (int iter = 0; iter < 200; ++iter) {
        const uint32_t rows = 1 + (uint32_t)(rng() % 37);
        // some wider than a tile of the AVX2 variant (512 groups: 2560 columns)
        const uint32_t cols = iter % 7 == 0    ? 80 * (1 + (uint32_t)(rng() % 4))
                              : iter % 17 == 5 ? 2500 + (uint32_t)(rng() % 2700)
                                               : 1 + (uint32_t)(rng() % 700);
        std::vector<int8_t> w((size_t)rows * cols), q(cols);
        for (auto& v : w) v = (int8_t)((int)(rng() % 3) - 1);
        for (auto& v : q) v = (int8_t)((int)(rng() % 255) - 127);
        check_tl5(rows, cols, w, q, "random", seed);
    }
}

TEST_CASE("tmatvec_tl5_i8: edge cases") {
    const uint64_t seed = agm_test::test_seed();
    struct Shape { uint32_t rows, cols; };
    for (Shape s : {Shape{1, 1}, Shape{4, 5}, Shape{5, 81}, Shape{3, 1024}, Shape{9, 2816}, Shape{2, 8193}}) {
        for (int w_kind = 0; w_kind < 3; ++w_kind) {
            for (int q_kind = 0; q_kind < 3; ++q_kind) {
                std::vector<int8_t> w((size_t)s.rows * s.cols), q(s.cols);
                for (size_t i = 0; i < w.size(); ++i) w[i] = (int8_t)(w_kind == 0 ? -1 : w_kind == 1 ? 1 : (int)(i % 3) - 1);
                for (size_t i = 0; i < q.size(); ++i) q[i] = (int8_t)(q_kind == 0 ? 127 : q_kind == 1 ? -127 : (i % 2 ? 127 : -127));
                check_tl5(s.rows, s.cols, w, q, "edge", seed);
            }
        }
    }
}

TEST_CASE("tmatvec_tl5_i8: tile boundaries, few groups, unaligned buffers") {
    // The ARMv6 product runs 16-group tiles, the partial tile first; its
    // table builder stores words and falls back for a 2-byte-aligned table.
    const uint64_t seed = agm_test::test_seed();
    std::mt19937_64 rng(seed ^ 0x7116);
    const uint32_t group_counts[] = {1, 2, 3, 4, 5, 12, 13, 15, 16, 17, 31, 32, 33, 48, 49, 64};
    const uint32_t row_counts[] = {1, 4, 5, 8, 11, 16};
    for (uint32_t n_groups : group_counts) {
        for (uint32_t rows : row_counts) {
            for (uint32_t cols : {5 * n_groups, 5 * n_groups - 3}) {
                if (cols == 0) continue;
                std::vector<int8_t> w((size_t)rows * cols), q(cols);
                for (auto& v : w) v = (int8_t)((int)(rng() % 3) - 1);
                for (auto& v : q) v = (int8_t)((int)(rng() % 255) - 127);
                Offsets off;
                off.w_bytes = (uint32_t)(rng() % 2) * 4;
                off.table_entries = (uint32_t)(rng() % 3);
                off.acc_entries = (uint32_t)(rng() % 2);
                check_tl5(rows, cols, w, q, "tiles", seed, off);
            }
        }
        // The largest sums a table entry, a tile and a row reach: every
        // weight +1 or -1 against activations of +127 or -127.
        for (int sign = 0; sign < 4; ++sign) {
            const uint32_t rows = 9, cols = 5 * n_groups;
            std::vector<int8_t> w((size_t)rows * cols, (int8_t)(sign & 1 ? -1 : 1)), q(cols, (int8_t)(sign & 2 ? -127 : 127));
            Offsets off;
            off.w_bytes = 4;
            off.table_entries = 2;
            off.acc_entries = 1;
            check_tl5(rows, cols, w, q, "extreme", seed, off);
        }
    }
}

TEST_CASE("ternary packings round-trip through unpack") {
    std::mt19937_64 rng(agm_test::test_seed());
    for (uint32_t type : {(uint32_t)AGM_TYPE_T2_B128, (uint32_t)AGM_TYPE_TL5_R4}) {
        for (int iter = 0; iter < 20; ++iter) {
            const uint32_t rows = 1 + (uint32_t)(rng() % 9), cols = 1 + (uint32_t)(rng() % 300);
            std::vector<int8_t> w((size_t)rows * cols), back(w.size(), 9);
            for (auto& v : w) v = (int8_t)((int)(rng() % 3) - 1);
            std::vector<uint8_t> packed;
            agm::Error err;
            REQUIRE(agm::pack_ternary(type, w.data(), rows, cols, &packed, &err));
            REQUIRE(agm::unpack_ternary(type, packed.data(), rows, cols, back.data()));
            CHECK(back == w);
        }
    }
    std::vector<int8_t> bad{0, 2};
    std::vector<uint8_t> packed;
    agm::Error err;
    CHECK_FALSE(agm::pack_ternary(AGM_TYPE_TL5_R4, bad.data(), 1, 2, &packed, &err));
    CHECK(std::string(err.msg) == "weight at row 0, column 1 is 2, not -1, 0 or 1");
}

// ---- AGM_TYPE_Q4_B32 ---------------------------------------------------------

namespace {

// Writes q4_b32 rows by the format's definition (format.h), independently of
// the quantiser: d, block scales s and codes u given directly.
struct Q4 {
    uint32_t rows, cols, nb;
    size_t stride;
    std::vector<uint8_t> bytes;
    std::vector<int32_t> u;  // [rows][nb * 32], 8 past cols
    std::vector<uint8_t> s;  // [rows][nb]
};

Q4 make_q4(uint32_t rows, uint32_t cols, std::mt19937_64& rng, int kind) {
    Q4 t{rows, cols, (cols + 31) / 32, 0, {}, {}, {}};
    t.stride = 4 + (t.nb + 3) / 4 * 4 + 16 * (size_t)t.nb;
    t.bytes.assign(t.stride * rows, 0);
    t.u.assign((size_t)rows * t.nb * 32, 8);
    t.s.assign((size_t)rows * t.nb, 0);
    for (uint32_t r = 0; r < rows; ++r) {
        uint8_t* row = t.bytes.data() + r * t.stride;
        const float d = 0.01f * (float)(r + 1);
        std::memcpy(row, &d, 4);
        for (uint32_t b = 0; b < t.nb; ++b) {
            const uint8_t s = kind == 0 ? (uint8_t)(rng() % 256) : 255;
            t.s[(size_t)r * t.nb + b] = s;
            row[4 + b] = s;
        }
        uint8_t* codes = row + 4 + (t.nb + 3) / 4 * 4;
        for (uint32_t i = 0; i < t.nb * 32; ++i) {
            int32_t u = 8;
            if (i < cols) u = kind == 0 ? (int32_t)(rng() % 16) : kind == 1 ? 0 : 15;
            t.u[(size_t)r * t.nb * 32 + i] = u;
            const uint32_t b = i / 32, j = (i % 32) / 8, p = i % 8;
            codes[16 * b + 4 * j + p / 2] |= (uint8_t)(u << (4 * (p % 2)));
        }
    }
    return t;
}

void check_q4(const Q4& t, const std::vector<int8_t>& q_in, const char* what, uint64_t seed) {
    std::vector<int8_t> q(t.nb * 32, 0);
    std::memcpy(q.data(), q_in.data(), t.cols);
    std::vector<int32_t> want(t.rows);
    for (uint32_t r = 0; r < t.rows; ++r) {
        int64_t total = 0;
        for (uint32_t b = 0; b < t.nb; ++b) {
            int64_t blk = 0;
            for (uint32_t i = 0; i < 32; ++i)
                blk += (int64_t)(t.u[(size_t)r * t.nb * 32 + b * 32 + i] - 8) * q[b * 32 + i];
            total += t.s[(size_t)r * t.nb + b] * blk;
        }
        REQUIRE(total == (int32_t)total);
        want[r] = (int32_t)total;
    }
    std::vector<uint32_t> pairs(t.nb * agm::kQ4PairWords + agm::kQ4PairPad, 0xA5A5A5A5u);
    agm::q4_pairs(q.data(), t.nb, pairs.data());
    size_t n_sets;
    const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
    for (size_t k = 0; k < n_sets; ++k) {
        if (!agm::kernel_set_runs(sets[k])) continue;  // this CPU lacks its instructions
        INFO("variant " << sets[k].name << ", " << what << ", rows " << t.rows << ", cols " << t.cols
             << ", seed " << seed);
        std::vector<int32_t> got(t.rows, 0x5A5A5A5A);
        sets[k].matvec_q4_i8(t.bytes.data(), t.stride, t.rows, t.nb, q.data(), pairs.data(), got.data());
        CHECK(got == want);
    }
}

}  // namespace

TEST_CASE("matvec_q4_i8: random shapes, every variant equals the oracle") {
    const uint64_t seed = agm_test::test_seed();
    std::mt19937_64 rng(seed ^ 0x94);
    for (int iter = 0; iter < 200; ++iter) {
        const uint32_t rows = 1 + (uint32_t)(rng() % 37);
        // some wider than a tile of the AVX2 variant (64 blocks)
        const uint32_t cols = iter % 5 == 0    ? 32 * (1 + (uint32_t)(rng() % 32))
                              : iter % 13 == 7 ? 2000 + (uint32_t)(rng() % 3000)
                                               : 1 + (uint32_t)(rng() % 1100);
        Q4 t = make_q4(rows, cols, rng, 0);
        std::vector<int8_t> q(cols);
        for (auto& v : q) v = (int8_t)((int)(rng() % 255) - 127);
        check_q4(t, q, "random", seed);
    }
}

TEST_CASE("matvec_q4_i8: extreme codes, scales and activations") {
    const uint64_t seed = agm_test::test_seed();
    std::mt19937_64 rng(seed);
    // The largest sums the format allows: every block scale 255, every code
    // 0 (-8) or 15 (+7), activations +-127, up to 8192 columns.
    for (uint32_t cols : {1u, 31u, 33u, 1024u, 8192u}) {
        for (int kind = 1; kind <= 2; ++kind) {
            for (int q_kind = 0; q_kind < 3; ++q_kind) {
                Q4 t = make_q4(3, cols, rng, kind);
                std::vector<int8_t> q(cols);
                for (size_t i = 0; i < q.size(); ++i)
                    q[i] = (int8_t)(q_kind == 0 ? 127 : q_kind == 1 ? -127 : (i % 2 ? 127 : -127));
                check_q4(t, q, "extreme", seed);
            }
        }
    }
}

TEST_CASE("quantize_q4_b32: layout, error bound, zero rows, refusals") {
    std::mt19937_64 rng(agm_test::test_seed());
    std::normal_distribution<float> nd(0.0f, 0.05f);
    for (uint32_t cols : {1u, 32u, 45u, 256u, 1000u}) {
        const uint32_t rows = 7;
        std::vector<float> x((size_t)rows * cols);
        for (auto& v : x) v = nd(rng);
        for (uint32_t i = 0; i < cols; ++i) x[i] = 0.0f;  // row 0: all zero
        if (cols > 40) x[(size_t)cols + 40] = 3.0f;     // row 1: an outlier in block 1
        std::vector<uint8_t> q;
        agm::Error err;
        REQUIRE(agm::quantize_q4_b32(x.data(), rows, cols, &q, &err));
        uint64_t bytes = 0;
        const uint32_t shape[2] = {rows, cols};
        REQUIRE(agm::tensor_bytes(AGM_TYPE_Q4_B32, shape, 2, &bytes));
        CHECK(q.size() == bytes);
        std::vector<float> back(cols);
        for (uint32_t r = 0; r < rows; ++r) {
            agm::dequantize_q4_b32_row(q.data(), cols, r, back.data());
            for (uint32_t b = 0; b * 32 < cols; ++b) {
                float m = 0.0f;
                for (uint32_t i = b * 32; i < cols && i < b * 32 + 32; ++i) m = std::fmax(m, std::fabs(x[(size_t)r * cols + i]));
                // a level is max/(7 + k/8), k = -4..8: half a level of
                // the coarsest (m/13) or, where the largest values clamp
                // at 7 levels of the finest, m/8; the 8-bit block scale
                // moves a level by at most d/2, so a value by 8 * d/2
                float d;
                std::memcpy(&d, q.data() + (size_t)r * (bytes / rows), 4);
                const float bound = m / 8.0f + 4.0f * d + 1e-7f;
                for (uint32_t i = b * 32; i < cols && i < b * 32 + 32; ++i) {
                    INFO("cols " << cols << " row " << r << " col " << i);
                    CHECK(std::fabs(back[i] - x[(size_t)r * cols + i]) <= bound);
                }
            }
        }
    }
    std::vector<float> bad(64, 0.5f);
    bad[37] = NAN;
    std::vector<uint8_t> q;
    agm::Error err;
    CHECK_FALSE(agm::quantize_q4_b32(bad.data(), 2, 32, &q, &err));
    CHECK(std::string(err.msg) == "row 1, column 5: value nan is not a finite number");
}

// ---- attention over an f32 cache -----------------------------------------------

TEST_CASE("attention kernels: every variant bit-identical to the reference's loops") {
    const uint64_t seed = agm_test::test_seed();
    std::mt19937_64 rng(seed ^ 0xA77);
    std::uniform_real_distribution<float> d(-3.0f, 3.0f);
    for (int iter = 0; iter < 300; ++iter) {
        const uint32_t n = iter % 3 == 0 ? 8 * (1 + (uint32_t)(rng() % 16)) : 1 + (uint32_t)(rng() % 130);
        const uint32_t n_pos = 1 + (uint32_t)(rng() % 70);
        const size_t stride = n + (size_t)(rng() % 3) * 4;
        std::vector<float> q(n), k(stride * n_pos), v(stride * n_pos), att(n_pos);
        for (auto& x : q) x = d(rng);
        for (auto& x : k) x = d(rng);
        for (auto& x : v) x = d(rng);
        for (auto& x : att) x = d(rng) * 0.3f;
        const float root = sqrtf((float)n);
        // the oracle: the reference forward pass's loops, volatile so that
        // each product is rounded and added in order
        std::vector<float> want_s(n_pos), want_o(n, 0.0f);
        for (uint32_t t = 0; t < n_pos; ++t) {
            volatile float s = 0.0f;
            for (uint32_t i = 0; i < n; ++i) s = s + q[i] * k[t * stride + i];
            want_s[t] = s / root;
        }
        for (uint32_t t = 0; t < n_pos; ++t)
            for (uint32_t i = 0; i < n; ++i) {
                volatile float o = want_o[i];
                o = o + att[t] * v[t * stride + i];
                want_o[i] = o;
            }
        size_t n_sets;
        const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
        for (size_t ks = 0; ks < n_sets; ++ks) {
            if (!agm::kernel_set_runs(sets[ks])) continue;
            INFO("variant " << sets[ks].name << ", n " << n << ", positions " << n_pos << ", stride " << stride
                 << ", seed " << seed);
            std::vector<float> got_s(n_pos, 7.0f), got_o(n, 7.0f);
            sets[ks].attn_scores_f32(q.data(), k.data(), stride, n_pos, n, root, got_s.data());
            sets[ks].attn_values_f32(att.data(), v.data(), stride, n_pos, n, got_o.data());
            CHECK(std::memcmp(got_s.data(), want_s.data(), n_pos * sizeof(float)) == 0);
            CHECK(std::memcmp(got_o.data(), want_o.data(), n * sizeof(float)) == 0);
        }
    }
}

TEST_CASE("quantize_tl5_r4s: per-row absmean ternary, the scales after the tl5_r4 bytes") {
    std::mt19937_64 rng(agm_test::test_seed());
    std::normal_distribution<float> nd(0.0f, 0.05f);
    for (uint32_t rows : {1u, 4u, 7u}) {
        for (uint32_t cols : {1u, 5u, 33u, 256u}) {
            std::vector<float> x((size_t)rows * cols);
            for (auto& v : x) v = nd(rng);
            for (uint32_t c = 0; c < cols; ++c) x[c] = 0.0f;  // row 0: all zero
            std::vector<uint8_t> q;
            agm::Error err;
            REQUIRE(agm::quantize_tl5_r4s(x.data(), rows, cols, &q, &err));
            uint64_t bytes = 0;
            const uint32_t shape[2] = {rows, cols};
            REQUIRE(agm::tensor_bytes(AGM_TYPE_TL5_R4S, shape, 2, &bytes));
            CHECK(q.size() == bytes);
            std::vector<float> back(cols);
            for (uint32_t r = 0; r < rows; ++r) {
                double sum = 0;
                for (uint32_t c = 0; c < cols; ++c) sum += std::fabs((double)x[(size_t)r * cols + c]);
                const float s = (float)(sum / cols);
                agm::dequantize_tl5_r4s_row(q.data(), rows, cols, agm::tl5_quad_words(AGM_TYPE_TL5_R4S, cols), r,
                                            back.data());
                for (uint32_t c = 0; c < cols; ++c) {
                    const float v = x[(size_t)r * cols + c];
                    const float w = s > 0.0f ? std::fmax(-1.0f, std::fmin(1.0f, std::round(v / s))) : 0.0f;
                    INFO("rows " << rows << " cols " << cols << " r " << r << " c " << c);
                    CHECK(back[c] == w * s);
                }
            }
        }
    }
    std::vector<float> bad(10, 0.5f);
    bad[7] = INFINITY;
    std::vector<uint8_t> q;
    agm::Error err;
    CHECK_FALSE(agm::quantize_tl5_r4s(bad.data(), 2, 5, &q, &err));
    CHECK(std::string(err.msg) == "row 1, column 2: value inf is not a finite number");
}
