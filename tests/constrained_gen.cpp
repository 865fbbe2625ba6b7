// Constrained generation end to end, checked at every step: for each JSON
// Schema in a directory, the schema's grammar drives real generation
// (the bundled 3M model, or a GPT-2 byte-level BPE test model) at
// temperatures 0, 0.7 and 1.5 with different seeds and prompts, jump-forward
// on and off. At every sampled step the grammar's token mask must equal a
// brute-force check of every token, and the token sampled under the mask
// must equal the one the plain sampler picks from the logits with every
// disallowed token at -infinity (same sampler state). Each output is written
// to OUT_DIR with a manifest line "FILE<TAB>SCHEMA"; tests/validate_outputs.py
// then validates them with a real JSON Schema validator.
//
//   agm-constrained-gen [--unbounded NAME.json]... bundled|gpt2 SCHEMA_DIR OUT_DIR
//                       RUNS_PER_TEMP [MAX_RUNS]
//
// Exit 0 when every run finished (the grammar complete) and every step
// matched; 1 otherwise, after saying where. A schema named with --unbounded
// describes texts of unbounded size (recursion): a model may keep a tree
// growing until the position budget runs out, as any length-capped
// generation may (greedy on a random model does). Such a run still has every
// step checked; it is counted as truncated and left out of the manifest.
// Every other run must complete its grammar.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <string>
#include <vector>

#include "agm/gguf.h"
#include "agm/gguf_vocab.h"
#include "agm/json_schema.h"
#include "agm/synth.h"
#include "agmodel.h"
#include "gpt2_model.h"
#include "grammar/grammar.h"
#include "sampler.h"
#include "test_util.h"

namespace {

struct Model {
    agm_model* m = nullptr;
    std::vector<uint8_t> image;
    std::unique_ptr<agm_test::AlignedCopy> copy;
    ~Model() { agm_model_close(m); }
};

bool open_model(const std::string& kind, Model* md) {
    agm_error e;
    if (kind == "bundled") {
        if (agm_model_open_file(agm_test::bundled_model().c_str(), nullptr, &md->m, &e) != AGM_OK) {
            std::fprintf(stderr, "bundled model: %s\n", e.message);
            return false;
        }
        return true;
    }
    agm::SynthConfig c;
    // Small shapes: the vocabulary is the point, and the classifier over
    // 50,257 rows dominates each position's cost.
    agm::synth_preset("tiny", &c);
    c.dim = 64;
    c.hidden_dim = 128;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.n_layers = 2;
    std::string why;
    if (!agm_test::gpt2_test_model(c, &md->image, &why)) {
        std::fprintf(stderr, "%s\n", why.c_str());
        return false;
    }
    md->copy.reset(new agm_test::AlignedCopy(md->image));
    if (agm_model_open_memory(md->copy->data(), md->image.size(), nullptr, &md->m, &e) != AGM_OK) {
        std::fprintf(stderr, "BPE test model: %s\n", e.message);
        return false;
    }
    return true;
}

// The brute-force mask: every token's bytes tried alone against the
// matcher. A token whose first byte cannot follow is refused without trying
// the rest (what cannot start a continuation cannot be one).
void brute_mask(agm_matcher* mt, const agm_model* model, int32_t prev, std::vector<uint32_t>* mask) {
    agm_model_info info;
    agm_model_get_info(model, &info);
    std::fill(mask->begin(), mask->end(), 0u);
    bool first[256];
    for (int b = 0; b < 256; ++b) {
        const uint8_t byte = (uint8_t)b;
        agm::Error err;
        first[b] = false;
        agm::gr::matcher_try_bytes(mt, &byte, 1, &first[b], &err);
    }
    char buf[1024];
    for (uint32_t t = 0; t < info.vocab_size; ++t) {
        bool ok = false;
        if ((int32_t)t == info.eos_id) {
            ok = agm_matcher_is_complete(mt) != 0;
        } else {
            const size_t n = agm_token_piece(model, prev, (int32_t)t, 0, buf, sizeof buf);
            if (n > 0 && n <= sizeof buf && first[(uint8_t)buf[0]]) {
                agm::Error err;
                agm::gr::matcher_try_bytes(mt, reinterpret_cast<const uint8_t*>(buf), n, &ok, &err);
            }
        }
        if (ok) (*mask)[t >> 5] |= 1u << (t & 31);
    }
}

struct Totals {
    long runs = 0, sampled = 0, forced = 0, failed = 0, truncated = 0, steps_checked = 0;
    long sparse_feeds = 0, rows_checked = 0;
    double brute_s = 0, mask_s = 0;
};

enum class Outcome { Complete, Truncated, Failed };

// One run; the output's bytes into *text. Failed (after a message) on any
// mismatch or error; Truncated when the position budget ran out first.
Outcome run_one(const Model& md, agm_grammar* g, const std::string& prompt, const agm_sampler_params& sp,
                bool jump_forward, size_t max_positions, std::string* text, Totals* tot) {
    agm_error e;
    agm_model_info info;
    agm_model_get_info(md.m, &info);
    agm_session_options so;
    agm_session_options_default(&so);
    so.n_ctx = (uint32_t)max_positions;
    // s computes only the classifier rows the next step allows (the sparse
    // classifier), full every row: the reference.
    agm_session *s = nullptr, *full = nullptr;
    if (agm_session_create(md.m, &so, &s, &e) != AGM_OK || agm_session_create(md.m, &so, &full, &e) != AGM_OK) {
        std::fprintf(stderr, "session: %s\n", e.message);
        agm_session_free(s);
        return Outcome::Failed;
    }
    agm_matcher* mt = nullptr;
    if (agm_matcher_create(g, &mt, &e) != AGM_OK) {
        std::fprintf(stderr, "matcher: %s\n", e.message);
        agm_session_free(s);
        agm_session_free(full);
        return Outcome::Failed;
    }
    std::vector<int32_t> ids(prompt.size() + 8);
    size_t n_ids = 0;
    bool ok = agm_tokenize(md.m, prompt.data(), prompt.size(), info.add_bos, ids.data(), ids.size(), &n_ids, &e) ==
              AGM_OK;
    if (ok && n_ids == 0) {  // a vocabulary without BOS and an empty prompt: start from EOS
        ids[0] = info.eos_id;
        n_ids = 1;
    }
    agm_sampler smp;
    agm_sampler_init(&smp, &sp);
    for (size_t i = 0; i < n_ids; ++i) agm_sampler_accept(&smp, ids[i]);
    int32_t last = ids[n_ids - 1];
    ok = ok && agm_matcher_reset(mt, last) == AGM_OK;
    const size_t words = (info.vocab_size + 31) / 32;
    std::vector<uint32_t> mask(words), want(words), rows(words);
    std::vector<int32_t> ahead(256);
    // Feeds both sessions; s with the rows of the next step's mask when the
    // next step samples (as agmodel-run does).
    bool rows_ready = false;  // rows is the matcher state's mask
    auto feed = [&](const int32_t* t, size_t n) {
        size_t n_ahead = 0;
        rows_ready = false;
        if (ok && jump_forward) ok = agm_matcher_forced_tokens(mt, ahead.data(), ahead.size(), &n_ahead, &e) == AGM_OK;
        bool sparse = false;
        if (ok && n_ahead == 0 && !agm_matcher_is_done(mt)) {
            uint32_t n_rows = 0;
            const auto t0 = std::chrono::steady_clock::now();
            ok = agm_matcher_fill_mask(mt, rows.data(), words, &n_rows, &e) == AGM_OK;
            tot->mask_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            sparse = rows_ready = true;
        }
        // Before forced tokens no logits are needed (no rows at all).
        if (n_ahead > 0) std::fill(rows.begin(), rows.end(), 0u);
        ok = ok && agm_session_feed_rows(s, t, n, sparse || n_ahead > 0 ? rows.data() : nullptr, &e) == AGM_OK;
        ok = ok && agm_session_feed(full, t, n, &e) == AGM_OK;
        if (sparse) ++tot->sparse_feeds;
    };
    feed(ids.data(), n_ids);
    std::vector<float> inf(info.vocab_size);
    std::vector<uint8_t> scratch(agm::sampler_scratch_bytes(info.vocab_size));
    std::vector<int32_t> jump(256);
    size_t pos = n_ids;
    char piece[1024];
    auto emit = [&](int32_t prev, int32_t tok) {
        const size_t n = agm_token_piece(md.m, prev, tok, 0, piece, sizeof piece);
        text->append(piece, n < sizeof piece ? n : sizeof piece);
    };
    while (ok && !agm_matcher_is_done(mt)) {
        size_t n_jump = 0;
        if (jump_forward) ok = agm_matcher_forced_tokens(mt, jump.data(), jump.size(), &n_jump, &e) == AGM_OK;
        if (!ok) break;
        if (n_jump > max_positions - pos) n_jump = max_positions - pos;
        if (n_jump > 0) {
            for (size_t i = 0; i < n_jump && ok; ++i) {
                ok = agm_matcher_accept_token(mt, jump[i], &e) == AGM_OK;
                agm_sampler_accept(&smp, jump[i]);
                emit(i == 0 ? last : jump[i - 1], jump[i]);
            }
            feed(jump.data(), n_jump);
            last = jump[n_jump - 1];
            pos += n_jump;
            tot->forced += (long)n_jump;
        } else {
            if (pos >= max_positions) break;
            uint32_t n_allowed = 0;
            const auto t0 = std::chrono::steady_clock::now();
            if (rows_ready) mask = rows;  // computed before the feed (once per state, as agmodel-run does)
            else ok = agm_matcher_fill_mask(mt, mask.data(), words, &n_allowed, &e) == AGM_OK;
            const auto t1 = std::chrono::steady_clock::now();
            brute_mask(mt, md.m, last, &want);
            const auto t2 = std::chrono::steady_clock::now();
            if (!rows_ready) tot->mask_s += std::chrono::duration<double>(t1 - t0).count();
            tot->brute_s += std::chrono::duration<double>(t2 - t1).count();
            if (ok && mask != want) {
                std::fprintf(stderr, "step %zu: the grammar's mask differs from the brute-force check\n", pos);
                ok = false;
                break;
            }
            // The sparse classifier's rows are the full product's.
            const float* logits = agm_session_logits(full);
            const float* sparse_logits = agm_session_logits(s);
            for (uint32_t t = 0; ok && t < info.vocab_size; ++t) {
                if (!((want[t >> 5] >> (t & 31)) & 1)) continue;
                if (std::memcmp(&logits[t], &sparse_logits[t], sizeof(float)) != 0) {
                    std::fprintf(stderr, "step %zu: the sparse classifier's logit of token %u differs\n", pos, t);
                    ok = false;
                }
                ++tot->rows_checked;
            }
            if (!ok) break;
            // The reference: the plain sampler on the logits with every
            // disallowed token at -infinity, from the same state.
            for (uint32_t t = 0; t < info.vocab_size; ++t)
                inf[t] = (want[t >> 5] >> (t & 31)) & 1 ? logits[t] : -INFINITY;
            agm_sampler ref = smp;
            const int32_t expected = agm::sample(&ref, inf.data(), info.vocab_size, scratch.data());
            int32_t next = -1;
            ok = ok && agm_session_sample_masked(s, &smp, mask.data(), &next, &e) == AGM_OK;
            if (ok && (next != expected || ref.rng_state != smp.rng_state)) {
                std::fprintf(stderr, "step %zu: sampled %d under the mask, the brute-force distribution gives %d\n",
                             pos, next, expected);
                ok = false;
                break;
            }
            ++tot->steps_checked;
            ok = ok && agm_matcher_accept_token(mt, next, &e) == AGM_OK;
            if (!ok || next == info.eos_id) break;
            emit(last, next);
            last = next;
            ++tot->sampled;
            feed(&next, 1);
            ++pos;
        }
    }
    if (!ok && e.message[0] != 0) std::fprintf(stderr, "error: %s\n", e.message);
    const bool complete = agm_matcher_is_complete(mt) != 0;
    agm_matcher_free(mt);
    agm_session_free(s);
    agm_session_free(full);
    if (!ok) return Outcome::Failed;
    return complete ? Outcome::Complete : Outcome::Truncated;
}

std::vector<std::string> list_schemas(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return out;
    while (dirent* ent = readdir(d)) {
        const std::string n = ent->d_name;
        if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0) out.push_back(n);
    }
    closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> unbounded;
    int a = 1;
    while (a + 1 < argc && std::strcmp(argv[a], "--unbounded") == 0) {
        unbounded.push_back(argv[a + 1]);
        a += 2;
    }
    if (argc - a < 4) {
        std::fprintf(stderr, "usage: agm-constrained-gen [--unbounded NAME.json]... bundled|gpt2 SCHEMA_DIR OUT_DIR "
                             "RUNS_PER_TEMP [MAX_RUNS]\n");
        return 2;
    }
    const std::string kind = argv[a], dir = argv[a + 1], out_dir = argv[a + 2];
    const int per_temp = std::atoi(argv[a + 3]);
    const long max_runs = argc - a > 4 ? std::atol(argv[a + 4]) : 1000000;
    Model md;
    if (!open_model(kind, &md)) return 2;
    const std::vector<std::string> schemas = list_schemas(dir);
    if (schemas.empty()) {
        std::fprintf(stderr, "no schemas in %s\n", dir.c_str());
        return 2;
    }
    const std::string manifest_path = out_dir + "/" + kind + ".manifest";
    FILE* manifest = std::fopen(manifest_path.c_str(), "w");
    if (manifest == nullptr) {
        std::perror(manifest_path.c_str());
        return 2;
    }
    const char* prompts[] = {"Once upon a time", "The report:", "Tom said", "", "One day, a big dog", "{"};
    const float temps[] = {0.0f, 0.7f, 1.5f};
    Totals tot;
    const auto t_start = std::chrono::steady_clock::now();
    for (size_t si = 0; si < schemas.size(); ++si) {
        std::vector<uint8_t> schema;
        if (!agm_test::read_file(dir + "/" + schemas[si], &schema)) return 2;
        std::string gbnf;
        agm::Error err;
        if (!agm::json_schema_to_gbnf(schema.data(), schema.size(), agm::SchemaOptions(), &gbnf, &err)) {
            std::fprintf(stderr, "%s: %s\n", schemas[si].c_str(), err.msg);
            return 1;
        }
        agm_grammar* g = nullptr;
        agm_error e;
        if (agm_grammar_create(md.m, gbnf.data(), gbnf.size(), nullptr, &g, &e) != AGM_OK) {
            std::fprintf(stderr, "%s: %s\n", schemas[si].c_str(), e.message);
            return 1;
        }
        for (int ti = 0; ti < 3; ++ti)
            for (int r = 0; r < per_temp && tot.runs < max_runs; ++r) {
                agm_sampler_params sp;
                agm_sampler_params_default(&sp);
                sp.temperature = temps[ti];
                sp.seed = 1000 + (uint64_t)(si * 100 + (size_t)ti * 10 + (size_t)r);
                if (ti == 1) {  // the usual controls at 0.7, in turn
                    if (r % 3 == 1) sp.top_p = 0.9f;
                    if (r % 3 == 2) sp.min_p = 0.05f;
                    if (r % 2 == 1) sp.repeat_penalty = 1.1f;
                    if (r % 4 == 3) sp.top_k = 40;
                }
                const bool jump = r % 3 != 2;
                const std::string prompt = prompts[(si + (size_t)r) % 6];
                std::string text;
                const Outcome out = run_one(md, g, prompt, sp, jump, 480, &text, &tot);
                char name[160];
                std::snprintf(name, sizeof name, "%s-%s-t%.1f-s%llu%s.out", kind.c_str(),
                              schemas[si].substr(0, schemas[si].size() - 5).c_str(), (double)temps[ti],
                              (unsigned long long)sp.seed, jump ? "" : "-nojump");
                const std::string path = out_dir + "/" + name;
                FILE* f = std::fopen(path.c_str(), "wb");
                if (f == nullptr || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0) {
                    std::perror(path.c_str());
                    return 2;
                }
                ++tot.runs;
                const bool may_truncate =
                    std::find(unbounded.begin(), unbounded.end(), schemas[si]) != unbounded.end();
                if (out == Outcome::Complete) {
                    std::fprintf(manifest, "%s\t%s/%s\n", name, dir.c_str(), schemas[si].c_str());
                } else if (out == Outcome::Truncated && may_truncate) {
                    ++tot.truncated;
                    std::printf("truncated at the position budget (unbounded schema): %s\n", name);
                } else {
                    ++tot.failed;
                    std::fprintf(stderr, "FAIL %s (prompt \"%s\"): %s: %s\n", name, prompt.c_str(),
                                 out == Outcome::Truncated ? "the grammar is not complete after 480 positions"
                                                           : "see above",
                                 text.c_str());
                }
            }
        agm_grammar_free(g);
    }
    std::fclose(manifest);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    std::printf("%s: %zu schemas, %ld runs, %ld complete, %ld truncated, %ld failed; %ld sampled steps (each mask equal to the brute force, each "
                "token equal to the restricted distribution's), %ld forced tokens; %ld sparse-classifier feeds, "
                "%ld rows equal to the full product's; %.3f ms per mask, %.1f ms per brute-force check; %.1f s\n",
                kind.c_str(), schemas.size(), tot.runs, tot.runs - tot.truncated - tot.failed, tot.truncated,
                tot.failed, tot.steps_checked, tot.forced, tot.sparse_feeds, tot.rows_checked,
                tot.steps_checked ? tot.mask_s * 1e3 / (double)tot.steps_checked : 0.0,
                tot.steps_checked ? tot.brute_s * 1e3 / (double)tot.steps_checked : 0.0, secs);
    if (tot.sparse_feeds == 0 || tot.rows_checked == 0) {
        std::fprintf(stderr, "no step used the sparse classifier: nothing of it was checked\n");
        return 1;
    }
    return tot.failed == 0 ? 0 : 1;
}
