// Generation on the bare-metal image: tools/agmodel-run.cpp's loops with its
// defaults (greedy, the model's context, f32 KV cache), printing the same
// bytes: plain (the prompt's prefix restored from a snapshot where one is
// linked in, as agmodel-run --prompt-cache restores it), or constrained to
// a grammar (engine/examples/constrained.c).
// The model, the session, the grammar and its matcher live in one static
// arena carved by the API's memory queries (agm_model_memory_size,
// agm_session_memory_size, agm_grammar_memory_size, agm_matcher_memory_size):
// the firmware makes no heap call at all (its heap peak is printed at exit).
#include "generate.h"

#include <cstdio>

#include "agm_marker.h"
#include "agmodel.h"
#include "constrained.h"

namespace {

// The engine's memory: the model's runtime state (tokenizer index and
// scratch), the session (KV cache, activations), the prompt's ids, and for
// a constrained run the grammar, its matcher and their buffers. Sized for
// the 3M model at its full context with room to spare; a model that needs
// more is refused with the sizes (AGM_ERR_BUFFER).
constexpr size_t kArenaBytes = 8u << 20;
alignas(64) unsigned char g_arena[kArenaBytes];

struct Run {
    agm_fw_writer out;
    agm_model* model = nullptr;
    agm_session* session = nullptr;
    agm_model_info info{};
    int32_t* ids = nullptr;
    size_t n_prompt = 0;
    uint32_t steps = 0;
    size_t used = 0;  // bytes of g_arena carved

    ~Run() {
        agm_session_free(session);  // in the arena: nothing to free, the calls end them
        agm_model_close(model);
    }
    int fail(const char* what, agm_status st, const agm_error& e) {
        char line[sizeof e.message + 96];
        const int n = std::snprintf(line, sizeof line, "agm-fw: %s: %s (%s)\n", what, e.message,
                                    agm_status_name(st));
        out(line, n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        return 1;
    }
    // The next `bytes` of the arena (64-aligned), or nullptr with *e set.
    void* take(size_t bytes, const char* what, agm_error* e) {
        bytes = (bytes + 63) & ~(size_t)63;
        if (bytes > kArenaBytes - used) {
            std::snprintf(e->message, sizeof e->message, "%s needs %u bytes, the arena has %u of %u left", what,
                          (unsigned)bytes, (unsigned)(kArenaBytes - used), (unsigned)kArenaBytes);
            return nullptr;
        }
        void* p = g_arena + used;
        used += bytes;
        return p;
    }
    void emit(int32_t prev, int32_t tok, uint32_t flags) {
        char piece[256];
        const size_t n = agm_token_piece(model, prev, tok, flags, piece, sizeof piece);
        out(piece, n < sizeof piece ? n : sizeof piece);
    }
};

// Opens the model and a session in the arena and encodes the prompt into
// r->ids (BOS first when the model takes it, and always for an empty
// prompt). 0, or 1 after the error line.
int open_run(Run* r, const void* model_data, size_t model_bytes, const char* prompt, size_t prompt_len,
             uint32_t steps) {
    agm_error e;
    agm_open_options oo;
    agm_open_options_default(&oo);
    oo.max_text_bytes = prompt_len > oo.max_text_bytes ? (uint32_t)prompt_len : oo.max_text_bytes;
    size_t need = 0;
    agm_status st = agm_model_memory_size(model_data, model_bytes, &oo, &need, &e);
    if (st != AGM_OK) return r->fail("cannot load the model", st, e);
    void* at = r->take(need, "the model", &e);
    if (at == nullptr) return r->fail("cannot load the model", AGM_ERR_BUFFER, e);
    st = agm_model_init(model_data, model_bytes, &oo, at, need, &r->model, &e);
    if (st != AGM_OK) return r->fail("cannot load the model", st, e);
    agm_model_get_info(r->model, &r->info);

    agm_session_options so;
    agm_session_options_default(&so);
    st = agm_session_memory_size(r->model, &so, &need, &e);
    if (st != AGM_OK) return r->fail("cannot create a session", st, e);
    if ((at = r->take(need, "the session", &e)) == nullptr) return r->fail("cannot create a session", AGM_ERR_BUFFER, e);
    st = agm_session_init(r->model, &so, at, need, &r->session, &e);
    if (st != AGM_OK) return r->fail("cannot create a session", st, e);
    const uint32_t ctx = agm_session_context(r->session);
    r->steps = steps > ctx ? ctx : steps;

    const int add_bos = r->info.add_bos || (prompt_len == 0 && r->info.bos_id >= 0);
    const size_t cap = prompt_len + 3;  // at most one id a byte, plus BOS
    r->ids = static_cast<int32_t*>(r->take(cap * sizeof(int32_t), "the prompt", &e));
    if (r->ids == nullptr) return r->fail("cannot encode the prompt", AGM_ERR_BUFFER, e);
    st = agm_tokenize(r->model, prompt, prompt_len, add_bos, r->ids, cap, &r->n_prompt, &e);
    if (st != AGM_OK) return r->fail("cannot encode the prompt", st, e);
    if (r->n_prompt > ctx || r->n_prompt == 0) {
        std::snprintf(e.message, sizeof e.message, "the prompt is %u tokens, the context holds %u",
                      (unsigned)r->n_prompt, (unsigned)ctx);
        return r->fail("cannot encode the prompt", AGM_ERR_ARGUMENT, e);
    }
    return 0;
}

}  // namespace

extern "C" int agm_fw_generate(const void* model_data, size_t model_bytes, const char* prompt,
                               size_t prompt_len, uint32_t steps, agm_fw_writer out,
                               size_t* memory_used) {
    return agm_fw_generate_cached(model_data, model_bytes, nullptr, 0, prompt, prompt_len, steps, out, memory_used,
                                  nullptr);
}

extern "C" int agm_fw_generate_cached(const void* model_data, size_t model_bytes, const void* snapshot,
                                      size_t snapshot_bytes, const char* prompt, size_t prompt_len, uint32_t steps,
                                      agm_fw_writer out, size_t* memory_used, agm_fw_cache_report* report) {
    Run r;
    r.out = out;
    if (open_run(&r, model_data, model_bytes, prompt, prompt_len, steps) != 0) return 1;
    agm_error e;
    agm_sampler sampler;
    agm_sampler_init(&sampler, nullptr);  // greedy

    const size_t n_feed = r.n_prompt < r.steps ? r.n_prompt : r.steps;
    // Time to the first token: from here to the first sample (the cycle
    // plugin's markers; no-ops on a Pi).
    agm_perf_begin();
    size_t restored = 0;
    agm_status st = AGM_OK;
    if (report != nullptr) report->refused[0] = '\0';
    if (snapshot != nullptr) {
        // agmodel-run --prompt-cache's rule: the snapshot's tokens that begin
        // the prompt are restored (all but its last token at most: the
        // logits of a position are not in a snapshot), the rest is fed.
        const uint32_t ctx = agm_session_context(r.session);
        int32_t* held = static_cast<int32_t*>(r.take((size_t)ctx * sizeof(int32_t), "the snapshot's tokens", &e));
        if (held == nullptr) return r.fail("cannot restore the snapshot", AGM_ERR_BUFFER, e);
        size_t n_held = 0;
        st = agm_snapshot_tokens(r.model, snapshot, snapshot_bytes, held, ctx, &n_held, &e);
        if (st == AGM_OK) {
            restored = agm_reusable_prefix(held, n_held, r.ids, n_feed);
            if (restored > 0) {
                st = agm_session_load(r.session, snapshot, snapshot_bytes, &e);
                if (st == AGM_OK) st = agm_session_truncate(r.session, (uint32_t)restored, &e);
            }
        }
        if (st != AGM_OK) {
            // Refused (another model, damaged): the session is as it was;
            // recompute, and say why.
            restored = 0;
            agm_session_reset(r.session);
            if (report != nullptr)
                std::snprintf(report->refused, sizeof report->refused, "%s (%s)", e.message, agm_status_name(st));
        }
    }
    st = agm_session_feed(r.session, r.ids + restored, n_feed - restored, &e);
    if (st != AGM_OK) return r.fail("prompt failed", st, e);
    if (report != nullptr) {
        report->restored = restored;
        report->prompt_tokens = n_feed;
    }
    for (size_t i = 1; i < n_feed; ++i) r.emit(r.ids[i - 1], r.ids[i], AGM_PIECE_PRINTABLE);

    // agmodel-run's loop: pick the next token (from the prompt while it
    // lasts), stop at BOS/EOS, print it, run it unless all steps are used.
    int32_t token = r.ids[n_feed - 1];
    size_t done = n_feed;
    bool first = true;
    for (;;) {
        int32_t next;
        if (done < r.n_prompt) {
            next = r.ids[done];
        } else {
            st = agm_session_sample(r.session, &sampler, &next, &e);
            if (st != AGM_OK) return r.fail("sampling failed", st, e);
            if (first) agm_perf_end();
            first = false;
        }
        if (next == r.info.bos_id || next == r.info.eos_id) break;
        r.emit(token, next, AGM_PIECE_PRINTABLE);
        token = next;
        if (done >= r.steps) break;
        st = agm_session_feed(r.session, &token, 1, &e);
        if (st != AGM_OK) return r.fail("decoding failed", st, e);
        ++done;
    }
    out("\n", 1);
    if (memory_used != nullptr) *memory_used = r.used;
    return 0;
}

namespace {
void write_out(void* ctx, const char* bytes, size_t n) { (*reinterpret_cast<agm_fw_writer*>(ctx))(bytes, n); }
}  // namespace

extern "C" int agm_fw_generate_constrained(const void* model_data, size_t model_bytes, const char* prompt,
                                           size_t prompt_len, uint32_t steps, const char* grammar,
                                           size_t grammar_len, agm_fw_writer out, size_t* memory_used) {
    Run r;
    r.out = out;
    if (open_run(&r, model_data, model_bytes, prompt, prompt_len, steps) != 0) return 1;
    agm_error e;
    if (r.n_prompt >= r.steps) {
        std::snprintf(e.message, sizeof e.message, "the prompt leaves no position to generate in");
        return r.fail("cannot generate", AGM_ERR_ARGUMENT, e);
    }
    // The grammar, bound to the model's vocabulary, and its matcher.
    size_t need = 0;
    agm_status st = agm_grammar_memory_size(r.model, grammar, grammar_len, nullptr, &need, &e);
    if (st != AGM_OK) return r.fail("grammar", st, e);
    void* at = r.take(need, "the grammar", &e);
    if (at == nullptr) return r.fail("grammar", AGM_ERR_BUFFER, e);
    agm_grammar* g = nullptr;
    st = agm_grammar_init(r.model, grammar, grammar_len, nullptr, at, need, &g, &e);
    if (st != AGM_OK) return r.fail("grammar", st, e);
    st = agm_matcher_memory_size(g, &need, &e);
    if (st != AGM_OK) return r.fail("matcher", st, e);
    if ((at = r.take(need, "the matcher", &e)) == nullptr) return r.fail("matcher", AGM_ERR_BUFFER, e);
    agm_matcher* m = nullptr;
    st = agm_matcher_init(g, at, need, &m, &e);
    if (st != AGM_OK) return r.fail("matcher", st, e);
    agm_ex_buffers b{};
    b.mask_words = (r.info.vocab_size + 31) / 32;
    b.forced_cap = 256;
    b.mask = static_cast<uint32_t*>(r.take(b.mask_words * 4, "the masks", &e));
    b.none = b.mask == nullptr ? nullptr : static_cast<uint32_t*>(r.take(b.mask_words * 4, "the masks", &e));
    b.forced = b.none == nullptr ? nullptr : static_cast<int32_t*>(r.take(b.forced_cap * 4, "the masks", &e));
    if (b.forced == nullptr) return r.fail("matcher", AGM_ERR_BUFFER, e);

    for (size_t i = 1; i < r.n_prompt; ++i) r.emit(r.ids[i - 1], r.ids[i], AGM_PIECE_PRINTABLE);
    agm_sampler sampler;
    agm_sampler_init(&sampler, nullptr);  // greedy
    int complete = 0;
    st = agm_ex_constrained(r.model, r.session, &sampler, m, r.ids, r.n_prompt, r.steps, &b, write_out, &r.out,
                            &complete, &e);
    out("\n", 1);
    agm_matcher_free(m);
    agm_grammar_free(g);
    if (st != AGM_OK) return r.fail("generation failed", st, e);
    if (!complete) {
        std::snprintf(e.message, sizeof e.message, "%u positions ended the output before the grammar was complete",
                      (unsigned)r.steps);
        return r.fail("generation failed", AGM_ERR_ARGUMENT, e);
    }
    if (memory_used != nullptr) *memory_used = r.used;
    return 0;
}
