// agmodel-run: generate text with a model, streaming it as it is made.
//
//   agmodel-run [-m model] [-p prompt] [-n steps] [-c ctx] [--temp T] [--top-k K]
//               [--top-p P] [--seed S] [--kv f32|f16|q8] [--stats]
//
// -n counts positions, the prompt's tokens included (llama2.c's "steps"),
// so `-n 256` reproduces the reference's 256-step generations. Generation
// stops early at BOS or EOS. Without -m the bundled model (the 3M BitNet
// TinyStories model, built into this binary) is used.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agmodel.h"
#include "tool_util.h"

extern "C" const unsigned char agm_bundled_model[];
extern "C" const unsigned char agm_bundled_model_end[];

namespace {

void usage(FILE* f) {
    std::fprintf(f,
        "usage: agmodel-run [-m model] [-p prompt] [-n steps] [-c ctx] [--temp T]\n"
        "                   [--top-k K] [--top-p P] [--seed S] [--kv f32|f16|q8] [--stats]\n"
        "  -m FILE     model file (default: the bundled 3M TinyStories BitNet model)\n"
        "  -p TEXT     prompt (default: empty)\n"
        "  -n N        positions to run, prompt included (default 256; at most the context)\n"
        "  -c N        context length of the session (default: the model's)\n"
        "  --temp T    temperature; 0 = greedy (default 0)\n"
        "  --top-k K   sample among the K most likely tokens (0 = off)\n"
        "  --top-p P   nucleus sampling threshold (1 = off)\n"
        "  --seed S    random seed (default 42)\n"
        "  --kv TYPE   KV cache: f32 (exact, default), f16 or q8 (int8 per head)\n"
        "  --stats     print speed and memory figures to stderr at the end\n");
}

double now_s() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

int fail_with(const char* what, agm_status st, const agm_error& e) {
    std::fprintf(stderr, "agmodel-run: %s: %s (%s)\n", what, e.message, agm_status_name(st));
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_path, prompt;
    long long steps = 256, n_ctx = 0, top_k = 0, seed = 42;
    double temp = 0.0, top_p = 1.0;
    uint32_t kv = AGM_KV_F32;
    bool stats = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        auto bad = [&](const char* what) {
            std::fprintf(stderr, "agmodel-run: %s %s\n", a.c_str(), what);
            return 2;
        };
        if (a == "-h" || a == "--help") { usage(stdout); return 0; }
        if (a == "--stats") { stats = true; continue; }
        if (!has_value) { usage(stderr); return bad("needs a value"); }
        const char* v = argv[++i];
        if (a == "-m") model_path = v;
        else if (a == "-p") prompt = v;
        else if (a == "-n") { if (!agm::parse_long(v, 1, 1 << 30, &steps)) return bad("must be a positive integer"); }
        else if (a == "-c") { if (!agm::parse_long(v, 1, 1 << 30, &n_ctx)) return bad("must be a positive integer"); }
        else if (a == "--temp") { if (!agm::parse_float(v, 0.0, 100.0, &temp)) return bad("must be in 0..100"); }
        else if (a == "--top-k") { if (!agm::parse_long(v, 0, 1 << 30, &top_k)) return bad("must be >= 0"); }
        else if (a == "--top-p") { if (!agm::parse_float(v, 0.0, 1.0, &top_p)) return bad("must be in 0..1"); }
        else if (a == "--seed") { if (!agm::parse_long(v, 0, INT64_MAX, &seed)) return bad("must be >= 0"); }
        else if (a == "--kv") {
            if (std::strcmp(v, "f32") == 0) kv = AGM_KV_F32;
            else if (std::strcmp(v, "f16") == 0) kv = AGM_KV_F16;
            else if (std::strcmp(v, "q8") == 0) kv = AGM_KV_Q8;
            else return bad("must be f32, f16 or q8");
        }
        else { usage(stderr); return bad("is not an option"); }
    }

    agm_error e;
    agm_model* model = nullptr;
    agm_status st;
    agm_open_options oo;
    agm_open_options_default(&oo);
    if (prompt.size() > oo.max_text_bytes) oo.max_text_bytes = (uint32_t)prompt.size();  // tokenizer scratch
    const double t_load = now_s();
    if (model_path.empty()) {
        st = agm_model_open_memory(agm_bundled_model,
                                   (size_t)(agm_bundled_model_end - agm_bundled_model), &oo,
                                   &model, &e);
    } else {
        st = agm_model_open_file(model_path.c_str(), &oo, &model, &e);
    }
    if (st != AGM_OK) return fail_with("cannot load the model", st, e);
    const double load_s = now_s() - t_load;
    agm_model_info info;
    agm_model_get_info(model, &info);

    agm_session_options so;
    agm_session_options_default(&so);
    so.n_ctx = (uint32_t)n_ctx;
    so.kv_type = kv;
    agm_session* session = nullptr;
    st = agm_session_create(model, &so, &session, &e);
    if (st != AGM_OK) {
        agm_model_close(model);
        return fail_with("cannot create a session", st, e);
    }
    const uint32_t ctx = agm_session_context(session);
    if (steps > (long long)ctx) steps = ctx;

    // Encode the prompt (BOS first when the model takes it, and always for an
    // empty prompt: something must start the text), growing the buffer once if needed.
    const int add_bos = info.add_bos || (prompt.empty() && info.bos_id >= 0);
    std::vector<int32_t> ids(prompt.size() + 3);
    size_t n_prompt = 0;
    st = agm_tokenize(model, prompt.data(), prompt.size(), add_bos, ids.data(), ids.size(), &n_prompt, &e);
    if (st == AGM_ERR_BUFFER) {
        ids.resize(n_prompt);
        st = agm_tokenize(model, prompt.data(), prompt.size(), add_bos, ids.data(), ids.size(), &n_prompt, &e);
    }
    int rc = 0;
    if (st != AGM_OK) {
        rc = fail_with("cannot encode the prompt", st, e);
    } else if (n_prompt > ctx) {
        std::fprintf(stderr, "agmodel-run: the prompt is %zu tokens, the context holds %u "
                     "(use a shorter prompt or -c)\n", n_prompt, ctx);
        rc = 1;
    }
    if (rc != 0) {
        agm_session_free(session);
        agm_model_close(model);
        return rc;
    }

    agm_sampler_params sp;
    agm_sampler_params_default(&sp);
    sp.temperature = (float)temp;
    sp.top_k = (uint32_t)top_k;
    sp.top_p = (float)top_p;
    sp.seed = (uint64_t)seed;
    agm_sampler sampler;
    agm_sampler_init(&sampler, &sp);

    // The prompt goes through the model in one call (its logits are only
    // needed after the last token); its text is printed as the reference
    // prints it, piece by piece after BOS.
    const size_t n_feed = n_prompt < (size_t)steps ? n_prompt : (size_t)steps;
    const double t_prompt = now_s();
    st = agm_session_feed(session, ids.data(), n_feed, &e);
    const double prompt_s = now_s() - t_prompt;
    if (st != AGM_OK) {
        agm_session_free(session);
        agm_model_close(model);
        return fail_with("prompt failed", st, e);
    }
    char piece[256];
    auto emit = [&](int32_t prev, int32_t tok) {
        const size_t n = agm_token_piece(model, prev, tok, AGM_PIECE_PRINTABLE, piece, sizeof piece);
        std::fwrite(piece, 1, n < sizeof piece ? n : sizeof piece, stdout);
    };
    for (size_t i = 1; i < n_feed; ++i) emit(ids[i - 1], ids[i]);
    std::fflush(stdout);

    // The loop of the reference: with logits after `done` positions, pick
    // the next token (from the prompt while it lasts), stop at BOS/EOS, print
    // it, and run it unless all `steps` positions are used.
    int32_t token = ids[n_feed - 1];
    size_t done = n_feed, generated = 0;
    const double t_gen = now_s();
    for (;;) {
        int32_t next;
        if (done < n_prompt) {
            next = ids[done];
        } else {
            st = agm_session_sample(session, &sampler, &next, &e);
            if (st != AGM_OK) { rc = fail_with("sampling failed", st, e); break; }
        }
        if (next == info.bos_id || next == info.eos_id) break;
        emit(token, next);
        std::fflush(stdout);
        token = next;
        if (done >= (size_t)steps) break;
        st = agm_session_feed(session, &token, 1, &e);
        if (st != AGM_OK) { rc = fail_with("decoding failed", st, e); break; }
        ++done;
        ++generated;
    }
    const double gen_s = now_s() - t_gen;
    std::fputc('\n', stdout);
    std::fflush(stdout);

    if (stats) {
        const size_t work = agm_session_memory_used(session) + (size_t)info.model_bytes;
        std::fprintf(stderr,
                     "stats: load %.1f ms\n"
                     "stats: prompt %zu tokens in %.2f ms: %.1f tokens/s\n"
                     "stats: decode %zu tokens in %.2f ms: %.1f tokens/s, %.3f ms/token\n"
                     "stats: model file %llu bytes (mapped, not copied), working memory %zu bytes "
                     "(session %zu for %u tokens of context, model %llu)\n",
                     load_s * 1e3, n_feed, prompt_s * 1e3, n_feed / (prompt_s > 0 ? prompt_s : 1e-9),
                     generated, gen_s * 1e3, generated / (gen_s > 0 ? gen_s : 1e-9),
                     generated ? gen_s * 1e3 / generated : 0.0, (unsigned long long)info.file_bytes,
                     work, agm_session_memory_used(session), ctx,
                     (unsigned long long)info.model_bytes);
    }
    agm_session_free(session);
    agm_model_close(model);
    return rc;
}
