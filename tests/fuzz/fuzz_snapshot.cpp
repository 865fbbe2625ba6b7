// libFuzzer target for session snapshots (agm_session_load, agm_snapshot_tokens;
// formats/src/snapshot.cpp) against a small synthetic model (one layer of
// the "tiny" preset, seed 1: the same file, so the same checksum, every run).
//
// Input: one control byte, then the snapshot. Control bits 0-1: the session's
// KV type (3: f32); bit 2: a 16-token context instead of 64; bit 7: reseal
// the CRC before loading, so that mutations reach the checks behind it.
//
// Beyond "no crash, no hang, no undefined behaviour" it checks:
//   - a refusal is one line and leaves the session as it was (its position,
//     and its next logits, those of a session that never saw the snapshot);
//   - an accepted snapshot saves back to the same bytes, agm_snapshot_tokens
//     gives its tokens, and the session feeds on from it.
//
// AGM_FUZZ_WRITE_SEEDS=DIR writes valid snapshots (every KV type, 0, 1 and
// 5 positions) into DIR: the kept corpus's seeds.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agm/snapshot.h"
#include "agm/synth.h"
#include "agmodel.h"
#include "fuzz_util.h"

using agm_fuzz::check;

namespace {

struct Model {
    std::vector<uint8_t> file;
    void* mem = nullptr;
    agm_model* m = nullptr;
    Model() {
        agm::SynthConfig c;
        check(agm::synth_preset("tiny", &c));
        c.n_layers = 1;
        agm::Error err;
        check(agm::synth_model(c, nullptr, &file, &err));
        check(posix_memalign(&mem, 64, file.size()) == 0);
        std::memcpy(mem, file.data(), file.size());
        agm_error e;
        check(agm_model_open_memory(mem, file.size(), nullptr, &m, &e) == AGM_OK);
    }
};

Model& model() {
    static Model md;  // never freed: the process ends with the fuzzer
    return md;
}

bool one_line(const agm_error& e) { return e.message[0] != 0 && std::strchr(e.message, '\n') == nullptr; }

agm_session* session(uint32_t kv, uint32_t n_ctx) {
    agm_session_options o;
    agm_session_options_default(&o);
    o.kv_type = kv;
    o.n_ctx = n_ctx;
    agm_session* s = nullptr;
    agm_error e;
    check(agm_session_create(model().m, &o, &s, &e) == AGM_OK);
    return s;
}

const int32_t kOwn[3] = {5, 17, 301};  // the session's own state before a load

void write_seeds(const char* dir) {
    for (uint32_t kv = 0; kv < 3; ++kv)
        for (uint32_t n : {0u, 1u, 5u}) {
            agm_session* s = session(kv, 64);
            agm_error e;
            const int32_t ids[5] = {1, 42, 7, 300, 511};
            if (n > 0) check(agm_session_feed(s, ids, n, &e) == AGM_OK);
            std::vector<uint8_t> buf(1 + agm_session_state_size(s));
            size_t w = 0;
            check(agm_session_save(s, buf.data() + 1, buf.size() - 1, &w, &e) == AGM_OK);
            buf[0] = (uint8_t)(kv == 0 ? 3 : kv);
            const std::string path = std::string(dir) + "/seed-kv" + std::to_string(kv) + "-" + std::to_string(n);
            FILE* f = std::fopen(path.c_str(), "wb");
            check(f != nullptr && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size() && std::fclose(f) == 0);
            agm_session_free(s);
        }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool seeded = false;
    if (!seeded) {
        seeded = true;
        if (const char* dir = std::getenv("AGM_FUZZ_WRITE_SEEDS")) write_seeds(dir);
    }
    if (size < 1) return 0;
    const uint8_t ctl = data[0];
    const uint32_t kv = (ctl & 3) == 3 ? AGM_KV_F32 : (ctl & 3);
    const uint32_t n_ctx = (ctl & 4) ? 16 : 64;
    std::vector<uint8_t> snap(data + 1, data + size);
    if ((ctl & 0x80) && snap.size() >= sizeof(agm::SnapshotHeader)) agm::seal_snapshot(snap.data(), snap.size());

    agm_session* s = session(kv, n_ctx);
    agm_session* ref = session(kv, n_ctx);
    agm_error e;
    check(agm_session_feed(s, kOwn, 3, &e) == AGM_OK);
    check(agm_session_feed(ref, kOwn, 3, &e) == AGM_OK);
    agm_model_info info;
    agm_model_get_info(model().m, &info);
    const size_t vb = info.vocab_size * sizeof(float);

    const agm_status st = agm_session_load(s, snap.data(), snap.size(), &e);
    if (st != AGM_OK) {
        check(one_line(e));
        check(agm_session_position(s) == 3);
        check(std::memcmp(agm_session_logits(s), agm_session_logits(ref), vb) == 0);
        const int32_t next = 9;
        check(agm_session_feed(s, &next, 1, &e) == AGM_OK && agm_session_feed(ref, &next, 1, &e) == AGM_OK);
        check(std::memcmp(agm_session_logits(s), agm_session_logits(ref), vb) == 0);
    } else {
        const uint32_t pos = agm_session_position(s);
        std::vector<uint8_t> again(agm_session_state_size(s));
        size_t w = 0;
        check(agm_session_save(s, again.data(), again.size(), &w, &e) == AGM_OK);
        check(again == snap);
        std::vector<int32_t> toks(pos + 1);
        size_t n = 0;
        check(agm_snapshot_tokens(model().m, snap.data(), snap.size(), toks.data(), toks.size(), &n, &e) == AGM_OK);
        check(n == pos && std::memcmp(toks.data(), agm_session_tokens(s), pos * 4) == 0);
        if (pos < n_ctx) {
            const int32_t next = 9;
            check(agm_session_feed(s, &next, 1, &e) == AGM_OK);
        }
    }
    agm_session_free(s);
    agm_session_free(ref);
    return 0;
}
