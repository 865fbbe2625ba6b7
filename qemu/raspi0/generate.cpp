// Greedy generation on the bare-metal image: tools/agmodel-run.cpp's loop
// with its defaults (greedy, the model's context, f32 KV cache), printing
// the same bytes. Today's API allocates the model and session with malloc
// (the heap of raspi0.ld); nothing else here allocates but the prompt ids.
#include "generate.h"

#include <cstdio>
#include <cstdlib>

#include "agmodel.h"

namespace {

struct Run {
    agm_fw_writer out;
    agm_model* model = nullptr;
    agm_session* session = nullptr;
    int32_t* ids = nullptr;

    ~Run() {
        std::free(ids);
        agm_session_free(session);
        agm_model_close(model);
    }
    int fail(const char* what, agm_status st, const agm_error& e) {
        char line[sizeof e.message + 96];
        const int n = std::snprintf(line, sizeof line, "agm-fw: %s: %s (%s)\n", what, e.message,
                                    agm_status_name(st));
        out(line, n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        return 1;
    }
};

}  // namespace

extern "C" int agm_fw_generate(const void* model_data, size_t model_bytes, const char* prompt,
                               size_t prompt_len, uint32_t steps, agm_fw_writer out,
                               size_t* memory_used) {
    Run r;
    r.out = out;
    agm_error e;
    agm_status st = agm_model_open_memory(model_data, model_bytes, nullptr, &r.model, &e);
    if (st != AGM_OK) return r.fail("cannot load the model", st, e);
    agm_model_info info;
    agm_model_get_info(r.model, &info);

    agm_session_options so;
    agm_session_options_default(&so);
    st = agm_session_create(r.model, &so, &r.session, &e);
    if (st != AGM_OK) return r.fail("cannot create a session", st, e);
    const uint32_t ctx = agm_session_context(r.session);
    if (steps > ctx) steps = ctx;

    // BOS first when the model takes it, and always for an empty prompt.
    const int add_bos = info.add_bos || (prompt_len == 0 && info.bos_id >= 0);
    size_t cap = prompt_len + 3, n_prompt = 0;
    r.ids = static_cast<int32_t*>(std::malloc(cap * sizeof(int32_t)));
    if (r.ids == nullptr) { e.message[0] = '\0'; return r.fail("prompt ids", AGM_ERR_NO_MEMORY, e); }
    st = agm_tokenize(r.model, prompt, prompt_len, add_bos, r.ids, cap, &n_prompt, &e);
    if (st == AGM_ERR_BUFFER) {
        std::free(r.ids);
        cap = n_prompt;
        r.ids = static_cast<int32_t*>(std::malloc(cap * sizeof(int32_t)));
        if (r.ids == nullptr) { e.message[0] = '\0'; return r.fail("prompt ids", AGM_ERR_NO_MEMORY, e); }
        st = agm_tokenize(r.model, prompt, prompt_len, add_bos, r.ids, cap, &n_prompt, &e);
    }
    if (st != AGM_OK) return r.fail("cannot encode the prompt", st, e);
    if (n_prompt > ctx || n_prompt == 0) {
        std::snprintf(e.message, sizeof e.message, "the prompt is %u tokens, the context holds %u",
                      (unsigned)n_prompt, (unsigned)ctx);
        return r.fail("cannot encode the prompt", AGM_ERR_ARGUMENT, e);
    }

    agm_sampler sampler;
    agm_sampler_init(&sampler, nullptr);  // greedy

    const size_t n_feed = n_prompt < steps ? n_prompt : steps;
    st = agm_session_feed(r.session, r.ids, n_feed, &e);
    if (st != AGM_OK) return r.fail("prompt failed", st, e);
    char piece[256];
    auto emit = [&](int32_t prev, int32_t tok) {
        const size_t n = agm_token_piece(r.model, prev, tok, AGM_PIECE_PRINTABLE, piece, sizeof piece);
        out(piece, n < sizeof piece ? n : sizeof piece);
    };
    for (size_t i = 1; i < n_feed; ++i) emit(r.ids[i - 1], r.ids[i]);

    // agmodel-run's loop: pick the next token (from the prompt while it
    // lasts), stop at BOS/EOS, print it, run it unless all steps are used.
    int32_t token = r.ids[n_feed - 1];
    size_t done = n_feed;
    for (;;) {
        int32_t next;
        if (done < n_prompt) {
            next = r.ids[done];
        } else {
            st = agm_session_sample(r.session, &sampler, &next, &e);
            if (st != AGM_OK) return r.fail("sampling failed", st, e);
        }
        if (next == info.bos_id || next == info.eos_id) break;
        emit(token, next);
        token = next;
        if (done >= steps) break;
        st = agm_session_feed(r.session, &token, 1, &e);
        if (st != AGM_OK) return r.fail("decoding failed", st, e);
        ++done;
    }
    out("\n", 1);
    if (memory_used != nullptr)
        *memory_used = agm_session_memory_used(r.session) + (size_t)info.model_bytes;
    return 0;
}
