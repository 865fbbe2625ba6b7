// End-to-end tests of the engine through its public C API on the real 3M
// model: the golden greedy generations (token ids), session behaviour,
// sampling. The same binary runs on the host and under qemu-arm -cpu arm1176.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "agm/convert.h"
#include "agmodel.h"
#include "kernels/kernels.h"
#include "doctest.h"
#include "sampler.h"
#include "test_util.h"

namespace {

struct Model {
    agm_model* m = nullptr;
    explicit Model(const std::string& path) {
        agm_error e;
        const agm_status st = agm_model_open_file(path.c_str(), nullptr, &m, &e);
        INFO(e.message);
        REQUIRE(st == AGM_OK);
    }
    ~Model() { agm_model_close(m); }
};

struct Session {
    agm_session* s = nullptr;
    Session(const agm_model* m, uint32_t n_ctx = 0, const char* kernels = nullptr) {
        agm_session_options o;
        agm_session_options_default(&o);
        o.n_ctx = n_ctx;
        o.kernels = kernels;
        agm_error e;
        REQUIRE(agm_session_create(m, &o, &s, &e) == AGM_OK);
    }
    ~Session() { agm_session_free(s); }
};

std::vector<int32_t> tokenize(const agm_model* m, const std::string& text, bool bos) {
    std::vector<int32_t> ids(text.size() + 8);
    size_t n = 0;
    agm_error e;
    REQUIRE(agm_tokenize(m, text.data(), text.size(), bos ? 1 : 0, ids.data(), ids.size(), &n, &e) == AGM_OK);
    ids.resize(n);
    return ids;
}

// The reference's loop: 256 positions, prompt tokens forced, greedy after.
std::vector<int32_t> generate_greedy(const agm_model* m, const std::vector<int32_t>& prompt, uint32_t steps,
                                     const char* kernels = nullptr) {
    Session s(m, 0, kernels);
    agm_sampler smp;
    agm_sampler_init(&smp, nullptr);
    std::vector<int32_t> out{prompt[0]};
    int32_t token = prompt[0];
    agm_error e;
    for (uint32_t pos = 0; pos < steps; ++pos) {
        REQUIRE(agm_session_feed(s.s, &token, 1, &e) == AGM_OK);
        int32_t next;
        if (pos + 1 < prompt.size()) {
            next = prompt[pos + 1];
        } else {
            REQUIRE(agm_session_sample(s.s, &smp, &next, &e) == AGM_OK);
        }
        out.push_back(next);
        if (next == 1) break;
        token = next;
    }
    return out;
}

// The shared 3M checkpoint converted in memory with the given tokenizer file.
struct Converted {
    void* buf = nullptr;
    agm_model* m = nullptr;
    explicit Converted(const std::string& tokenizer_file, uint32_t packing = AGM_TYPE_T2_B128,
                       uint32_t embedding = AGM_TYPE_F32) {
        std::vector<uint8_t> ck, file;
        REQUIRE(agm_test::read_file(agm_test::model_3m_dir() + "/model.bin", &ck));
        agm::Vocab vocab;
        std::string kind;
        agm::Error err;
        INFO(err.msg);
        REQUIRE(agm::load_tokenizer_file(tokenizer_file, 512, &vocab, &kind, &err));
        REQUIRE(agm::convert_ak42(ck.data(), ck.size(), agm::BitOrder::Msb, packing, embedding, &vocab, kind, "model.bin",
                                  &file, &err));
        REQUIRE(posix_memalign(&buf, 64, file.size()) == 0);
        std::memcpy(buf, file.data(), file.size());
        agm_error e;
        REQUIRE(agm_model_open_memory(buf, file.size(), nullptr, &m, &e) == AGM_OK);
    }
    ~Converted() {
        agm_model_close(m);
        std::free(buf);
    }
};

void check_golden_on(const agm_model* model, const char* name, const char* prompt) {
    const std::string dir = agm_test::model_3m_dir() + "/golden/";
    const std::vector<int32_t> want = agm_test::read_ids(dir + name + ".ids");
    REQUIRE(want.size() == 257);
    const std::vector<int32_t> prompt_ids = tokenize(model, prompt, true);
    REQUIRE(prompt_ids.size() <= want.size());
    CHECK(std::vector<int32_t>(want.begin(), want.begin() + (long)prompt_ids.size()) == prompt_ids);
    // With every kernel variant this CPU runs (the default is the last) but
    // the slow reference, which the test "every kernel variant computes the
    // same logits" holds to the others bit for bit.
    size_t n_sets;
    const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
    for (size_t k = 1; k < n_sets; ++k) {
        if (!agm::kernel_set_runs(sets[k])) continue;
        INFO("kernels " << sets[k].name);
        const std::vector<int32_t> got = generate_greedy(model, prompt_ids, 256, sets[k].name);
        size_t first_diff = 0;
        while (first_diff < got.size() && first_diff < want.size() && got[first_diff] == want[first_diff])
            ++first_diff;
        INFO("first difference at index " << first_diff);
        CHECK(got == want);
    }
}

void check_golden(const char* name, const char* prompt) {
    Model model(agm_test::bundled_model());
    check_golden_on(model.m, name, prompt);
}

}  // namespace

TEST_CASE("golden: empty prompt, 256 greedy steps, exact ids") { check_golden("empty-prompt", ""); }

TEST_CASE("golden: 'Once upon a time', 256 greedy steps, exact ids") {
    check_golden("once-upon-a-time", "Once upon a time");
}

TEST_CASE("golden: the model converted with tokenizer.model instead of tokenizer.bin") {
    Converted c(agm_test::model_3m_dir() + "/tokenizer.model");
    check_golden_on(c.m, "once-upon-a-time", "Once upon a time");
    // tokenizer.model says remove_extra_whitespaces: runs of spaces collapse,
    // while the tokenizer.bin conversion keeps the reference's behaviour.
    Model bin(agm_test::bundled_model());
    CHECK(tokenize(c.m, "Once  upon   a time ", true) == tokenize(c.m, "Once upon a time", true));
    CHECK(tokenize(bin.m, "Once  upon   a time ", true) != tokenize(bin.m, "Once upon a time", true));
}

TEST_CASE("golden: the model converted with the tl5_r4 packing (lookup-table kernel)") {
    Converted c(agm_test::model_3m_dir() + "/tokenizer.bin", AGM_TYPE_TL5_R4);
    check_golden_on(c.m, "once-upon-a-time", "Once upon a time");
}

TEST_CASE("golden: the model converted with the t2_b128 packing (bit-plane kernel)") {
    Converted c(agm_test::model_3m_dir() + "/tokenizer.bin", AGM_TYPE_T2_B128);
    check_golden_on(c.m, "empty-prompt", "");
    check_golden_on(c.m, "once-upon-a-time", "Once upon a time");
}

namespace {

// Figures of a lossy embedding type against the exact file (the golden ids
// teacher-forced, then free-running greedy from the prompt).
struct Closeness {
    uint64_t file_bytes, exact_file_bytes;
    double max_diff, mean_diff;  // |logit - f32 logit| less their mean: max, mean of the per-position max
    int top1;                    // positions where the argmax is the f32 file's
    size_t leading;              // leading greedy ids equal to the golden ones
};

Closeness closeness(uint32_t embedding) {
    const std::string tok = agm_test::model_3m_dir() + "/tokenizer.bin";
    Converted exact(tok), lossy(tok, AGM_TYPE_TL5_R4, embedding);
    agm_model_info ie, iq;
    agm_model_get_info(exact.m, &ie);
    agm_model_get_info(lossy.m, &iq);
    const std::vector<int32_t> golden =
        agm_test::read_ids(agm_test::model_3m_dir() + "/golden/once-upon-a-time.ids");
    REQUIRE(golden.size() == 257);
    Session a(exact.m), b(lossy.m);
    agm_error e;
    Closeness r{iq.file_bytes, ie.file_bytes, 0, 0, 0, 0};
    auto argmax = [](const float* x, uint32_t n) {
        uint32_t best = 0;
        for (uint32_t i = 1; i < n; ++i)
            if (x[i] > x[best]) best = i;
        return (int32_t)best;
    };
    for (size_t p = 0; p + 1 < golden.size(); ++p) {
        REQUIRE(agm_session_feed(a.s, &golden[p], 1, &e) == AGM_OK);
        REQUIRE(agm_session_feed(b.s, &golden[p], 1, &e) == AGM_OK);
        const float* x = agm_session_logits(a.s);
        const float* y = agm_session_logits(b.s);
        // A shift common to all logits changes no probability: compare
        // the differences around their mean.
        double shift = 0, d = 0;
        for (uint32_t i = 0; i < ie.vocab_size; ++i) shift += (double)x[i] - y[i];
        shift /= ie.vocab_size;
        for (uint32_t i = 0; i < ie.vocab_size; ++i) d = std::fmax(d, std::fabs((double)x[i] - y[i] - shift));
        r.max_diff = std::fmax(r.max_diff, d);
        r.mean_diff += d / 256;
        r.top1 += argmax(x, ie.vocab_size) == argmax(y, ie.vocab_size);
    }
    const std::vector<int32_t> got = generate_greedy(lossy.m, tokenize(lossy.m, "Once upon a time", true), 256);
    while (r.leading < got.size() && r.leading < golden.size() && got[r.leading] == golden[r.leading]) ++r.leading;
    return r;
}

void report(const char* what, const Closeness& r) {
    MESSAGE(std::string(what) << " embedding: file " << r.file_bytes << " bytes (f32: " << r.exact_file_bytes
            << "); max |logit - f32 logit| (less their mean) " << r.max_diff << ", mean of the per-position max "
            << r.mean_diff << "; top-1 equal at " << r.top1 << "/256 positions; greedy: " << r.leading
            << " leading ids equal the golden ones");
}

}  // namespace

TEST_CASE("the model with a q4_b32 embedding and classifier stays close to f32") {
    const Closeness r = closeness(AGM_TYPE_Q4_B32);
    report("q4_b32", r);
    // Measured: 3.70, 2.29, 246, 57 (docs/performance.md).
    CHECK(r.file_bytes < r.exact_file_bytes);
    CHECK(r.max_diff < 5.0);
    CHECK(r.mean_diff < 3.0);
    CHECK(r.top1 >= 236);
    CHECK(r.leading >= 40);
}

TEST_CASE("the model with a ternary (tl5_r4s) embedding and classifier: what it costs") {
    const Closeness r = closeness(AGM_TYPE_TL5_R4S);
    report("tl5_r4s", r);
    CHECK(r.file_bytes < r.exact_file_bytes);
    CHECK(r.top1 > 0);
}

TEST_CASE("every kernel variant computes the same logits, bit for bit (t2_b128, tl5_r4, q4_b32; prompt and decode)") {
    const std::string tok = agm_test::model_3m_dir() + "/tokenizer.bin";
    for (const auto& kind : {std::make_pair((uint32_t)AGM_TYPE_TL5_R4, (uint32_t)AGM_TYPE_Q4_B32),
                             std::make_pair((uint32_t)AGM_TYPE_T2_B128, (uint32_t)AGM_TYPE_F32),
                             std::make_pair((uint32_t)AGM_TYPE_TL5_R4, (uint32_t)AGM_TYPE_TL5_R4S)}) {
        Converted c(tok, kind.first, kind.second);
        const std::vector<int32_t> prompt = tokenize(c.m, "Once upon a time, there was a little girl", true);
        agm_model_info info;
        agm_model_get_info(c.m, &info);
        // Each variant: the prompt at once (two tokens per pass), then 24 greedy steps; every logit kept.
        auto run = [&](const char* kernels) {
            Session s(c.m, 128, kernels);
            agm_error e;
            std::vector<float> all;
            REQUIRE(agm_session_feed(s.s, prompt.data(), prompt.size(), &e) == AGM_OK);
            agm_sampler smp;
            agm_sampler_init(&smp, nullptr);
            for (int i = 0; i < 24; ++i) {
                const float* l = agm_session_logits(s.s);
                all.insert(all.end(), l, l + info.vocab_size);
                int32_t next = 0;
                REQUIRE(agm_session_sample(s.s, &smp, &next, &e) == AGM_OK);
                REQUIRE(agm_session_feed(s.s, &next, 1, &e) == AGM_OK);
            }
            return all;
        };
        const std::vector<float> want = run("ref");
        size_t n_sets, ran = 0;
        const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
        for (size_t k = 1; k < n_sets; ++k) {
            if (!agm::kernel_set_runs(sets[k])) continue;
            INFO("kernels " << sets[k].name << ", packing " << kind.first << ", embedding " << kind.second);
            const std::vector<float> got = run(sets[k].name);
            REQUIRE(got.size() == want.size());
            CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
            ++ran;
        }
        CHECK(ran >= 1);
    }
}

TEST_CASE("agm_session_options.kernels: an unknown variant is refused with its name") {
    Model model(agm_test::bundled_model());
    agm_session_options o;
    agm_session_options_default(&o);
    o.kernels = "sse9";
    agm_session* s = nullptr;
    agm_error e;
    CHECK(agm_session_create(model.m, &o, &s, &e) == AGM_ERR_ARGUMENT);
    CHECK(s == nullptr);
    CHECK(std::string(e.message).find("sse9") != std::string::npos);
    o.kernels = "ref";
    REQUIRE(agm_session_create(model.m, &o, &s, &e) == AGM_OK);
    agm_session_free(s);
}

TEST_CASE("feeding a prompt at once equals feeding it token by token") {
    Model model(agm_test::bundled_model());
    const std::vector<int32_t> ids = tokenize(model.m, "The little dog ran to the park and", true);
    agm_model_info info;
    agm_model_get_info(model.m, &info);
    Session a(model.m), b(model.m);
    agm_error e;
    REQUIRE(agm_session_feed(a.s, ids.data(), ids.size(), &e) == AGM_OK);
    for (int32_t t : ids) REQUIRE(agm_session_feed(b.s, &t, 1, &e) == AGM_OK);
    CHECK(std::memcmp(agm_session_logits(a.s), agm_session_logits(b.s), info.vocab_size * sizeof(float)) == 0);
    // reset then the same tokens again: the same logits
    std::vector<float> before(agm_session_logits(a.s), agm_session_logits(a.s) + info.vocab_size);
    agm_session_reset(a.s);
    CHECK(agm_session_logits(a.s) == nullptr);
    CHECK(agm_session_position(a.s) == 0);
    REQUIRE(agm_session_feed(a.s, ids.data(), ids.size(), &e) == AGM_OK);
    CHECK(std::memcmp(agm_session_logits(a.s), before.data(), before.size() * sizeof(float)) == 0);
}

TEST_CASE("tl5_r4: a prompt fed at once (two tokens per pass) equals it fed token by token") {
    // The two-vector kernel path: every split of the feed gives the same bits.
    Converted c(agm_test::model_3m_dir() + "/tokenizer.bin", AGM_TYPE_TL5_R4);
    const std::vector<int32_t> ids = tokenize(c.m, "The little dog ran to the park and saw a cat.", true);
    agm_model_info info;
    agm_model_get_info(c.m, &info);
    agm_error e;
    for (size_t n : {ids.size(), ids.size() - 1, (size_t)2, (size_t)3}) {
        INFO("tokens " << n);
        Session a(c.m), b(c.m), d(c.m);
        REQUIRE(agm_session_feed(a.s, ids.data(), n, &e) == AGM_OK);
        for (size_t i = 0; i < n; ++i) REQUIRE(agm_session_feed(b.s, &ids[i], 1, &e) == AGM_OK);
        REQUIRE(agm_session_feed(d.s, ids.data(), 1, &e) == AGM_OK);  // odd split: 1, then the rest
        REQUIRE(agm_session_feed(d.s, ids.data() + 1, n - 1, &e) == AGM_OK);
        CHECK(std::memcmp(agm_session_logits(a.s), agm_session_logits(b.s), info.vocab_size * sizeof(float)) == 0);
        CHECK(std::memcmp(agm_session_logits(d.s), agm_session_logits(b.s), info.vocab_size * sizeof(float)) == 0);
    }
}

TEST_CASE("sparse classifier: the rows agm_session_feed_rows computes equal the full product's bits") {
    const std::string tok = agm_test::model_3m_dir() + "/tokenizer.bin";
    for (uint32_t embedding : {(uint32_t)AGM_TYPE_F32, (uint32_t)AGM_TYPE_Q4_B32, (uint32_t)AGM_TYPE_TL5_R4S}) {
        Converted c(tok, AGM_TYPE_TL5_R4, embedding);
        agm_model_info info;
        agm_model_get_info(c.m, &info);
        const uint32_t vocab = info.vocab_size, words = (vocab + 31) / 32;
        const std::vector<int32_t> ids = tokenize(c.m, "The little dog ran to the park and", true);
        agm_error e;
        Session full(c.m);
        REQUIRE(agm_session_feed(full.s, ids.data(), ids.size(), &e) == AGM_OK);
        const float* want = agm_session_logits(full.s);
        // Masks: empty, one row at either end, a run across a row quad,
        // every other row, random densities, all rows.
        std::vector<std::vector<uint32_t>> masks;
        auto mask_of = [&](auto&& pick) {
            std::vector<uint32_t> m(words, 0);
            for (uint32_t t = 0; t < vocab; ++t)
                if (pick(t)) m[t >> 5] |= 1u << (t & 31);
            masks.push_back(m);
        };
        mask_of([](uint32_t) { return false; });
        mask_of([](uint32_t t) { return t == 0; });
        mask_of([&](uint32_t t) { return t == vocab - 1; });
        mask_of([](uint32_t t) { return t >= 3 && t <= 9; });
        mask_of([](uint32_t t) { return t % 2 == 1; });
        uint32_t rng = 12345;
        for (uint32_t density : {1u, 30u, 90u})
            mask_of([&](uint32_t) { rng = rng * 1664525u + 1013904223u; return (rng >> 8) % 100 < density; });
        mask_of([](uint32_t) { return true; });
        for (size_t k = 0; k < masks.size(); ++k) {
            INFO("embedding type " << embedding << ", mask " << k);
            Session sparse(c.m);
            REQUIRE(agm_session_feed_rows(sparse.s, ids.data(), ids.size(), masks[k].data(), &e) == AGM_OK);
            const float* got = agm_session_logits(sparse.s);
            REQUIRE(got != nullptr);
            uint32_t same = 0, banned = 0, in_mask = 0;
            for (uint32_t t = 0; t < vocab; ++t) {
                if ((masks[k][t >> 5] >> (t & 31)) & 1) {
                    ++in_mask;
                    same += std::memcmp(&got[t], &want[t], sizeof(float)) == 0 ? 1 : 0;
                } else {
                    banned += std::isinf(got[t]) && got[t] < 0 ? 1 : 0;
                }
            }
            CHECK(same == in_mask);
            CHECK(banned == vocab - in_mask);
            // The session goes on from the sparse feed as from a full one.
            int32_t next = ids.back();
            REQUIRE(agm_session_feed(sparse.s, &next, 1, &e) == AGM_OK);
            Session again(c.m);
            REQUIRE(agm_session_feed(again.s, ids.data(), ids.size(), &e) == AGM_OK);
            REQUIRE(agm_session_feed(again.s, &next, 1, &e) == AGM_OK);
            CHECK(std::memcmp(agm_session_logits(sparse.s), agm_session_logits(again.s), vocab * sizeof(float)) == 0);
        }
    }
}

TEST_CASE("a model opened from memory computes what the mapped file computes") {
    std::vector<uint8_t> bytes;
    REQUIRE(agm_test::read_file(agm_test::bundled_model(), &bytes));
    void* buf = nullptr;
    REQUIRE(posix_memalign(&buf, 64, bytes.size()) == 0);
    std::memcpy(buf, bytes.data(), bytes.size());
    agm_model* mem = nullptr;
    agm_error e;
    REQUIRE(agm_model_open_memory(buf, bytes.size(), nullptr, &mem, &e) == AGM_OK);
    Model file(agm_test::bundled_model());
    Session a(mem), b(file.m);
    const int32_t toks[3] = {1, 403, 407};
    REQUIRE(agm_session_feed(a.s, toks, 3, &e) == AGM_OK);
    REQUIRE(agm_session_feed(b.s, toks, 3, &e) == AGM_OK);
    CHECK(std::memcmp(agm_session_logits(a.s), agm_session_logits(b.s), 512 * sizeof(float)) == 0);
    agm_model_close(mem);
    std::free(buf);
}

TEST_CASE("session limits give clear errors") {
    Model model(agm_test::bundled_model());
    Session s(model.m, 4);
    CHECK(agm_session_context(s.s) == 4);
    agm_error e;
    const int32_t five[5] = {1, 2, 3, 4, 5};
    CHECK(agm_session_feed(s.s, five, 5, &e) == AGM_ERR_CONTEXT_FULL);
    CHECK(std::string(e.message).find("context") != std::string::npos);
    CHECK(agm_session_position(s.s) == 0);
    const int32_t bad = 512;
    CHECK(agm_session_feed(s.s, &bad, 1, &e) == AGM_ERR_ARGUMENT);
    CHECK(std::string(e.message).find("outside the vocabulary") != std::string::npos);
    REQUIRE(agm_session_feed(s.s, five, 4, &e) == AGM_OK);
    CHECK(agm_session_feed(s.s, five, 1, &e) == AGM_ERR_CONTEXT_FULL);

    agm_session_options o;
    agm_session_options_default(&o);
    o.n_ctx = 100000;
    agm_session* big = nullptr;
    CHECK(agm_session_create(model.m, &o, &big, &e) == AGM_ERR_ARGUMENT);
    CHECK(big == nullptr);
    size_t bytes = 0;
    o.n_ctx = 0;
    REQUIRE(agm_session_memory_size(model.m, &o, &bytes, &e) == AGM_OK);
    Session full(model.m);
    CHECK(agm_session_memory_used(full.s) == bytes);
    // The KV cache dominates: 8 layers x 512 positions x 128 floats x 2.
    CHECK(bytes >= 8u * 512 * 128 * 4 * 2);
}

TEST_CASE("sampling: seeded and reproducible; top-k 1 is greedy") {
    Model model(agm_test::bundled_model());
    const std::vector<int32_t> prompt = tokenize(model.m, "Once upon a time", true);
    auto run = [&](agm_sampler_params p, int n) {
        Session s(model.m);
        agm_sampler smp;
        agm_sampler_init(&smp, &p);
        agm_error e;
        REQUIRE(agm_session_feed(s.s, prompt.data(), prompt.size(), &e) == AGM_OK);
        std::vector<int32_t> out;
        for (int i = 0; i < n; ++i) {
            int32_t t;
            REQUIRE(agm_session_sample(s.s, &smp, &t, &e) == AGM_OK);
            REQUIRE(t >= 0);
            REQUIRE(t < 512);
            out.push_back(t);
            REQUIRE(agm_session_feed(s.s, &t, 1, &e) == AGM_OK);
        }
        return out;
    };
    agm_sampler_params p;
    agm_sampler_params_default(&p);
    const std::vector<int32_t> greedy = run(p, 40);
    p.temperature = 1.0f;
    p.seed = 7;
    const std::vector<int32_t> a = run(p, 40), b = run(p, 40);
    CHECK(a == b);
    p.seed = 8;
    CHECK(run(p, 40) != a);
    p.top_k = 1;
    CHECK(run(p, 40) == greedy);
    p.top_k = 0;
    p.top_p = 0.0001f;  // the nucleus is the single most likely token
    CHECK(run(p, 40) == greedy);
    p.top_k = 40;
    p.top_p = 0.9f;
    p.temperature = 0.8f;
    const std::vector<int32_t> c = run(p, 40);
    CHECK(c == run(p, 40));
}

TEST_CASE("token pieces follow the reference's printing rules") {
    Model model(agm_test::bundled_model());
    char buf[64];
    // After BOS the leading space of a piece is dropped.
    const std::vector<int32_t> ids = tokenize(model.m, "Once", true);
    REQUIRE(ids.size() >= 2);
    size_t n = agm_token_piece(model.m, 1, ids[1], 0, buf, sizeof buf);
    CHECK(std::string(buf, n).substr(0, 4) == "Once");
    // <0x0A> is a newline; <0x01> is dropped when printing.
    n = agm_token_piece(model.m, 5, 3 + 0x0A, AGM_PIECE_PRINTABLE, buf, sizeof buf);
    CHECK(std::string(buf, n) == "\n");
    CHECK(agm_token_piece(model.m, 5, 3 + 0x01, AGM_PIECE_PRINTABLE, buf, sizeof buf) == 0);
    CHECK(agm_token_piece(model.m, 5, 3 + 0x01, 0, buf, sizeof buf) == 1);
}

TEST_CASE("sampling survives non-finite logits (a damaged model)") {
    const uint32_t n = 64;
    std::vector<float> logits(n, std::nanf(""));
    logits[5] = 1.0f;
    std::vector<uint8_t> scratch(agm::sampler_scratch_bytes(n));
    for (uint32_t k : {0u, 3u}) {
        for (float p : {1.0f, 0.5f}) {
            agm_sampler_params sp;
            agm_sampler_params_default(&sp);
            sp.temperature = 0.7f;
            sp.top_k = k;
            sp.top_p = p;
            agm_sampler smp;
            agm_sampler_init(&smp, &sp);
            for (int i = 0; i < 20; ++i) {
                const int32_t t = agm::sample(&smp, logits.data(), n, scratch.data());
                CHECK(t >= 0);
                CHECK(t < (int32_t)n);
            }
        }
    }
    std::vector<float> inf(n, -INFINITY);
    agm_sampler smp;
    agm_sampler_init(&smp, nullptr);
    CHECK(agm::sample(&smp, inf.data(), n, scratch.data()) == 0);
}

TEST_CASE("agm_tokenize: a small buffer gets AGM_ERR_BUFFER and the count needed") {
    Model model(agm_test::bundled_model());
    const std::string text = "Once upon a time there was a little dog.";
    int32_t ids[3];
    size_t n = 0;
    agm_error e;
    CHECK(agm_tokenize(model.m, text.data(), text.size(), 1, ids, 3, &n, &e) == AGM_ERR_BUFFER);
    CHECK(n > 3);
    std::vector<int32_t> all(n);
    size_t n2 = 0;
    CHECK(agm_tokenize(model.m, text.data(), text.size(), 1, all.data(), all.size(), &n2, &e) == AGM_OK);
    CHECK(n2 == n);
    CHECK(std::vector<int32_t>(all.begin(), all.begin() + 3) == std::vector<int32_t>(ids, ids + 3));
}
