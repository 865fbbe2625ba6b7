// The firmware-grade parts of agmodel.h: arenas, their sizes and errors, the
// path variants, interrupted calls and their rules, agm_detokenize, status
// names. (tests/test_heap_calls.cpp counts the heap calls.)
#include "doctest.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "agmodel.h"
#include "test_util.h"

namespace {

// The bundled model, 64-byte aligned.
struct File {
    std::vector<uint8_t> bytes = read_bundled();
    agm_test::AlignedCopy buf{bytes};
    const uint8_t* p = buf.p;
    size_t size = buf.n;

    static std::vector<uint8_t> read_bundled() {
        std::vector<uint8_t> b;
        REQUIRE(agm_test::read_file(agm_test::bundled_model(), &b));
        return b;
    }
};

}  // namespace

TEST_CASE("api: arenas from the size queries; too small is AGM_ERR_BUFFER with a message") {
    File f;
    agm_error e;
    size_t mb = 0;
    REQUIRE(agm_model_memory_size(f.p, f.size, nullptr, &mb, &e) == AGM_OK);
    size_t mb_file = 0;
    REQUIRE(agm_model_memory_size_file(agm_test::bundled_model().c_str(), nullptr, &mb_file, &e) == AGM_OK);
    CHECK(mb_file == mb);
    std::vector<uint8_t> arena(mb + 1);
    agm_model* m = nullptr;
    CHECK(agm_model_init(f.p, f.size, nullptr, arena.data() + 1, mb - 1, &m, &e) == AGM_ERR_BUFFER);
    CHECK(std::strstr(e.message, "arena") != nullptr);
    REQUIRE(agm_model_init(f.p, f.size, nullptr, arena.data() + 1, mb, &m, &e) == AGM_OK);
    agm_model_info info;
    agm_model_get_info(m, &info);
    CHECK(info.model_bytes == mb);

    size_t sb = 0;
    REQUIRE(agm_session_memory_size(m, nullptr, &sb, &e) == AGM_OK);
    std::vector<uint8_t> sarena(sb);
    agm_session* s = nullptr;
    CHECK(agm_session_init(m, nullptr, sarena.data(), sb - 1, &s, &e) == AGM_ERR_BUFFER);
    CHECK(s == nullptr);
    REQUIRE(agm_session_init(m, nullptr, sarena.data(), sb, &s, &e) == AGM_OK);
    CHECK(agm_session_memory_used(s) == sb);
    agm_session_free(s);  // the arena stays the caller's
    agm_model_close(m);

    // The path variant, in an arena too.
    REQUIRE(agm_model_init_file(agm_test::bundled_model().c_str(), nullptr, arena.data(), mb, &m, &e) == AGM_OK);
    agm_model_close(m);
    CHECK(agm_model_init_file("/nonexistent/x.agm", nullptr, arena.data(), mb, &m, &e) == AGM_ERR_IO);
}

TEST_CASE("api: a text beyond max_text_bytes is refused, one at the limit is encoded") {
    File f;
    agm_open_options oo;
    agm_open_options_default(&oo);
    CHECK(oo.max_text_bytes == 1024);
    oo.max_text_bytes = 40;
    agm_model* m = nullptr;
    agm_error e;
    REQUIRE(agm_model_open_memory(f.p, f.size, &oo, &m, &e) == AGM_OK);
    const std::string ok(40, 'a'), too_long(41, 'a');
    int32_t ids[64];
    size_t n = 0;
    CHECK(agm_tokenize(m, ok.data(), ok.size(), 1, ids, 64, &n, &e) == AGM_OK);
    CHECK(n > 0);
    CHECK(agm_tokenize(m, too_long.data(), too_long.size(), 1, ids, 64, &n, &e) == AGM_ERR_BUFFER);
    CHECK(n == 0);
    CHECK(std::strstr(e.message, "max_text_bytes 40") != nullptr);
    agm_model_close(m);
}

TEST_CASE("api: an interrupted feed resumes only with the same tokens; reset forgets it") {
    File f;
    agm_model* m = nullptr;
    agm_session* s = nullptr;
    agm_error e;
    REQUIRE(agm_model_open_memory(f.p, f.size, nullptr, &m, &e) == AGM_OK);
    REQUIRE(agm_session_create(m, nullptr, &s, &e) == AGM_OK);
    const int32_t a[3] = {1, 400, 401}, b[3] = {1, 400, 402};
    agm_control c;
    agm_control_default(&c);
    c.work_budget = 2;
    REQUIRE(agm_session_set_control(s, &c, &e) == AGM_OK);
    CHECK(agm_session_feed(s, a, 3, &e) == AGM_ERR_BUDGET);
    CHECK(std::strstr(e.message, "call again") != nullptr);
    CHECK(agm_session_logits(s) == nullptr);
    CHECK(agm_session_feed(s, b, 3, &e) == AGM_ERR_ARGUMENT);  // other tokens
    CHECK(agm_session_feed(s, a, 2, &e) == AGM_ERR_ARGUMENT);  // other length
    agm_status st;
    int calls = 1;
    while ((st = agm_session_feed(s, a, 3, &e)) == AGM_ERR_BUDGET) ++calls;
    CHECK(st == AGM_OK);
    CHECK(agm_session_position(s) == 3);
    // 5 layers x 3 tokens + the classifier, 2 units per call (a 2-token batch
    // layer counts 2): at least 8 calls.
    CHECK(calls >= 8);
    std::vector<float> resumed(agm_session_logits(s), agm_session_logits(s) + 512);

    REQUIRE(agm_session_reset(s) == AGM_OK);
    CHECK(agm_session_feed(s, b, 3, &e) == AGM_ERR_BUDGET);
    REQUIRE(agm_session_reset(s) == AGM_OK);  // forgets the interrupted call
    REQUIRE(agm_session_set_control(s, nullptr, &e) == AGM_OK);
    REQUIRE(agm_session_feed(s, a, 3, &e) == AGM_OK);
    CHECK(std::memcmp(resumed.data(), agm_session_logits(s), 512 * sizeof(float)) == 0);

    volatile int flag = 1;
    c.work_budget = 0;
    c.cancel = &flag;
    REQUIRE(agm_session_set_control(s, &c, &e) == AGM_OK);
    agm_sampler smp;
    agm_sampler_init(&smp, nullptr);
    int32_t next = -1;
    CHECK(agm_session_step(s, &smp, 402, &next, &e) == AGM_ERR_CANCELLED);
    CHECK(agm_session_position(s) == 3);
    flag = 0;
    CHECK(agm_session_step(s, &smp, 402, &next, &e) == AGM_OK);
    CHECK(agm_session_position(s) == 4);
    CHECK(next >= 0);
    agm_session_free(s);
    agm_model_close(m);
}

TEST_CASE("api: agm_detokenize and the status names") {
    File f;
    agm_model* m = nullptr;
    agm_error e;
    REQUIRE(agm_model_open_memory(f.p, f.size, nullptr, &m, &e) == AGM_OK);
    int32_t ids[8];
    size_t n = 0;
    REQUIRE(agm_tokenize(m, "Once", 4, 1, ids, 8, &n, &e) == AGM_OK);
    char buf[16];
    size_t k = 0;
    CHECK(agm_detokenize(m, ids[0], ids[1], 0, buf, sizeof buf, &k, &e) == AGM_OK);
    CHECK(std::string(buf, k) == "Once");
    CHECK(agm_detokenize(m, ids[0], ids[1], 0, buf, 2, &k, &e) == AGM_ERR_BUFFER);
    CHECK(k == 4);
    CHECK(agm_detokenize(nullptr, 0, 0, 0, buf, 2, &k, &e) == AGM_ERR_ARGUMENT);
    CHECK(std::string(agm_status_name(AGM_ERR_CANCELLED)) == "cancelled");
    CHECK(std::string(agm_status_name(AGM_ERR_BUDGET)) == "work budget spent");
    CHECK(agm_session_reset(nullptr) == AGM_ERR_ARGUMENT);
    agm_model_close(m);
}
