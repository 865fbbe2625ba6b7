// Greedy generation on the bare-metal image: tools/agmodel-run.cpp's loop
// with its defaults (greedy, the model's context, f32 KV cache), printing
// the same bytes. The model and the session live in one static arena sized
// by the API's memory queries (agm_model_memory_size, agm_session_memory_size):
// the firmware makes no heap call at all (its heap peak is printed at exit).
#include "generate.h"

#include <cstdio>

#include "agmodel.h"

namespace {

// The engine's memory: the model's runtime state (tokenizer index and
// scratch), the session (KV cache, activations), the prompt's ids. Sized for
// the 3M model at its full context with room to spare; a model that needs
// more is refused with the sizes (AGM_ERR_BUFFER).
constexpr size_t kArenaBytes = 8u << 20;
alignas(64) unsigned char g_arena[kArenaBytes];

struct Run {
    agm_fw_writer out;
    agm_model* model = nullptr;
    agm_session* session = nullptr;
    int32_t* ids = nullptr;

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
};

}  // namespace

extern "C" int agm_fw_generate(const void* model_data, size_t model_bytes, const char* prompt,
                               size_t prompt_len, uint32_t steps, agm_fw_writer out,
                               size_t* memory_used) {
    Run r;
    r.out = out;
    agm_error e;
    // Carve the arena: model, then session, then the prompt's ids.
    agm_open_options oo;
    agm_open_options_default(&oo);
    oo.max_text_bytes = prompt_len > oo.max_text_bytes ? (uint32_t)prompt_len : oo.max_text_bytes;
    size_t model_need = 0, session_need = 0;
    agm_status st = agm_model_memory_size(model_data, model_bytes, &oo, &model_need, &e);
    if (st != AGM_OK) return r.fail("cannot load the model", st, e);
    model_need = (model_need + 63) & ~(size_t)63;
    if (model_need > kArenaBytes) {
        std::snprintf(e.message, sizeof e.message, "the model needs %u bytes, the arena has %u",
                      (unsigned)model_need, (unsigned)kArenaBytes);
        return r.fail("cannot load the model", AGM_ERR_BUFFER, e);
    }
    st = agm_model_init(model_data, model_bytes, &oo, g_arena, model_need, &r.model, &e);
    if (st != AGM_OK) return r.fail("cannot load the model", st, e);
    agm_model_info info;
    agm_model_get_info(r.model, &info);

    agm_session_options so;
    agm_session_options_default(&so);
    st = agm_session_memory_size(r.model, &so, &session_need, &e);
    if (st != AGM_OK) return r.fail("cannot create a session", st, e);
    session_need = (session_need + 63) & ~(size_t)63;
    const size_t cap = prompt_len + 3;  // at most one id a byte, plus BOS
    if (model_need + session_need + cap * sizeof(int32_t) > kArenaBytes) {
        std::snprintf(e.message, sizeof e.message, "model %u + session %u + prompt bytes exceed the arena's %u",
                      (unsigned)model_need, (unsigned)session_need, (unsigned)kArenaBytes);
        return r.fail("cannot create a session", AGM_ERR_BUFFER, e);
    }
    st = agm_session_init(r.model, &so, g_arena + model_need, session_need, &r.session, &e);
    if (st != AGM_OK) return r.fail("cannot create a session", st, e);
    const uint32_t ctx = agm_session_context(r.session);
    if (steps > ctx) steps = ctx;

    // BOS first when the model takes it, and always for an empty prompt.
    const int add_bos = info.add_bos || (prompt_len == 0 && info.bos_id >= 0);
    size_t n_prompt = 0;
    r.ids = reinterpret_cast<int32_t*>(g_arena + model_need + session_need);
    st = agm_tokenize(r.model, prompt, prompt_len, add_bos, r.ids, cap, &n_prompt, &e);
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
    if (memory_used != nullptr) *memory_used = model_need + session_need + cap * sizeof(int32_t);
    return 0;
}
