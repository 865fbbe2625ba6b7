// agmodel-serve: a local OpenAI- and Ollama-compatible HTTP endpoint for
// one agmodel model (docs/server.md).
//
//   agmodel-serve [--model FILE] [--host ADDR] [--port N] [--ctx N] [--kv f32|f16|q8]
//                 [--api-key KEY] [--queue N] [--max-connections N]
//                 [--max-header BYTES] [--max-body BYTES] [--chat-template NAME]
//                 [--request-timeout S] [--idle-timeout S] [--name NAME]
//                 [--system-prompt-cache FILE] [--grammar-memory BYTES]
//
// It prints "agmodel-serve: listening on http://HOST:PORT" on standard error
// once it accepts connections (--port 0: a free port, named there), and
// stops on SIGINT or SIGTERM.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agm/file_io.h"
#include "agmodel.h"
#include "server.h"
#include "templates.h"

extern "C" const unsigned char agm_bundled_model[];
extern "C" const unsigned char agm_bundled_model_end[];

namespace {

volatile int g_stop = 0;
void on_signal(int) { g_stop = 1; }

int usage() {
    std::fprintf(stderr,
                 "usage: agmodel-serve [--model FILE] [--host ADDR] [--port N] [--ctx N] [--kv f32|f16|q8]\n"
                 "                     [--api-key KEY] [--queue N] [--max-connections N]\n"
                 "                     [--max-header BYTES] [--max-body BYTES] [--chat-template NAME]\n"
                 "                     [--request-timeout S] [--idle-timeout S] [--name NAME]\n"
                 "                     [--system-prompt-cache FILE] [--grammar-memory BYTES]\n"
                 "  --model FILE     model file (default: the bundled 3M TinyStories BitNet model)\n"
                 "  --host ADDR      address to listen on (default 127.0.0.1: this machine only)\n"
                 "  --port N         TCP port (default 8080; 0: a free one, printed)\n"
                 "  --ctx N          context length (default: the model's)\n"
                 "  --kv TYPE        KV cache type (default f32)\n"
                 "  --api-key KEY    require 'Authorization: Bearer KEY' (default: no key)\n"
                 "  --queue N        requests waiting for the worker (default 8; beyond: 503)\n"
                 "  --max-connections N  open connections (default 64)\n"
                 "  --max-header BYTES   request line and headers (default 8192)\n"
                 "  --max-body BYTES     request body (default 1048576)\n"
                 "  --chat-template NAME  %s (default: the model's, else plain)\n"
                 "  --request-timeout S  time a request may take to arrive (default 10)\n"
                 "  --idle-timeout S     keep-alive time without a request (default 30)\n"
                 "  --name NAME      the model's name in the API (default: the file's base name)\n"
                 "  --system-prompt-cache FILE  restore this session snapshot at startup (agmodel-run\n"
                 "                   --prompt-cache writes one): requests that begin with its tokens\n"
                 "                   feed only the rest\n"
                 "  --grammar-memory BYTES  memory for a request's output grammar (JSON Schema, tools),\n"
                 "                   reserved at startup (default: twice what any-JSON-object needs with\n"
                 "                   this model, at least 4 MiB; a grammar that needs more: 400)\n",
                 agm_serve::chat_family_names().c_str());
    return 2;
}

bool to_number(const char* s, double lo, double hi, double* out) {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

std::string base_name(const std::string& path) {
    std::string b = path.substr(path.find_last_of('/') + 1);
    if (b.size() > 4 && b.compare(b.size() - 4, 4, ".agm") == 0) b.resize(b.size() - 4);
    return b.empty() ? "agmodel" : b;
}

}  // namespace

int main(int argc, char** argv) {
    agm_serve::ServerOptions so;
    agm_serve::ApiContext ctx;
    std::string model_path, name, chat_template, cache_path;
    bool grammar_memory_set = false;
    double n_ctx = 0;
    uint32_t kv = AGM_KV_F32;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") return usage(), 0;
        if (i + 1 >= argc) {
            std::fprintf(stderr, "agmodel-serve: %s needs a value\n", a.c_str());
            return usage();
        }
        const char* v = argv[++i];
        double d = 0;
        bool ok = true;
        if (a == "--model") model_path = v;
        else if (a == "--host") so.host = v;
        else if (a == "--port") ok = to_number(v, 0, 65535, &d), so.port = (int)d;
        else if (a == "--ctx") ok = to_number(v, 1, 1 << 20, &n_ctx);
        else if (a == "--kv") {
            ok = true;
            if (std::strcmp(v, "f32") == 0) kv = AGM_KV_F32, ctx.kv_name = "f32";
            else if (std::strcmp(v, "f16") == 0) kv = AGM_KV_F16, ctx.kv_name = "f16";
            else if (std::strcmp(v, "q8") == 0) kv = AGM_KV_Q8, ctx.kv_name = "q8";
            else ok = false;
        } else if (a == "--api-key") ctx.api_key = v;
        else if (a == "--queue") ok = to_number(v, 0, 4096, &d), so.queue = (size_t)d;
        else if (a == "--max-connections") ok = to_number(v, 1, 4096, &d), so.max_connections = (size_t)d;
        else if (a == "--max-header") ok = to_number(v, 256, 1 << 20, &d), so.limits.max_header = (size_t)d;
        else if (a == "--max-body") ok = to_number(v, 0, 64 << 20, &d), so.limits.max_body = (size_t)d;
        else if (a == "--chat-template") chat_template = v;
        else if (a == "--request-timeout") ok = to_number(v, 0.1, 3600, &so.request_timeout_s);
        else if (a == "--idle-timeout") ok = to_number(v, 0.1, 86400, &so.idle_timeout_s);
        else if (a == "--name") name = v;
        else if (a == "--system-prompt-cache") cache_path = v;
        else if (a == "--grammar-memory")
            ok = to_number(v, 0, 1u << 30, &d), so.grammar_memory = (size_t)d, grammar_memory_set = true;
        else {
            std::fprintf(stderr, "agmodel-serve: unknown option %s\n", a.c_str());
            return usage();
        }
        if (!ok) {
            std::fprintf(stderr, "agmodel-serve: %s %s: not a valid value\n", a.c_str(), v);
            return 2;
        }
    }
    if (!chat_template.empty() && !agm_serve::chat_family_from_name(chat_template, &ctx.family)) {
        std::fprintf(stderr, "agmodel-serve: --chat-template %s: not one of %s\n", chat_template.c_str(),
                     agm_serve::chat_family_names().c_str());
        return 2;
    }

    agm_error e;
    agm_open_options oo;
    agm_open_options_default(&oo);
    const size_t bundled_bytes = (size_t)(agm_bundled_model_end - agm_bundled_model);
    auto open_model = [&](agm_model** m) {
        return model_path.empty() ? agm_model_open_memory(agm_bundled_model, bundled_bytes, &oo, m, &e)
                                  : agm_model_open_file(model_path.c_str(), &oo, m, &e);
    };
    // A first look (no checksum pass) sizes the tokenizer's scratch: a
    // prompt longer than the context's tokens could hold is refused before
    // it is encoded, so the scratch (some hundred bytes per text byte) is
    // sized for that, not for a whole request body.
    oo.verify_checksum = 0;
    agm_model* probe = nullptr;
    agm_status st = open_model(&probe);
    if (st == AGM_OK) {
        agm_model_info pi;
        agm_model_get_info(probe, &pi);
        size_t longest = 1;
        for (uint32_t t = 0; t < pi.vocab_size; ++t) {
            char piece[8];
            const size_t n = agm_token_piece(probe, -1, (int32_t)t, 0, piece, sizeof piece);
            if (n > longest) longest = n;
        }
        // The session's context: --ctx, else the model's, capped at 4096
        // (agm_session_options.n_ctx 0, agmodel.h).
        const uint64_t positions = n_ctx > 0 ? (uint64_t)n_ctx : pi.max_seq_len < 4096 ? pi.max_seq_len : 4096;
        const uint64_t bytes = positions * (longest + 1 > 16 ? longest + 1 : 16);
        ctx.max_prompt_bytes = (size_t)(bytes < so.limits.max_body ? bytes : so.limits.max_body);
        agm_model_close(probe);
        agm_open_options_default(&oo);
        oo.max_text_bytes = (uint32_t)(ctx.max_prompt_bytes > 1024 ? ctx.max_prompt_bytes : 1024);
        st = open_model(&ctx.model);
    }
    if (st != AGM_OK) {
        std::fprintf(stderr, "agmodel-serve: %s: %s\n", model_path.empty() ? "the bundled model" : model_path.c_str(),
                     e.message);
        return 1;
    }
    agm_model_get_info(ctx.model, &ctx.info);
    // The chat template: --chat-template, else the family of the model's own, else plain.
    size_t tlen = 0;
    const char* ttext = agm_model_chat_template(ctx.model, &tlen);
    if (chat_template.empty() && ttext != nullptr &&
        !agm_serve::detect_chat_family(std::string(ttext, tlen), &ctx.family)) {
        std::fprintf(stderr,
                     "agmodel-serve: the model's chat template (%zu bytes) is not one of the built-in families; "
                     "choose one with --chat-template NAME (%s)\n",
                     tlen, agm_serve::chat_family_names().c_str());
        agm_model_close(ctx.model);
        return 2;
    }
    ctx.model_path = model_path;
    ctx.model_name = !name.empty() ? name : model_path.empty() ? std::string("tinystories-3m") : base_name(model_path);
    agm_session_options sopt;
    agm_session_options_default(&sopt);
    sopt.n_ctx = (uint32_t)n_ctx;
    sopt.kv_type = kv;
    agm_session* session = nullptr;
    if (agm_session_create(ctx.model, &sopt, &session, &e) != AGM_OK) {
        std::fprintf(stderr, "agmodel-serve: %s\n", e.message);
        agm_model_close(ctx.model);
        return 1;
    }
    ctx.n_ctx = agm_session_context(session);
    if (!grammar_memory_set) {
        // Twice what "any JSON object" takes: its matcher, sized by the
        // vocabulary, is most of it, so a schema's grammar may be several
        // times larger than that one's.
        std::string gbnf, why;
        const size_t any_object =
            agm_serve::schema_grammar(nullptr, &gbnf, &why) ? agm_serve::grammar_arena_bytes(ctx.model, gbnf) : 0;
        so.grammar_memory = std::max<size_t>(2 * any_object, 4u << 20);
    }
    size_t session_bytes = 0;
    agm_session_memory_size(ctx.model, &sopt, &session_bytes, nullptr);
    if (!cache_path.empty()) {
        std::vector<uint8_t> bytes;
        agm::Error ferr;
        if (!agm::read_whole_file(cache_path, &bytes, &ferr) ||
            agm_session_load(session, bytes.data(), bytes.size(), &e) != AGM_OK) {
            std::fprintf(stderr, "agmodel-serve: --system-prompt-cache %s: %s\n", cache_path.c_str(),
                         ferr.msg[0] != '\0' ? ferr.msg : e.message);
            agm_session_free(session);
            agm_model_close(ctx.model);
            return 1;
        }
        std::fprintf(stderr, "agmodel-serve: %u prompt tokens restored from %s\n", agm_session_position(session),
                     cache_path.c_str());
    }
    ctx.started = agm_serve::unix_time();

    std::signal(SIGPIPE, SIG_IGN);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    int rc = 0;
    {
        agm_serve::Server server(so, ctx, session);
        std::string why;
        if (!server.listen(&why)) {
            std::fprintf(stderr, "agmodel-serve: %s\n", why.c_str());
            rc = 1;
        } else {
            std::fprintf(stderr, "agmodel-serve: %s, context %u, KV %s, chat template %s\n", ctx.model_name.c_str(),
                         ctx.n_ctx, ctx.kv_name, agm_serve::chat_family_name(ctx.family));
            // What it holds from now on (docs/server.md, "Memory").
            std::fprintf(stderr,
                         "agmodel-serve: memory: model file %llu bytes (mapped) and %llu bytes, session %zu bytes, "
                         "grammar memory %zu bytes; per connection at most %zu bytes read ahead and %zu unsent "
                         "(%zu connections)\n",
                         (unsigned long long)ctx.info.file_bytes, (unsigned long long)ctx.info.model_bytes,
                         session_bytes, so.grammar_memory, agm_serve::read_ahead_cap(so),
                         so.max_unsent, so.max_connections);
            std::fprintf(stderr, "agmodel-serve: listening on http://%s:%d\n", so.host.c_str(), server.port());
            server.run(&g_stop);
            std::fprintf(stderr, "agmodel-serve: stopped\n");
        }
    }
    agm_session_free(session);
    agm_model_close(ctx.model);
    return rc;
}
