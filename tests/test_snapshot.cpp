// Session snapshots: restored equals recomputed, bit for bit, for every KV
// type; truncate-then-refeed equals a fresh feed; a damaged or mismatched
// snapshot is refused with one line and leaves the session as it was. The
// bytes are a function of the state: the same on the host and on ARMv6
// (tests/data/snapshot-q8.bin, made on the host, must come out the same).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agm/snapshot.h"
#include "agmodel.h"
#include "doctest.h"
#include "gpt2_model.h"
#include "snapshot_check.h"
#include "test_util.h"

namespace {

using agm_test::feed;
using agm_test::same_logits;
using agm_test::save;
using agm_test::Sess;
using agm_test::vocab;

struct Opened {
    agm_model* m = nullptr;
    Opened() {
        agm_error e;
        REQUIRE_MESSAGE(agm_model_open_file(agm_test::bundled_model().c_str(), nullptr, &m, &e) == AGM_OK, e.message);
    }
    ~Opened() { agm_model_close(m); }
};

std::vector<int32_t> ids_of(const agm_model* m, const char* text) {
    std::vector<int32_t> ids(256);
    size_t n = 0;
    agm_error e;
    REQUIRE(agm_tokenize(m, text, std::strlen(text), 1, ids.data(), ids.size(), &n, &e) == AGM_OK);
    ids.resize(n);
    return ids;
}

const char* kPrefix = "Once upon a time, there was a little girl named Lily. She loved to play";

}  // namespace

TEST_CASE("snapshot: restored equals recomputed, for every KV type, into the same or a longer context") {
    SUBCASE("the bundled model (SentencePiece)") {
        Opened md;
        const std::vector<int32_t> prefix = ids_of(md.m, kPrefix);
        agm_test::check_restore(md.m, prefix, {prefix[3], prefix[4], prefix[5]});
    }
    SUBCASE("a GPT-2 byte-level BPE model from a GGUF vocabulary, grouped-query attention") {
        agm::SynthConfig c;
        REQUIRE(agm::synth_preset("tiny", &c));
        c.n_layers = 3;
        c.n_kv_heads = 2;
        std::vector<uint8_t> file;
        std::string why;
        REQUIRE_MESSAGE(agm_test::gpt2_test_model(c, &file, &why), why);
        agm_test::AlignedCopy copy(file);
        agm_model* m = nullptr;
        agm_error e;
        REQUIRE_MESSAGE(agm_model_open_memory(copy.data(), file.size(), nullptr, &m, &e) == AGM_OK, e.message);
        const std::vector<int32_t> prefix = ids_of(m, "Hello world, this is a snapshot of a session.");
        agm_test::check_restore(m, prefix, {prefix[1], prefix[2]});
        agm_model_close(m);
    }
}

TEST_CASE("snapshot: truncate, then feed another ending: what a fresh feed of it computes") {
    Opened md;
    const std::vector<int32_t> a = ids_of(md.m, kPrefix);
    const std::vector<int32_t> b = ids_of(md.m, "Once upon a time, there was a big dog named Max.");
    const size_t common = agm_reusable_prefix(a.data(), a.size(), b.data(), b.size());
    REQUIRE(common > 2);
    REQUIRE(common < b.size());
    CHECK(a[common - 1] == b[common - 1]);
    CHECK(a[common] != b[common]);
    for (uint32_t kv : {(uint32_t)AGM_KV_F32, (uint32_t)AGM_KV_F16, (uint32_t)AGM_KV_Q8}) {
        INFO("kv " << agm_test::kv_name(kv));
        Sess s(md.m, kv, 128), fresh(md.m, kv, 128);
        feed(s.s, a);
        agm_error e;
        CHECK(agm_session_truncate(s.s, (uint32_t)a.size() + 1, &e) == AGM_ERR_ARGUMENT);  // past the position
        REQUIRE(agm_session_truncate(s.s, (uint32_t)common, &e) == AGM_OK);
        CHECK(agm_session_logits(s.s) == nullptr);
        feed(s.s, std::vector<int32_t>(b.begin() + (long)common, b.end()));
        feed(fresh.s, b);
        CHECK(same_logits(md.m, s.s, fresh.s));
        CHECK(std::memcmp(agm_session_tokens(s.s), b.data(), b.size() * 4) == 0);
    }
}

TEST_CASE("agm_reusable_prefix: the common prefix, never the whole prompt") {
    const int32_t held[] = {1, 5, 7, 9, 11};
    const int32_t same[] = {1, 5, 7, 9, 11}, longer[] = {1, 5, 7, 9, 11, 13}, other[] = {1, 5, 8, 9},
                  first_differs[] = {2, 5, 7}, shorter[] = {1, 5, 7};
    CHECK(agm_reusable_prefix(held, 5, same, 5) == 4);  // the last token is fed again: its logits
    CHECK(agm_reusable_prefix(held, 5, longer, 6) == 5);
    CHECK(agm_reusable_prefix(held, 5, other, 4) == 2);
    CHECK(agm_reusable_prefix(held, 5, first_differs, 3) == 0);
    CHECK(agm_reusable_prefix(held, 5, shorter, 3) == 2);
    CHECK(agm_reusable_prefix(held, 0, longer, 6) == 0);
    CHECK(agm_reusable_prefix(nullptr, 0, longer, 6) == 0);
    CHECK(agm_reusable_prefix(held, 5, longer, 0) == 0);
    CHECK(agm_reusable_prefix(held, 5, longer, 1) == 0);
}

TEST_CASE("snapshot: the bytes are the state's, the same on every target") {
    Opened md;
    Sess s(md.m, AGM_KV_Q8, 64);
    feed(s.s, ids_of(md.m, "Once upon a time"));
    const std::vector<uint8_t> snap = save(s.s);
    CHECK(save(s.s) == snap);  // padding included: nothing left over from the buffer
    std::vector<uint8_t> kept;
    const std::string path = agm_test::source_path("tests/data/snapshot-q8.bin");
    if (std::getenv("AGM_REGENERATE_SNAPSHOT") != nullptr) {  // after a deliberate change of the layout
        FILE* f = std::fopen(path.c_str(), "wb");
        REQUIRE(f != nullptr);
        REQUIRE(std::fwrite(snap.data(), 1, snap.size(), f) == snap.size());
        REQUIRE(std::fclose(f) == 0);
    }
    REQUIRE_MESSAGE(agm_test::read_file(path, &kept), "cannot read " << path);
    CHECK(kept == snap);  // made on the host; under qemu-arm the ARMv6 build must write the same bytes
    Sess other(md.m, AGM_KV_Q8, 64);
    agm_error e;
    REQUIRE_MESSAGE(agm_session_load(other.s, kept.data(), kept.size(), &e) == AGM_OK, e.message);
    std::vector<int32_t> toks(64);
    size_t n = 0;
    REQUIRE(agm_snapshot_tokens(md.m, kept.data(), kept.size(), toks.data(), toks.size(), &n, &e) == AGM_OK);
    CHECK(n == agm_session_position(s.s));
    CHECK(std::memcmp(toks.data(), agm_session_tokens(s.s), n * 4) == 0);
    CHECK(agm_snapshot_tokens(md.m, kept.data(), kept.size(), toks.data(), 1, &n, &e) == AGM_ERR_BUFFER);
}

TEST_CASE("snapshot: damaged, truncated, oversized and mismatched snapshots are refused, the session kept") {
    Opened md;
    const std::vector<int32_t> prefix = ids_of(md.m, kPrefix);
    Sess src(md.m, AGM_KV_F16, 128);
    feed(src.s, prefix);
    const std::vector<uint8_t> good = save(src.s);
    // The victim holds a state of its own; after every refusal it must go on as if nothing happened.
    const std::vector<int32_t> own = ids_of(md.m, "The cat sat");
    Sess victim(md.m, AGM_KV_F16, 128), ref(md.m, AGM_KV_F16, 128);
    feed(victim.s, own);
    feed(ref.s, own);
    auto refused = [&](const std::vector<uint8_t>& bad, const char* what) {
        INFO(what);
        agm_error e;
        e.message[0] = '\0';
        CHECK(agm_session_load(victim.s, bad.data(), bad.size(), &e) != AGM_OK);
        CHECK(std::strlen(e.message) > 0);
        CHECK(std::strchr(e.message, '\n') == nullptr);
        CHECK(agm_session_position(victim.s) == own.size());
        CHECK(same_logits(md.m, victim.s, ref.s));
    };
    for (size_t cut : {(size_t)0, (size_t)10, (size_t)63, (size_t)64, good.size() / 2, good.size() - 1})
        refused(std::vector<uint8_t>(good.begin(), good.begin() + (long)cut), "truncated");
    std::vector<uint8_t> longer = good;
    longer.push_back(0);
    refused(longer, "a trailing byte");
    uint32_t rng = 20261207u;
    for (int i = 0; i < 64; ++i) {  // one flipped bit anywhere: the CRC (or a header check) catches it
        rng = rng * 1664525u + 1013904223u;
        std::vector<uint8_t> bad = good;
        const size_t at = (rng >> 8) % bad.size();
        bad[at] ^= (uint8_t)(1u << (rng & 7));
        refused(bad, "a flipped bit");
    }
    // Well-formed but not for this session: another KV type, too long a context.
    Sess q8(md.m, AGM_KV_Q8, 128);
    feed(q8.s, prefix);
    refused(save(q8.s), "another KV type");
    Sess small(md.m, AGM_KV_F16, 8);
    agm_error e;
    CHECK(agm_session_load(small.s, good.data(), good.size(), &e) == AGM_ERR_CONTEXT_FULL);
    CHECK(agm_session_position(small.s) == 0);
    // Another model: a well-formed snapshot (resealed) whose model checksum
    // or shapes are not this model's, or with a token outside the vocabulary.
    auto resealed = [&](size_t at, uint8_t x) {
        std::vector<uint8_t> b = good;
        b[at] ^= x;
        agm::seal_snapshot(b.data(), b.size());
        return b;
    };
    refused(resealed(16, 0x5A), "another model's file checksum");
    refused(resealed(20, 0x01), "another layer count");
    refused(resealed(32, 0x01), "another vocabulary size");
    refused(resealed(64 + 4 * 3 + 3, 0x40), "a token id outside the vocabulary");
    refused(resealed(40, 0x01), "a position count that does not match the size");
    refused(resealed(44, 0x01), "a reserved field set");
    // A buffer too small to save into: AGM_ERR_BUFFER, nothing written.
    std::vector<uint8_t> tiny(16, 0xEE);
    size_t written = 99;
    CHECK(agm_session_save(src.s, tiny.data(), tiny.size(), &written, &e) == AGM_ERR_BUFFER);
    CHECK(written == 0);
    CHECK(tiny == std::vector<uint8_t>(16, 0xEE));
}

namespace {

// Greedy constrained steps: mask, pick, accept, feed; returns the tokens.
std::vector<int32_t> constrained_steps(agm_session* s, agm_matcher* mt, uint32_t words, int n) {
    std::vector<uint32_t> mask(words);
    std::vector<int32_t> out;
    agm_sampler sp;
    agm_sampler_init(&sp, nullptr);
    agm_error e;
    for (int i = 0; i < n && !agm_matcher_is_done(mt); ++i) {
        uint32_t allowed = 0;
        REQUIRE(agm_matcher_fill_mask(mt, mask.data(), words, &allowed, &e) == AGM_OK);
        int32_t t;
        REQUIRE(agm_session_sample_masked(s, &sp, mask.data(), &t, &e) == AGM_OK);
        REQUIRE(agm_matcher_accept_token(mt, t, &e) == AGM_OK);
        out.push_back(t);
        if (agm_matcher_is_done(mt)) break;
        REQUIRE(agm_session_feed(s, &t, 1, &e) == AGM_OK);
    }
    return out;
}

}  // namespace

TEST_CASE("snapshot: a constrained output resumed after a power cut: the session from its snapshot, the "
          "grammar's state by replaying the snapshot's tokens") {
    // The matcher needs no snapshot of its own: its state is a function of
    // the tokens accepted since its reset, which the session snapshot holds.
    Opened md;
    const char* gbnf = "root ::= \"{\\\"zone\\\":\" [1-9] \",\\\"note\\\":\\\"\" [a-z ]{1,40} \"\\\"}\"\n";
    agm_grammar* g = nullptr;
    agm_error e;
    REQUIRE_MESSAGE(agm_grammar_create(md.m, gbnf, std::strlen(gbnf), nullptr, &g, &e) == AGM_OK, e.message);
    const uint32_t words = (vocab(md.m) + 31) / 32;
    const std::vector<int32_t> prompt = ids_of(md.m, "Report:");
    // A matcher reset after the prompt, the session fed the prompt.
    auto start = [&](agm_session* s) {
        agm_matcher* mt = nullptr;
        REQUIRE(agm_matcher_create(g, &mt, &e) == AGM_OK);
        REQUIRE(agm_matcher_reset(mt, prompt.back()) == AGM_OK);
        feed(s, prompt);
        return mt;
    };
    // Uninterrupted.
    Sess a(md.m, AGM_KV_Q8, 128);
    agm_matcher* ma = start(a.s);
    const std::vector<int32_t> whole = constrained_steps(a.s, ma, words, 60);
    REQUIRE(whole.size() > 12);
    // Interrupted after 10 tokens: the snapshot is all a device keeps.
    Sess b(md.m, AGM_KV_Q8, 128);
    agm_matcher* mb = start(b.s);
    const std::vector<int32_t> head = constrained_steps(b.s, mb, words, 10);
    const std::vector<uint8_t> snap = save(b.s);
    agm_matcher_free(mb);
    // After the reboot: a new session and a new matcher.
    Sess c(md.m, AGM_KV_Q8, 128);
    REQUIRE(agm_session_load(c.s, snap.data(), snap.size(), &e) == AGM_OK);
    agm_matcher* mc = nullptr;
    REQUIRE(agm_matcher_create(g, &mc, &e) == AGM_OK);
    REQUIRE(agm_matcher_reset(mc, prompt.back()) == AGM_OK);
    const uint32_t pos = agm_session_position(c.s);
    const int32_t* fed = agm_session_tokens(c.s);
    for (uint32_t i = (uint32_t)prompt.size(); i < pos; ++i) REQUIRE(agm_matcher_accept_token(mc, fed[i], &e) == AGM_OK);
    // The logits of the last position are not in a snapshot: run it again.
    const int32_t last = fed[pos - 1];
    REQUIRE(agm_session_truncate(c.s, pos - 1, &e) == AGM_OK);
    REQUIRE(agm_session_feed(c.s, &last, 1, &e) == AGM_OK);
    std::vector<int32_t> resumed = head;
    const std::vector<int32_t> tail = constrained_steps(c.s, mc, words, 60);
    resumed.insert(resumed.end(), tail.begin(), tail.end());
    CHECK(resumed == whole);
    agm_matcher_free(ma);
    agm_matcher_free(mc);
    agm_grammar_free(g);
}
