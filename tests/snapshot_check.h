// Session-snapshot checks shared by the snapshot suite and the converter
// suites (GGUF and Hugging Face test models): a session fed a prefix, saved,
// loaded into a fresh session of the same and of a longer context and fed
// the rest must compute what a session that never stopped computes, bit for
// bit, for every KV type.
#ifndef AGM_TESTS_SNAPSHOT_CHECK_H
#define AGM_TESTS_SNAPSHOT_CHECK_H

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "agmodel.h"
#include "doctest.h"
#include "test_util.h"

namespace agm_test {

struct Sess {
    agm_session* s = nullptr;
    Sess(const agm_model* m, uint32_t kv, uint32_t n_ctx) {
        agm_session_options o;
        agm_session_options_default(&o);
        o.n_ctx = n_ctx;
        o.kv_type = kv;
        agm_error e;
        REQUIRE_MESSAGE(agm_session_create(m, &o, &s, &e) == AGM_OK, e.message);
    }
    ~Sess() { agm_session_free(s); }
    Sess(const Sess&) = delete;
    Sess& operator=(const Sess&) = delete;
};

inline void feed(agm_session* s, const std::vector<int32_t>& ids) {
    agm_error e;
    REQUIRE_MESSAGE(agm_session_feed(s, ids.data(), ids.size(), &e) == AGM_OK, e.message);
}

inline std::vector<uint8_t> save(agm_session* s) {
    std::vector<uint8_t> buf(agm_session_state_size(s));
    size_t written = 0;
    agm_error e;
    REQUIRE_MESSAGE(agm_session_save(s, buf.data(), buf.size(), &written, &e) == AGM_OK, e.message);
    REQUIRE(written == buf.size());
    return buf;
}

inline uint32_t vocab(const agm_model* m) {
    agm_model_info info;
    agm_model_get_info(m, &info);
    return info.vocab_size;
}

// n tokens from the session's state on: sampled at temperature 0.8 with a
// fixed seed, or greedy (temperature 0).
inline std::vector<int32_t> continue_with(agm_session* s, int n, float temperature = 0.8f) {
    agm_sampler_params so;
    agm_sampler_params_default(&so);
    so.temperature = temperature;
    so.seed = 7;
    agm_sampler sp;
    agm_sampler_init(&sp, &so);
    std::vector<int32_t> out;
    agm_error e;
    for (int i = 0; i < n; ++i) {
        int32_t t;
        REQUIRE(agm_session_sample(s, &sp, &t, &e) == AGM_OK);
        out.push_back(t);
        REQUIRE(agm_session_feed(s, &t, 1, &e) == AGM_OK);
    }
    return out;
}

inline bool same_logits(const agm_model* m, agm_session* a, agm_session* b) {
    const float* la = agm_session_logits(a);
    const float* lb = agm_session_logits(b);
    return la != nullptr && lb != nullptr && std::memcmp(la, lb, vocab(m) * sizeof(float)) == 0;
}

inline std::string kv_name(uint32_t kv) {
    static const char* names[] = {"f32", "f16", "q8"};
    return kv < 3 ? names[kv] : "?";
}

// For every KV type: feed prefix, save, load into a fresh session (of the
// same context, 64, and of the model's longest), feed rest; the logits, the next 24 greedy and the next 24
// seeded samples are those of a session that never stopped. Then the same
// for truncate-then-refeed: a session fed prefix+rest, truncated to the
// prefix and fed rest again.
inline void check_restore(const agm_model* m, const std::vector<int32_t>& prefix, const std::vector<int32_t>& rest) {
    REQUIRE(!prefix.empty());
    REQUIRE(!rest.empty());
    agm_model_info info;
    agm_model_get_info(m, &info);
    const uint32_t longest = info.max_seq_len;
    REQUIRE(longest > 64);
    for (uint32_t kv : {(uint32_t)AGM_KV_F32, (uint32_t)AGM_KV_F16, (uint32_t)AGM_KV_Q8}) {
        INFO("kv " << kv_name(kv));
        Sess ref(m, kv, 64);
        feed(ref.s, prefix);
        const std::vector<uint8_t> snap = save(ref.s);
        CHECK(std::memcmp(agm_session_tokens(ref.s), prefix.data(), prefix.size() * 4) == 0);
        feed(ref.s, rest);
        for (uint32_t n_ctx : {64u, longest}) {
            INFO("context " << n_ctx);
            Sess got(m, kv, n_ctx);
            agm_error e;
            REQUIRE_MESSAGE(agm_session_load(got.s, snap.data(), snap.size(), &e) == AGM_OK, e.message);
            CHECK(agm_session_position(got.s) == prefix.size());
            CHECK(agm_session_logits(got.s) == nullptr);  // no logits: feed first
            feed(got.s, rest);
            CHECK(same_logits(m, ref.s, got.s));
            Sess again(m, kv, 64);
            feed(again.s, prefix);
            feed(again.s, rest);
            const float temperature = n_ctx == 64 ? 0.0f : 0.8f;  // greedy, then seeded sampling
            CHECK(continue_with(got.s, 24, temperature) == continue_with(again.s, 24, temperature));
        }
        // Truncate back to the prefix, then the same rest again.
        Sess cut(m, kv, 128), fresh(m, kv, 128);
        feed(cut.s, prefix);
        feed(cut.s, rest);
        feed(cut.s, rest);
        agm_error e;
        REQUIRE_MESSAGE(agm_session_truncate(cut.s, (uint32_t)prefix.size(), &e) == AGM_OK, e.message);
        feed(cut.s, rest);
        feed(fresh.s, prefix);
        feed(fresh.s, rest);
        CHECK(same_logits(m, cut.s, fresh.s));
        CHECK(continue_with(cut.s, 24) == continue_with(fresh.s, 24));
    }
}

// check_restore on a model image in memory (a converter's output).
inline void check_restore_image(const std::vector<uint8_t>& file, const std::vector<int32_t>& prefix,
                                const std::vector<int32_t>& rest) {
    const AlignedCopy image(file);
    agm_model* m = nullptr;
    agm_error e;
    REQUIRE_MESSAGE(agm_model_open_memory(image.data(), file.size(), nullptr, &m, &e) == AGM_OK, e.message);
    check_restore(m, prefix, rest);
    agm_model_close(m);
}

}  // namespace agm_test

#endif
