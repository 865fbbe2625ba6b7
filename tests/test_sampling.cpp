// The sampling controls of agmodel.h (logit bias, repetition / presence /
// frequency penalties over a window, min-p) and stop strings: values checked
// against hand-computed ones, the masked sampler against the unmasked one
// with -infinity outside the mask, stop strings against a brute-force search.
#include "doctest.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "agmodel.h"
#include "sampler.h"

namespace {

struct Sampler {
    agm_sampler s;
    explicit Sampler(const agm_sampler_params& p) { agm_sampler_init(&s, &p); }
};

agm_sampler_params defaults() {
    agm_sampler_params p;
    agm_sampler_params_default(&p);
    return p;
}

int32_t greedy(const agm_sampler_params& p, const std::vector<float>& logits, const std::vector<int32_t>& history) {
    Sampler smp(p);
    for (int32_t t : history) agm_sampler_accept(&smp.s, t);
    std::vector<uint8_t> scratch(agm::sampler_scratch_bytes((uint32_t)logits.size()));
    return agm::sample(&smp.s, logits.data(), (uint32_t)logits.size(), scratch.data());
}

}  // namespace

TEST_CASE("sampling: the defaults leave the logits alone") {
    const agm_sampler_params p = defaults();
    CHECK(p.min_p == 0.0f);
    CHECK(p.repeat_penalty == 1.0f);
    CHECK(p.presence_penalty == 0.0f);
    CHECK(p.frequency_penalty == 0.0f);
    CHECK(p.repeat_last_n == 64);
    CHECK(p.n_logit_bias == 0);
    agm_error e;
    CHECK(agm_sampler_params_check(&p, &e) == AGM_OK);
    // A repeated token stays the greedy choice: nothing penalises it.
    CHECK(greedy(p, {0.0f, 3.0f, 2.9f}, {1, 1, 1, 1}) == 1);
}

TEST_CASE("sampling: penalties have llama.cpp's values (greedy flips exactly at them)") {
    // History: token 1 three times, token 2 once; window of 64.
    const std::vector<int32_t> hist = {1, 2, 1, 1};
    agm_sampler_params p = defaults();
    p.repeat_penalty = 2.0f;
    // A positive logit is divided: 3.0 -> 1.5. A rival at 1.49 loses, at 1.51 wins.
    CHECK(greedy(p, {0.0f, 3.0f, 1.49f}, {1}) == 1);
    CHECK(greedy(p, {0.0f, 3.0f, 1.51f}, {1}) == 2);
    // A negative logit is multiplied: -1.0 -> -2.0.
    CHECK(greedy(p, {-1.99f, -1.0f, -5.0f}, {1}) == 0);
    CHECK(greedy(p, {-2.01f, -1.0f, -5.0f}, {1}) == 1);
    // Frequency counts occurrences in the window, presence does not:
    // token 1 (seen 3 times): 4.0 - 3 * 0.5 - 0.25 = 2.25.
    p = defaults();
    p.frequency_penalty = 0.5f;
    p.presence_penalty = 0.25f;
    CHECK(greedy(p, {2.24f, 4.0f, -9.0f, -9.0f}, hist) == 1);
    CHECK(greedy(p, {2.26f, 4.0f, -9.0f, -9.0f}, hist) == 0);
    // Token 2 (seen once): 3.0 - 0.5 - 0.25 = 2.25.
    CHECK(greedy(p, {2.24f, -9.0f, 3.0f, -9.0f}, hist) == 2);
    CHECK(greedy(p, {2.26f, -9.0f, 3.0f, -9.0f}, hist) == 0);
    // All three: (6 / 2) - 3 * 0.5 - 0.25 = 1.25.
    p.repeat_penalty = 2.0f;
    CHECK(greedy(p, {1.24f, 6.0f, -9.0f, -9.0f}, hist) == 1);
    CHECK(greedy(p, {1.26f, 6.0f, -9.0f, -9.0f}, hist) == 0);
    // Negative penalties reward repeats (llama.cpp allows them).
    p = defaults();
    p.presence_penalty = -1.0f;
    CHECK(greedy(p, {2.0f, 1.5f}, {1}) == 1);
}

TEST_CASE("sampling: the penalty window is the last repeat_last_n tokens; the ring keeps 256") {
    agm_sampler_params p = defaults();
    p.presence_penalty = 10.0f;
    p.repeat_last_n = 2;
    // Token 1 is three back: outside a window of 2, inside one of 3.
    CHECK(greedy(p, {0.0f, 1.0f, -9.0f, -9.0f}, {1, 2, 3}) == 1);
    p.repeat_last_n = 3;
    CHECK(greedy(p, {0.0f, 1.0f, -9.0f, -9.0f}, {1, 2, 3}) == 0);
    p.repeat_last_n = 0;  // no window: off
    CHECK(greedy(p, {0.0f, 1.0f, -9.0f, -9.0f}, {1, 1, 1}) == 1);

    // The ring: token 1, then 256 others; 1 has left it.
    p.repeat_last_n = AGM_SAMPLER_MAX_LAST_N;
    std::vector<int32_t> hist = {1};
    for (int i = 0; i < AGM_SAMPLER_MAX_LAST_N; ++i) hist.push_back(2 + i % 3);
    CHECK(greedy(p, {0.0f, 1.0f, -9.0f, -9.0f, -9.0f}, hist) == 1);
    hist.erase(hist.begin() + 1);  // 255 others: 1 is still in
    CHECK(greedy(p, {0.0f, 1.0f, -9.0f, -9.0f, -9.0f}, hist) == 0);

    Sampler smp(p);
    for (int i = 0; i < 300; ++i) agm_sampler_accept(&smp.s, i);
    CHECK(smp.s.history_len == AGM_SAMPLER_MAX_LAST_N);
    CHECK(smp.s.history[(smp.s.history_pos + AGM_SAMPLER_MAX_LAST_N - 1) % AGM_SAMPLER_MAX_LAST_N] == 299);
    CHECK(smp.s.history[smp.s.history_pos] == 300 - AGM_SAMPLER_MAX_LAST_N);  // the oldest kept

    // The sample calls record what they return.
    Sampler fresh(defaults());
    const std::vector<float> logits = {0.0f, 0.5f, 2.0f};
    std::vector<uint8_t> scratch(agm::sampler_scratch_bytes(3));
    CHECK(agm::sample(&fresh.s, logits.data(), 3, scratch.data()) == 2);
    CHECK(fresh.s.history_len == 1);
    CHECK(fresh.s.history[0] == 2);
    const uint32_t mask = 0x3;  // tokens 0 and 1
    CHECK(agm::sample_masked(&fresh.s, logits.data(), 3, &mask, scratch.data()) == 1);
    CHECK(fresh.s.history_len == 2);
    CHECK(fresh.s.history[1] == 1);
    const uint32_t none = 0;
    CHECK(agm::sample_masked(&fresh.s, logits.data(), 3, &none, scratch.data()) == -1);
    CHECK(fresh.s.history_len == 2);  // nothing picked, nothing recorded
}

TEST_CASE("sampling: logit bias adds, -infinity bans, ids outside the vocabulary are ignored") {
    agm_sampler_params p = defaults();
    p.n_logit_bias = 3;
    p.logit_bias[0] = {2, -INFINITY};
    p.logit_bias[1] = {0, 0.75f};
    p.logit_bias[2] = {99, 50.0f};  // not a token of this vocabulary
    // Token 2 would win; banned. Token 0: 1.0 + 0.75 = 1.75 against 1.74 / 1.76.
    CHECK(greedy(p, {1.0f, 1.74f, 5.0f}, {}) == 0);
    CHECK(greedy(p, {1.0f, 1.76f, 5.0f}, {}) == 1);
    // A banned token is never sampled, whatever the temperature.
    p.temperature = 2.0f;
    Sampler smp(p);
    std::vector<uint8_t> scratch(agm::sampler_scratch_bytes(3));
    const std::vector<float> logits = {1.0f, 1.0f, 3.0f};
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < 2000; ++i) counts[agm::sample(&smp.s, logits.data(), 3, scratch.data())]++;
    CHECK(counts[2] == 0);
    CHECK(counts[0] > 0);
    CHECK(counts[1] > 0);
}

TEST_CASE("sampling: min-p cuts relative to the most likely token, before the temperature") {
    // p ratios to the best: 1, 0.5, 0.1.
    const std::vector<float> logits = {0.0f, std::log(0.5f), std::log(0.1f)};
    std::vector<uint8_t> scratch(agm::sampler_scratch_bytes(3));
    for (float temp : {1.0f, 5.0f}) {
        // At temperature 5 token 2's tempered ratio is 0.1^(1/5) = 0.63: it
        // would pass a cut of 0.2 made after the temperature. It must not.
        agm_sampler_params p = defaults();
        p.temperature = temp;
        p.min_p = 0.2f;
        p.seed = 11;
        Sampler smp(p);
        int counts[3] = {0, 0, 0};
        for (int i = 0; i < 3000; ++i) counts[agm::sample(&smp.s, logits.data(), 3, scratch.data())]++;
        CAPTURE(temp);
        CHECK(counts[2] == 0);
        CHECK(counts[1] > 300);
        CHECK(counts[0] > 300);
        // Without min-p token 2 shows up.
        p.min_p = 0.0f;
        Sampler off(p);
        int c2 = 0;
        for (int i = 0; i < 3000; ++i) c2 += agm::sample(&off.s, logits.data(), 3, scratch.data()) == 2;
        CHECK(c2 > 50);
    }
    // min_p 1 keeps only the best (ties included).
    agm_sampler_params p = defaults();
    p.temperature = 1.0f;
    p.min_p = 1.0f;
    Sampler smp(p);
    for (int i = 0; i < 200; ++i) CHECK(agm::sample(&smp.s, logits.data(), 3, scratch.data()) == 0);
}

TEST_CASE("sampling: masked equals unmasked with -infinity outside the mask, with every control") {
    // Random logits (with ties), random masks of every density, histories
    // holding allowed and disallowed tokens, biases on both; the disallowed
    // logits are NaN in the masked call (read, they would change the result).
    const uint32_t n = 301;
    std::mt19937 rng(1234);
    std::uniform_real_distribution<float> u(-4.0f, 4.0f);
    std::vector<uint8_t> scratch_a(agm::sampler_scratch_bytes(n)), scratch_b(agm::sampler_scratch_bytes(n));
    long steps = 0, differing_from_plain = 0, all_banned = 0;
    const float temps[] = {0.0f, 0.7f, 1.5f};
    const float densities[] = {0.004f, 0.05f, 0.5f, 1.0f};
    for (int trial = 0; trial < 96; ++trial) {
        agm_sampler_params p = defaults();
        p.temperature = temps[trial % 3];
        p.top_k = trial % 2 ? 0 : 5;
        p.top_p = trial % 4 < 2 ? 1.0f : 0.9f;
        p.min_p = trial % 8 < 4 ? 0.0f : 0.05f;
        p.repeat_penalty = trial % 16 < 8 ? 1.0f : 1.3f;
        p.presence_penalty = trial % 32 < 16 ? 0.0f : 0.5f;
        p.frequency_penalty = trial % 3 == 1 ? 0.3f : 0.0f;
        p.repeat_last_n = 16 + (uint32_t)(trial % 5) * 40;
        p.seed = 100 + (uint64_t)trial;
        p.n_logit_bias = (uint32_t)(trial % 4) * 2;
        for (uint32_t i = 0; i < p.n_logit_bias; ++i)
            p.logit_bias[i] = {(int32_t)(rng() % n), i == 0 ? -INFINITY : u(rng)};
        agm_error e;
        REQUIRE(agm_sampler_params_check(&p, &e) == AGM_OK);
        Sampler a(p), b(p), plain(p);
        for (int h = 0; h < 40; ++h) {
            const int32_t t = (int32_t)(rng() % n);
            agm_sampler_accept(&a.s, t);
            agm_sampler_accept(&b.s, t);
            agm_sampler_accept(&plain.s, t);
        }
        const float density = densities[(trial / 3) % 4];
        for (int step = 0; step < 25; ++step) {
            std::vector<float> logits(n);
            for (uint32_t i = 0; i < n; ++i) logits[i] = std::round(u(rng) * 4.0f) / 4.0f;  // ties
            std::vector<uint32_t> mask((n + 31) / 32, 0);
            std::uniform_real_distribution<float> coin(0.0f, 1.0f);
            for (uint32_t i = 0; i < n; ++i)
                if (coin(rng) < density) mask[i >> 5] |= 1u << (i & 31);
            mask[(rng() % n) >> 5] |= 1u;  // never empty (token 0 of some word)
            std::vector<float> inf = logits, nan = logits;
            for (uint32_t i = 0; i < n; ++i)
                if (!((mask[i >> 5] >> (i & 31)) & 1)) {
                    inf[i] = -INFINITY;
                    nan[i] = std::nanf("");
                }
            // Every allowed token banned by a bias: the masked sampler says so.
            bool banned_all = true;
            for (uint32_t i = 0; i < n && banned_all; ++i) {
                if (!((mask[i >> 5] >> (i & 31)) & 1)) continue;
                bool banned = false;
                for (uint32_t j = 0; j < p.n_logit_bias; ++j)
                    banned = banned || (p.logit_bias[j].token == (int32_t)i && p.logit_bias[j].bias == -INFINITY);
                banned_all = banned;
            }
            if (banned_all) {
                const uint64_t before = b.s.rng_state;
                CHECK(agm::sample_masked(&b.s, nan.data(), n, mask.data(), scratch_b.data()) == -2);
                CHECK(b.s.rng_state == before);
                ++all_banned;
                continue;
            }
            const int32_t ta = agm::sample(&a.s, inf.data(), n, scratch_a.data());
            const int32_t tb = agm::sample_masked(&b.s, nan.data(), n, mask.data(), scratch_b.data());
            const int32_t tp = agm::sample(&plain.s, logits.data(), n, scratch_a.data());
            CAPTURE(trial);
            CAPTURE(step);
            REQUIRE(ta == tb);
            REQUIRE(((mask[ta >> 5] >> (ta & 31)) & 1) == 1u);
            CHECK(a.s.rng_state == b.s.rng_state);
            differing_from_plain += tp != ta;
            ++steps;
        }
    }
    MESSAGE("masked vs unmasked-with--inf: " << steps << " steps equal; " << differing_from_plain
                                              << " differ from the unrestricted choice; " << all_banned
                                              << " with every allowed token banned (refused)");
    CHECK(steps + all_banned == 96 * 25);
    CHECK(all_banned > 0);
    CHECK(differing_from_plain > 100);  // the masks did restrict
}

TEST_CASE("sampling: agm_sampler_params_check names the bad value") {
    struct Bad {
        void (*set)(agm_sampler_params*);
        const char* words;
    };
    const Bad bad[] = {
        {[](agm_sampler_params* p) { p->temperature = -1.0f; }, "temperature"},
        {[](agm_sampler_params* p) { p->temperature = NAN; }, "temperature"},
        {[](agm_sampler_params* p) { p->top_p = INFINITY; }, "top_p"},
        {[](agm_sampler_params* p) { p->min_p = 1.5f; }, "min_p"},
        {[](agm_sampler_params* p) { p->min_p = -0.1f; }, "min_p"},
        {[](agm_sampler_params* p) { p->repeat_penalty = 0.0f; }, "repeat_penalty"},
        {[](agm_sampler_params* p) { p->repeat_penalty = NAN; }, "repeat_penalty"},
        {[](agm_sampler_params* p) { p->presence_penalty = INFINITY; }, "presence"},
        {[](agm_sampler_params* p) { p->frequency_penalty = NAN; }, "frequency"},
        {[](agm_sampler_params* p) { p->repeat_last_n = 257; }, "repeat_last_n"},
        {[](agm_sampler_params* p) { p->n_logit_bias = 17; }, "logit biases"},
        {[](agm_sampler_params* p) {
             p->n_logit_bias = 1;
             p->logit_bias[0] = {3, INFINITY};
         },
         "logit bias"},
        {[](agm_sampler_params* p) {
             p->n_logit_bias = 1;
             p->logit_bias[0] = {3, NAN};
         },
         "logit bias"},
    };
    for (const Bad& b : bad) {
        agm_sampler_params p = defaults();
        b.set(&p);
        agm_error e;
        e.message[0] = 0;
        CAPTURE(b.words);
        CHECK(agm_sampler_params_check(&p, &e) == AGM_ERR_ARGUMENT);
        CHECK(std::string(e.message).find(b.words) != std::string::npos);
    }
    agm_error e;
    CHECK(agm_sampler_params_check(nullptr, &e) == AGM_ERR_ARGUMENT);
    // The sampler itself survives unchecked values: counts clamped, bad controls off.
    agm_sampler_params p = defaults();
    p.repeat_last_n = 100000;
    p.n_logit_bias = 1000;
    p.min_p = NAN;
    p.repeat_penalty = -3.0f;
    p.presence_penalty = NAN;
    p.frequency_penalty = NAN;
    CHECK(greedy(p, {0.0f, 1.0f, 0.5f}, {1, 1}) == 1);
}

// ---- Stop strings ----------------------------------------------------------

namespace {

// What the user must see: the output up to the first stop string to be
// complete (of two complete at the same byte, the longer, which began first).
std::string expected_visible(const std::string& out, const std::vector<std::string>& stops, int* which) {
    *which = -1;
    for (size_t end = 1; end <= out.size(); ++end) {
        size_t best_len = 0;
        for (size_t i = 0; i < stops.size(); ++i) {
            const std::string& s = stops[i];
            if (s.size() <= end && out.compare(end - s.size(), s.size(), s) == 0 && s.size() > best_len) {
                best_len = s.size();
                *which = (int)i;
            }
        }
        if (best_len > 0) return out.substr(0, end - best_len);
    }
    return out;
}

// Feeds `out` in the given pieces; returns what came out (flushed at the end).
std::string run_stop(agm_stop* st, const std::string& out, const std::vector<size_t>& cuts) {
    std::string shown;
    char buf[256 + AGM_STOP_MAX_BYTES];
    size_t at = 0;
    agm_error e;
    for (size_t i = 0; i <= cuts.size(); ++i) {
        const size_t end = i < cuts.size() ? cuts[i] : out.size();
        size_t k = 0;
        REQUIRE(agm_stop_feed(st, out.data() + at, end - at, buf, sizeof buf, &k, &e) == AGM_OK);
        shown.append(buf, k);
        at = end;
    }
    shown.append(buf, agm_stop_flush(st, buf, sizeof buf));
    return shown;
}

agm_stop make_stop(const std::vector<std::string>& stops) {
    agm_stop st;
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const std::string& s : stops) {
        ptrs.push_back(s.data());
        lens.push_back(s.size());
    }
    agm_error e;
    REQUIRE(agm_stop_init(&st, ptrs.data(), lens.data(), stops.size(), &e) == AGM_OK);
    return st;
}

}  // namespace

TEST_CASE("stop strings: spans pieces, overlapping prefixes, never shown") {
    {
        agm_stop st = make_stop({"aab"});
        CHECK(run_stop(&st, "xaaaby", {1, 2, 3, 4, 5}) == "xa");
        CHECK(agm_stop_matched(&st) == 0);
    }
    {
        agm_stop st = make_stop({"User:"});
        CHECK(run_stop(&st, "Sure. Us", {3}) == "Sure. Us");  // held, then flushed: no match
        CHECK(agm_stop_matched(&st) == -1);
    }
    {
        // The held bytes come out as soon as they cannot start a stop string.
        agm_stop st = make_stop({"\n\n"});
        char buf[128];
        size_t k = 0;
        agm_error e;
        REQUIRE(agm_stop_feed(&st, "ab\n", 3, buf, sizeof buf, &k, &e) == AGM_OK);
        CHECK(std::string(buf, k) == "ab");
        REQUIRE(agm_stop_feed(&st, "c", 1, buf, sizeof buf, &k, &e) == AGM_OK);
        CHECK(std::string(buf, k) == "\nc");
        REQUIRE(agm_stop_feed(&st, "\n\nlater", 7, buf, sizeof buf, &k, &e) == AGM_OK);
        CHECK(k == 0);
        CHECK(agm_stop_matched(&st) == 0);
        REQUIRE(agm_stop_feed(&st, "more", 4, buf, sizeof buf, &k, &e) == AGM_OK);
        CHECK(k == 0);  // nothing after the stop
        CHECK(agm_stop_flush(&st, buf, sizeof buf) == 0);
    }
    {
        // Two complete at one byte: the longer began first; output ends before it.
        agm_stop st = make_stop({"c", "abc"});
        CHECK(run_stop(&st, "xxabcyy", {3}) == "xx");
        CHECK(agm_stop_matched(&st) == 1);
    }
    {
        // UTF-8 stop strings are bytes like any other; a multi-byte character
        // split across pieces is held whole.
        agm_stop st = make_stop({"\xc3\xa9t\xc3\xa9"});
        CHECK(run_stop(&st, "un \xc3\xa9t\xc3\xa9 chaud", {4, 5, 7}) == "un ");
    }
    {
        agm_stop st = make_stop({});
        CHECK(run_stop(&st, "anything at all", {2, 9}) == "anything at all");
    }
}

TEST_CASE("stop strings: equal to a brute-force search over random outputs and cuts") {
    std::mt19937 rng(99);
    long cases = 0, matched = 0;
    for (int trial = 0; trial < 4000; ++trial) {
        std::vector<std::string> stops(1 + rng() % AGM_STOP_MAX);
        for (std::string& s : stops) {
            s.resize(1 + rng() % 5);
            for (char& c : s) c = (char)('a' + rng() % 3);
        }
        std::string out(rng() % 40, ' ');
        for (char& c : out) c = (char)('a' + rng() % 3);
        std::vector<size_t> cuts;
        for (size_t i = 1; i < out.size(); ++i)
            if (rng() % 3 == 0) cuts.push_back(i);
        int which = -1;
        const std::string want = expected_visible(out, stops, &which);
        agm_stop st = make_stop(stops);
        const std::string got = run_stop(&st, out, cuts);
        CAPTURE(out);
        CAPTURE(stops.size());
        REQUIRE(got == want);
        if (which >= 0) REQUIRE(stops[(size_t)agm_stop_matched(&st)] == stops[(size_t)which]);
        else REQUIRE(agm_stop_matched(&st) == -1);
        ++cases;
        matched += which >= 0;
    }
    MESSAGE("stop strings: " << cases << " random outputs, " << matched << " with a stop string, all as brute force");
    CHECK(matched > 1000);
    CHECK(cases - matched > 300);
}

TEST_CASE("stop strings: bad arguments are refused with a reason") {
    agm_stop st;
    agm_error e;
    const char* nine[9] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    CHECK(agm_stop_init(&st, nine, nullptr, 9, &e) == AGM_ERR_ARGUMENT);
    CHECK(std::string(e.message).find("at most 8") != std::string::npos);
    const char* empty[1] = {""};
    CHECK(agm_stop_init(&st, empty, nullptr, 1, &e) == AGM_ERR_ARGUMENT);
    CHECK(std::string(e.message).find("1 to 64 bytes") != std::string::npos);
    const std::string long_one(65, 'x');
    const char* too_long[1] = {long_one.c_str()};
    CHECK(agm_stop_init(&st, too_long, nullptr, 1, &e) == AGM_ERR_ARGUMENT);
    const std::string max_one(64, 'x');
    const char* max[1] = {max_one.c_str()};
    CHECK(agm_stop_init(&st, max, nullptr, 1, &e) == AGM_OK);
    CHECK(agm_stop_init(nullptr, max, nullptr, 1, &e) == AGM_ERR_ARGUMENT);
    // Lengths given: embedded NUL bytes are part of the string.
    const char nul[3] = {'a', '\0', 'b'};
    const char* with_nul[1] = {nul};
    const size_t len3[1] = {3};
    REQUIRE(agm_stop_init(&st, with_nul, len3, 1, &e) == AGM_OK);
    char buf[128];
    size_t k = 99;
    // A small output buffer: AGM_ERR_BUFFER, nothing taken.
    CHECK(agm_stop_feed(&st, "xa", 2, buf, 2 + AGM_STOP_MAX_BYTES - 1, &k, &e) == AGM_ERR_BUFFER);
    CHECK(k == 0);
    CHECK(st.n_held == 0);
    REQUIRE(agm_stop_feed(&st, "xa", 2, buf, sizeof buf, &k, &e) == AGM_OK);
    CHECK(std::string(buf, k) == "x");
    const char rest[3] = {'\0', 'b', 'c'};
    REQUIRE(agm_stop_feed(&st, rest, 3, buf, sizeof buf, &k, &e) == AGM_OK);
    CHECK(k == 0);
    CHECK(agm_stop_matched(&st) == 0);
}
