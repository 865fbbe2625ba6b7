// agmodel-run: generate text with a model, streaming it as it is made.
//
//   agmodel-run [-m model] [-p prompt] [-n steps] [-c ctx] [--temp T] [--top-k K]
//               [--top-p P] [--seed S] [--kv f32|f16|q8]
//               [--grammar FILE | --json-schema FILE | --json] [--no-jump-forward]
//               [--no-sparse-classifier] [--stats] [-f FILE] [--prompt-cache FILE]
//
// -n counts positions, the prompt's tokens included (llama2.c's "steps"),
// so `-n 256` reproduces the reference's 256-step generations. Generation
// stops early at BOS or EOS. Without -m the bundled model (the 3M BitNet
// TinyStories model, built into this binary) is used. With --grammar the
// output is constrained to a GBNF grammar (docs/structured-output.md;
// --json-schema converts a JSON Schema to one, --json takes any JSON value): it
// ends where the grammar is complete and the model picks EOS, or nothing
// more can follow; forced text is fed without sampling (jump-forward).
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agm/file_io.h"
#include "agm/json_schema.h"
#include "agm/model_writer.h"
#include "agmodel.h"
#include "tool_util.h"

extern "C" const unsigned char agm_bundled_model[];
extern "C" const unsigned char agm_bundled_model_end[];

namespace {

void usage(FILE* f) {
    std::fprintf(f,
        "usage: agmodel-run [-m model] [-p prompt] [-n steps] [-c ctx] [--temp T]\n"
        "                   [--top-k K] [--top-p P] [--seed S] [--kv f32|f16|q8]\n"
        "                   [--min-p P] [--repeat-penalty F] [--presence-penalty F]\n"
        "                   [--frequency-penalty F] [--repeat-last-n N] [--logit-bias T=B]...\n"
        "                   [--stop S]...\n"
        "                   [--grammar FILE | --json-schema FILE | --json]\n"
        "                   [--no-jump-forward] [--no-sparse-classifier] [--stats]\n"
        "                   [-f FILE] [--prompt-cache FILE]\n"
        "  -m FILE     model file (default: the bundled 3M TinyStories BitNet model)\n"
        "  -p TEXT     prompt (default: empty)\n"
        "  -f FILE     the prompt from a file (-: standard input)\n"
        "  --prompt-cache FILE  restore the session from FILE where its tokens begin the\n"
        "                   prompt (then feed only the rest), save it there after the prompt\n"
        "  -n N        positions to run, prompt included (default 256; at most the context)\n"
        "  -c N        context length of the session (default: the model's)\n"
        "  --temp T    temperature; 0 = greedy (default 0)\n"
        "  --top-k K   sample among the K most likely tokens (0 = off)\n"
        "  --top-p P   nucleus sampling threshold (1 = off)\n"
        "  --seed S    random seed (default 42)\n"
        "  --min-p P   drop tokens less likely than P times the most likely (0 = off)\n"
        "  --repeat-penalty F     llama.cpp's repeat penalty over the last N tokens (1 = off)\n"
        "  --presence-penalty F   lower a token seen in the last N by F (0 = off)\n"
        "  --frequency-penalty F  lower a token by F per time seen in the last N (0 = off)\n"
        "  --repeat-last-n N      the N of the penalties (default 64, at most 256)\n"
        "  --logit-bias T=B       add B to token T's logit (-inf: never); up to 16\n"
        "  --stop S    end the output before the text S (up to 8, 64 bytes each)\n"
        "  --kv TYPE   KV cache: f32 (exact, default), f16 or q8 (int8 per head)\n"
        "  --kernels NAME  a kernel variant (ref, lut, armv6, avx2: the same bits; default the\n"
        "                   fastest this CPU runs), for measurements\n"
        "  --grammar FILE   constrain the output to a GBNF grammar (llama.cpp's dialect)\n"
        "  --json-schema FILE  constrain the output to JSON valid for a JSON Schema\n"
        "                   (compact, members in the schema's order; refused keywords say why)\n"
        "  --json           constrain the output to one JSON value\n"
        "  --no-jump-forward  sample forced text too, token by token (default: fed at once)\n"
        "  --no-sparse-classifier  compute every logit even where the grammar allows few\n"
        "                   tokens (default: only the allowed rows; the same logits)\n"
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

// Generated text goes out through the stop strings (--stop): bytes that may
// start one are held back until the next bytes tell.
struct Output {
    agm_stop stop;
    bool active = false;
    std::vector<char> buf;
    // Writes what is safe to show; true once a stop string has matched.
    bool write(const char* bytes, size_t n) {
        if (!active) {
            std::fwrite(bytes, 1, n, stdout);
            std::fflush(stdout);
            return false;
        }
        buf.resize(n + AGM_STOP_MAX_BYTES);
        size_t k = 0;
        agm_error e;
        if (agm_stop_feed(&stop, bytes, n, buf.data(), buf.size(), &k, &e) != AGM_OK) return true;
        std::fwrite(buf.data(), 1, k, stdout);
        std::fflush(stdout);
        return agm_stop_matched(&stop) >= 0;
    }
    void flush() {
        if (!active) return;
        char tail[AGM_STOP_MAX_BYTES];
        std::fwrite(tail, 1, agm_stop_flush(&stop, tail, sizeof tail), stdout);
    }
};
Output g_out;

// A grammar file (at most 16 MB) into out.
bool read_small_file(const char* path, std::vector<uint8_t>* out) {
    FILE* f = std::fopen(path, "rb");
    if (f == nullptr) return false;
    uint8_t buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && out->size() < (16u << 20)) out->insert(out->end(), buf, buf + n);
    const bool ok = !std::ferror(f) && out->size() < (16u << 20);
    if (out->size() >= (16u << 20)) errno = EFBIG;
    std::fclose(f);
    return ok;
}

// The prompt of -f: a file's bytes, or standard input's ("-"), at most 16 MB.
bool read_prompt(const std::string& path, std::string* out) {
    FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        std::fprintf(stderr, "agmodel-run: -f %s: %s\n", path.c_str(), std::strerror(errno));
        return false;
    }
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && out->size() <= (16u << 20)) out->append(buf, n);
    const bool bad = std::ferror(f) != 0, big = out->size() > (16u << 20);
    if (f != stdin) std::fclose(f);
    if (bad || big) {
        std::fprintf(stderr, "agmodel-run: -f %s: %s\n", path.c_str(), big ? "larger than 16 MB" : "read error");
        return false;
    }
    return true;
}

// --prompt-cache, llama.cpp's semantics: a snapshot whose tokens begin the
// prompt restores that prefix (all but the prompt's last token at most: its
// logits are not in a snapshot), the rest is fed; after the prompt the state
// is saved back unless the file held exactly it. The file is replaced
// atomically (a temporary file renamed over it), so a crash or a full disk
// leaves the old cache or none, never half of one; a cache that does not
// fit (another model, damaged) is reported and recomputed.
struct PromptCache {
    size_t restored = 0;
    uint64_t read = 0, written = 0;
    std::vector<int32_t> tokens;  // the cache's (empty: none)

    void restore(const agm_model* model, agm_session* s, const std::string& path, const int32_t* ids, size_t n) {
        std::vector<uint8_t> bytes;
        agm::Error ferr;
        FILE* probe = std::fopen(path.c_str(), "rb");
        if (probe == nullptr) return;  // no cache yet
        std::fclose(probe);
        if (!agm::read_whole_file(path, &bytes, &ferr)) {
            std::fprintf(stderr, "agmodel-run: --prompt-cache %s: %s; recomputing\n", path.c_str(), ferr.msg);
            return;
        }
        read = bytes.size();
        agm_error e;
        size_t held = 0;
        tokens.resize(agm_session_context(s));
        agm_status st = agm_snapshot_tokens(model, bytes.data(), bytes.size(), tokens.data(), tokens.size(), &held, &e);
        if (st != AGM_OK) {
            std::fprintf(stderr, "agmodel-run: --prompt-cache %s: %s; recomputing\n", path.c_str(),
                         st == AGM_ERR_BUFFER ? "longer than this context" : e.message);
            tokens.clear();
            return;
        }
        tokens.resize(held);
        const size_t r = agm_reusable_prefix(tokens.data(), held, ids, n);
        if (r == 0) return;
        st = agm_session_load(s, bytes.data(), bytes.size(), &e);
        if (st == AGM_OK) st = agm_session_truncate(s, (uint32_t)r, &e);
        if (st != AGM_OK) {
            std::fprintf(stderr, "agmodel-run: --prompt-cache %s: %s; recomputing\n", path.c_str(), e.message);
            agm_session_reset(s);
            return;
        }
        restored = r;
    }

    void save(agm_session* s, const std::string& path, size_t n) {
        if (tokens.size() == n && std::memcmp(tokens.data(), agm_session_tokens(s), n * 4) == 0) return;  // as it was
        std::vector<uint8_t> bytes(agm_session_state_size(s));
        size_t w = 0;
        agm_error e;
        agm::Error ferr;
        if (agm_session_save(s, bytes.data(), bytes.size(), &w, &e) != AGM_OK) {
            std::fprintf(stderr, "agmodel-run: --prompt-cache %s: %s; not saved\n", path.c_str(), e.message);
        } else if (!agm::write_file_atomic(path, bytes.data(), w, &ferr)) {
            std::fprintf(stderr, "agmodel-run: --prompt-cache: %s\n", ferr.msg);
        } else {
            written = w;
        }
    }
};

// Constrained generation: the output follows the matcher's grammar. Each
// step feeds the forced text at once (jump-forward) or samples among the
// tokens the grammar allows; it ends when the model picks EOS where the
// grammar is complete, or when nothing more can follow. The next step is
// known before the tokens are fed: when it samples, its mask is computed
// first and the feed computes only the classifier rows it allows (the
// sparse classifier; the same logits); when it is forced, the feed computes
// no logits at all. The text is printed as the grammar
// matched it (raw bytes). Returns 0, or 1 after a message (an error, or -n
// reached before the grammar was complete).
struct Constrained {
    bool jump_forward = true, sparse = true;
    size_t done = 0, generated = 0, forced = 0;
    double grammar_s = 0.0;
};

int constrained(agm_model* model, agm_session* session, agm_sampler* sampler, agm_matcher* matcher, int32_t last,
                size_t steps, Constrained* c) {
    agm_error e;
    agm_model_info info;
    agm_model_get_info(model, &info);
    std::vector<uint32_t> mask((info.vocab_size + 31) / 32), none(mask.size(), 0);
    std::vector<int32_t> jump(256), feed;
    char piece[1024];
    auto emit = [&](int32_t prev, int32_t tok) {  // true: a stop string ended the output
        const size_t n = agm_token_piece(model, prev, tok, 0, piece, sizeof piece);
        return g_out.write(piece, n < sizeof piece ? n : sizeof piece);
    };
    // The forced tokens of the matcher's state (none without jump-forward).
    size_t n_jump = 0;
    auto find_forced = [&]() -> agm_status {
        n_jump = 0;
        if (!c->jump_forward) return AGM_OK;
        return agm_matcher_forced_tokens(matcher, jump.data(), jump.size(), &n_jump, &e);
    };
    bool mask_ready = false;  // mask is the matcher state's
    bool stopped = false;
    agm_status st = agm_matcher_reset(matcher, last);
    double t0 = now_s();
    if (st == AGM_OK) st = find_forced();
    if (st != AGM_OK) return fail_with("grammar", st, e);
    while (!agm_matcher_is_done(matcher)) {
        feed.clear();
        if (n_jump > steps - c->done) n_jump = steps - c->done;
        if (n_jump > 0) {
            for (size_t i = 0; i < n_jump; ++i) {
                st = agm_matcher_accept_token(matcher, jump[i], &e);
                if (st != AGM_OK) return fail_with("grammar", st, e);
                agm_sampler_accept(sampler, jump[i]);  // fed, not sampled: the penalties see it too
                if (!stopped) stopped = emit(i == 0 ? last : jump[i - 1], jump[i]);
                feed.push_back(jump[i]);
            }
            if (stopped) return 0;
            c->forced += n_jump;
        } else {
            if (c->done >= steps) break;
            uint32_t n_allowed = 0;
            if (!mask_ready) {
                st = agm_matcher_fill_mask(matcher, mask.data(), mask.size(), &n_allowed, &e);
                if (st != AGM_OK) return fail_with("grammar", st, e);
            }
            int32_t next;
            c->grammar_s += now_s() - t0;
            st = agm_session_sample_masked(session, sampler, mask.data(), &next, &e);
            if (st != AGM_OK) return fail_with("sampling failed", st, e);
            t0 = now_s();
            st = agm_matcher_accept_token(matcher, next, &e);
            if (st != AGM_OK) return fail_with("grammar", st, e);
            if (next == info.eos_id) break;
            if (emit(last, next)) return 0;
            feed.push_back(next);
        }
        last = feed.back();
        c->generated += feed.size();
        // What the next step does, known before the feed.
        mask_ready = false;
        st = find_forced();
        if (st != AGM_OK) return fail_with("grammar", st, e);
        const bool next_samples = n_jump == 0 && !agm_matcher_is_done(matcher) && c->done + feed.size() < steps;
        if (next_samples && c->sparse) {
            uint32_t n_allowed = 0;
            st = agm_matcher_fill_mask(matcher, mask.data(), mask.size(), &n_allowed, &e);
            if (st != AGM_OK) return fail_with("grammar", st, e);
            mask_ready = true;
        }
        c->grammar_s += now_s() - t0;
        // Before forced tokens no logits are needed: no classifier row at all.
        const uint32_t* rows = n_jump > 0 ? none.data() : mask_ready ? mask.data() : nullptr;
        st = agm_session_feed_rows(session, feed.data(), feed.size(), rows, &e);
        if (st != AGM_OK) return fail_with("decoding failed", st, e);
        t0 = now_s();
        c->done += feed.size();
        if (c->done >= steps && !agm_matcher_is_done(matcher)) break;
    }
    c->grammar_s += now_s() - t0;
    if (!agm_matcher_is_complete(matcher) && !agm_matcher_is_done(matcher)) {
        std::fputc('\n', stdout);
        std::fprintf(stderr, "agmodel-run: -n %zu positions ended the output before the grammar was complete\n", steps);
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_path, prompt, grammar_path, schema_path, prompt_file, cache_path, kernels;
    bool any_json = false;
    bool jump_forward = true, sparse = true;
    long long steps = 256, n_ctx = 0, top_k = 0, seed = 42;
    double temp = 0.0, top_p = 1.0, min_p = 0.0, repeat_penalty = 1.0, presence = 0.0, frequency = 0.0;
    long long repeat_last_n = 64;
    std::vector<agm_logit_bias> biases;
    std::vector<std::string> stops;
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
        if (a == "--no-jump-forward") { jump_forward = false; continue; }
        if (a == "--no-sparse-classifier") { sparse = false; continue; }
        if (a == "--json") { any_json = true; continue; }
        if (!has_value) { usage(stderr); return bad("needs a value"); }
        const char* v = argv[++i];
        if (a == "-m") model_path = v;
        else if (a == "-p") prompt = v;
        else if (a == "-f") prompt_file = v;
        else if (a == "--prompt-cache") cache_path = v;
        else if (a == "--grammar") grammar_path = v;
        else if (a == "--json-schema") schema_path = v;
        else if (a == "-n") { if (!agm::parse_long(v, 1, 1 << 30, &steps)) return bad("must be a positive integer"); }
        else if (a == "-c") { if (!agm::parse_long(v, 1, 1 << 30, &n_ctx)) return bad("must be a positive integer"); }
        else if (a == "--temp") { if (!agm::parse_float(v, 0.0, 100.0, &temp)) return bad("must be in 0..100"); }
        else if (a == "--top-k") { if (!agm::parse_long(v, 0, 1 << 30, &top_k)) return bad("must be >= 0"); }
        else if (a == "--min-p") { if (!agm::parse_float(v, 0.0, 1.0, &min_p)) return bad("must be in 0..1"); }
        else if (a == "--repeat-penalty") { if (!agm::parse_float(v, 1e-6, 1e6, &repeat_penalty)) return bad("must be > 0 (1 = off)"); }
        else if (a == "--presence-penalty") { if (!agm::parse_float(v, -1e6, 1e6, &presence)) return bad("must be a number"); }
        else if (a == "--frequency-penalty") { if (!agm::parse_float(v, -1e6, 1e6, &frequency)) return bad("must be a number"); }
        else if (a == "--repeat-last-n") {
            if (!agm::parse_long(v, 0, AGM_SAMPLER_MAX_LAST_N, &repeat_last_n)) return bad("must be in 0..256");
        }
        else if (a == "--logit-bias") {
            // TOKEN=BIAS; BIAS a number or -inf (the token is never picked).
            const char* eq = std::strchr(v, '=');
            long long tok = 0;
            double b = 0;
            const std::string t(v, eq ? (size_t)(eq - v) : 0);
            if (eq == nullptr || !agm::parse_long(t.c_str(), 0, INT32_MAX, &tok)) return bad("must be TOKEN=BIAS");
            if (std::strcmp(eq + 1, "-inf") == 0) b = -INFINITY;
            else if (!agm::parse_float(eq + 1, -1e6, 1e6, &b)) return bad("must be TOKEN=BIAS (BIAS a number or -inf)");
            if (biases.size() >= AGM_SAMPLER_MAX_BIAS) return bad("is given more than 16 times");
            biases.push_back(agm_logit_bias{(int32_t)tok, (float)b});
        }
        else if (a == "--stop") {
            const size_t len = std::strlen(v);
            if (len == 0 || len > AGM_STOP_MAX_BYTES) return bad("must have 1 to 64 bytes");
            if (stops.size() >= AGM_STOP_MAX) return bad("is given more than 8 times");
            stops.push_back(v);
        }
        else if (a == "--top-p") { if (!agm::parse_float(v, 0.0, 1.0, &top_p)) return bad("must be in 0..1"); }
        else if (a == "--seed") { if (!agm::parse_long(v, 0, INT64_MAX, &seed)) return bad("must be >= 0"); }
        else if (a == "--kernels") kernels = v;
        else if (a == "--kv") {
            if (std::strcmp(v, "f32") == 0) kv = AGM_KV_F32;
            else if (std::strcmp(v, "f16") == 0) kv = AGM_KV_F16;
            else if (std::strcmp(v, "q8") == 0) kv = AGM_KV_Q8;
            else return bad("must be f32, f16 or q8");
        }
        else { usage(stderr); return bad("is not an option"); }
    }
    if ((!grammar_path.empty()) + (!schema_path.empty()) + any_json > 1) {
        std::fprintf(stderr, "agmodel-run: --grammar, --json-schema and --json exclude each other\n");
        return 2;
    }

    if (!prompt_file.empty()) {
        if (!prompt.empty()) {
            std::fprintf(stderr, "agmodel-run: -p and -f exclude each other\n");
            return 2;
        }
        if (!read_prompt(prompt_file, &prompt)) return 1;
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
    so.kernels = kernels.empty() ? nullptr : kernels.c_str();
    agm_session* session = nullptr;
    st = agm_session_create(model, &so, &session, &e);
    if (st != AGM_OK) {
        agm_model_close(model);
        return fail_with("cannot create a session", st, e);
    }
    const uint32_t ctx = agm_session_context(session);
    if (steps > (long long)ctx) steps = ctx;

    // The grammar, compiled for this model's vocabulary.
    agm_grammar* grammar = nullptr;
    agm_matcher* matcher = nullptr;
    if (!grammar_path.empty() || !schema_path.empty() || any_json) {
        std::vector<uint8_t> text;
        const std::string& path = !grammar_path.empty() ? grammar_path : schema_path;
        if (!path.empty() && !read_small_file(path.c_str(), &text)) {
            std::fprintf(stderr, "agmodel-run: %s: cannot read %s: %s\n",
                         grammar_path.empty() ? "--json-schema" : "--grammar", path.c_str(), std::strerror(errno));
            agm_session_free(session);
            agm_model_close(model);
            return 2;
        }
        if (grammar_path.empty()) {  // a JSON Schema, or any JSON value, to GBNF
            std::string gbnf;
            agm::Error se;
            if (any_json) {
                gbnf = agm::json_any_value_gbnf(agm::SchemaOptions());
            } else if (!agm::json_schema_to_gbnf(text.data(), text.size(), agm::SchemaOptions(), &gbnf, &se)) {
                std::fprintf(stderr, "agmodel-run: %s: %s\n", schema_path.c_str(), se.msg);
                agm_session_free(session);
                agm_model_close(model);
                return 2;
            }
            text.assign(gbnf.begin(), gbnf.end());
        }
        const std::string shown = any_json ? std::string("--json") : path;
        st = agm_grammar_create(model, reinterpret_cast<const char*>(text.data()), text.size(), nullptr, &grammar, &e);
        if (st == AGM_OK) st = agm_matcher_create(grammar, &matcher, &e);
        if (st != AGM_OK) {
            std::fprintf(stderr, "agmodel-run: %s: %s\n", shown.c_str(), e.message);
            agm_grammar_free(grammar);
            agm_session_free(session);
            agm_model_close(model);
            return 2;
        }
    }
    auto finish = [&](int code) {
        agm_matcher_free(matcher);
        agm_grammar_free(grammar);
        agm_session_free(session);
        agm_model_close(model);
        return code;
    };

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
    sp.min_p = (float)min_p;
    sp.repeat_penalty = (float)repeat_penalty;
    sp.presence_penalty = (float)presence;
    sp.frequency_penalty = (float)frequency;
    sp.repeat_last_n = (uint32_t)repeat_last_n;
    sp.n_logit_bias = (uint32_t)biases.size();
    for (size_t i = 0; i < biases.size(); ++i) {
        if (biases[i].token >= (int32_t)info.vocab_size) {
            std::fprintf(stderr, "agmodel-run: --logit-bias: token %d is not in the vocabulary (%u tokens)\n",
                         biases[i].token, info.vocab_size);
            return finish(2);
        }
        sp.logit_bias[i] = biases[i];
    }
    st = agm_sampler_params_check(&sp, &e);
    if (st != AGM_OK) {
        std::fprintf(stderr, "agmodel-run: %s\n", e.message);
        return finish(2);
    }
    agm_sampler sampler;
    agm_sampler_init(&sampler, &sp);
    std::vector<const char*> stop_ptrs;
    for (const std::string& x : stops) stop_ptrs.push_back(x.c_str());
    st = agm_stop_init(&g_out.stop, stop_ptrs.data(), nullptr, stop_ptrs.size(), &e);
    if (st != AGM_OK) return fail_with("--stop", st, e);
    g_out.active = !stops.empty();

    // The prompt goes through the model in one call (its logits are only
    // needed after the last token); its text is printed as the reference
    // prints it, piece by piece after BOS.
    const size_t n_feed = n_prompt < (size_t)steps ? n_prompt : (size_t)steps;
    const double t_prompt = now_s();
    PromptCache cache;
    if (!cache_path.empty()) cache.restore(model, session, cache_path, ids.data(), n_feed);
    st = agm_session_feed(session, ids.data() + cache.restored, n_feed - cache.restored, &e);
    if (st == AGM_OK && !cache_path.empty()) cache.save(session, cache_path, n_feed);
    const double prompt_s = now_s() - t_prompt;
    if (st != AGM_OK) {
        agm_session_free(session);
        agm_model_close(model);
        return fail_with("prompt failed", st, e);
    }
    for (size_t i = 0; i < n_feed; ++i) agm_sampler_accept(&sampler, ids[i]);  // the penalties see the prompt
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
    Constrained con;
    con.jump_forward = jump_forward;
    con.sparse = sparse;
    const double t_gen = now_s();
    if (matcher != nullptr) {
        if (n_feed < n_prompt) {
            std::fprintf(stderr, "agmodel-run: -n %lld ends inside the prompt: nothing to constrain\n", steps);
            return finish(1);
        }
        con.done = done;
        rc = constrained(model, session, &sampler, matcher, token, (size_t)steps, &con);
        done = con.done;
        generated = con.generated;
    }
    for (; matcher == nullptr;) {
        int32_t next;
        if (done < n_prompt) {
            next = ids[done];
        } else {
            st = agm_session_sample(session, &sampler, &next, &e);
            if (st != AGM_OK) { rc = fail_with("sampling failed", st, e); break; }
        }
        if (next == info.bos_id || next == info.eos_id) break;
        if (done >= n_prompt) {
            const size_t n = agm_token_piece(model, token, next, AGM_PIECE_PRINTABLE, piece, sizeof piece);
            if (g_out.write(piece, n < sizeof piece ? n : sizeof piece)) break;
        } else {
            emit(token, next);
            std::fflush(stdout);
        }
        token = next;
        if (done >= (size_t)steps) break;
        st = agm_session_feed(session, &token, 1, &e);
        if (st != AGM_OK) { rc = fail_with("decoding failed", st, e); break; }
        ++done;
        ++generated;
    }
    const double gen_s = now_s() - t_gen;
    g_out.flush();
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
        if (!cache_path.empty())
            std::fprintf(stderr, "stats: prompt cache: %zu of %zu prompt tokens restored (%llu bytes read, %llu bytes "
                         "written)\n", cache.restored, n_feed, (unsigned long long)cache.read,
                         (unsigned long long)cache.written);
        if (matcher != nullptr)
            std::fprintf(stderr, "stats: grammar %.3f ms per token (masks and matching), %zu of %zu tokens forced "
                         "(jump-forward %s, sparse classifier %s)\n",
                         generated ? con.grammar_s * 1e3 / generated : 0.0, con.forced, generated,
                         jump_forward ? "on" : "off", sparse ? "on" : "off");
    }
    agm_matcher_free(matcher);
    agm_grammar_free(grammar);
    agm_session_free(session);
    agm_model_close(model);
    return rc;
}
