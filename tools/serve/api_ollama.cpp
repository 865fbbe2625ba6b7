// Ollama's API: POST /api/generate and /api/chat (NDJSON stream by default,
// "stream": false for one object), GET /api/tags, POST /api/show (api.h).
#include <cstdio>
#include <ctime>

#include "api.h"
#include "text.h"

namespace agm_serve {

namespace {

// Ollama's timestamps: RFC 3339 in UTC.
std::string rfc3339() {
    const time_t t = (time_t)unix_time();
    struct tm g;
    gmtime_r(&t, &g);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &g);
    return buf;
}

class OllamaFormatter : public Formatter {
public:
    OllamaFormatter(bool chat, bool stream, const std::string& model)
        : chat_(chat), stream_(stream), model_(model), t0_(now_ms()) {}
    bool streaming() const override { return stream_; }
    const char* content_type() const override { return stream_ ? "application/x-ndjson" : "application/json"; }
    std::string text(const std::string& delta) override {
        if (!stream_) {
            all_ += delta;
            return std::string();
        }
        if (delta.empty()) return std::string();
        return head() + piece(delta) + ",\"done\":false}\n";
    }
    std::string end(const Generation& g) override {
        const double total_ns = (now_ms() - t0_) * 1e6;
        std::string out = head() + piece(stream_ ? std::string() : all_) + ",\"done\":true,\"done_reason\":\"" +
                          (g.finish() == Finish::Length ? "length" : "stop") + "\"";
        char timing[200];
        std::snprintf(timing, sizeof timing,
                      ",\"total_duration\":%.0f,\"load_duration\":0,\"prompt_eval_count\":%u,\"eval_count\":%u}",
                      total_ns, g.prompt_tokens() - g.cached_tokens(), g.completion_tokens());
        out += timing;
        return out + (stream_ ? "\n" : "");
    }
    std::string error(const std::string& message) override { return "{\"error\":" + json_string(message) + "}\n"; }
    Reply failure(int status, const std::string& message) const override { return ollama_error(status, message); }

private:
    std::string head() const {
        return "{\"model\":" + json_string(model_) + ",\"created_at\":\"" + rfc3339() + "\",";
    }
    std::string piece(const std::string& text) const {
        return chat_ ? "\"message\":{\"role\":\"assistant\",\"content\":" + json_string(text) + "}"
                     : "\"response\":" + json_string(text);
    }
    bool chat_, stream_;
    std::string model_, all_;
    double t0_;
};

// Ollama's options object (and its top-level "format").
bool options(const ApiContext& ctx, const agm::JsonValue& b, GenParams* p, uint64_t* num_predict, Reply* reply) {
    std::string why;
    const agm::JsonValue* o = b.find("options");
    if (o != nullptr && !o->is_null()) {
        if (!o->is_object()) {
            *reply = ollama_error(400, "'options' must be an object");
            return false;
        }
        double temperature = 0.8, top_p = 0.9, repeat_penalty = 1.1;
        uint64_t top_k = 40, seed = 0, num_ctx = 0, last_n = 64;
        int64_t predict = -1;
        const bool has_seed = o->find("seed") != nullptr;
        if (const agm::JsonValue* np = o->find("num_predict"); np != nullptr && np->is_number()) {
            predict = (int64_t)np->number();
            if (predict == 0 || predict < -2) {
                *reply = ollama_error(400, "'num_predict' must be positive, -1 (no limit) or -2 (fill the context)");
                return false;
            }
        }
        if (!get_number(*o, "temperature", 0.0, 2.0, &temperature, &why) ||
            !get_number(*o, "top_p", 0.0, 1.0, &top_p, &why) ||
            !get_number(*o, "repeat_penalty", 0.0, 10.0, &repeat_penalty, &why) ||
            !get_uint(*o, "top_k", 0, 1u << 20, &top_k, &why) || !get_uint(*o, "seed", 0, (uint64_t)1 << 53, &seed, &why) ||
            !get_uint(*o, "repeat_last_n", 0, AGM_SAMPLER_MAX_LAST_N, &last_n, &why) ||
            !get_uint(*o, "num_ctx", 0, 1u << 24, &num_ctx, &why) || !get_stops(*o, "stop", &p->stops, &why)) {
            *reply = ollama_error(400, why);
            return false;
        }
        if (num_ctx > ctx.n_ctx) {
            *reply = ollama_error(400, "'num_ctx' " + std::to_string(num_ctx) + " is more than the server's context of " +
                                           std::to_string(ctx.n_ctx) + " (agmodel-serve --ctx)");
            return false;
        }
        p->sampling.temperature = (float)temperature;
        p->sampling.top_p = (float)top_p;
        p->sampling.top_k = (uint32_t)top_k;
        p->sampling.repeat_penalty = repeat_penalty > 0 ? (float)repeat_penalty : 1.0f;
        p->sampling.repeat_last_n = (uint32_t)last_n;
        if (has_seed) p->sampling.seed = seed;
        *num_predict = predict > 0 ? (uint64_t)predict : 0;
    }
    const agm::JsonValue* f = b.find("format");
    if (f != nullptr && !f->is_null() && !(f->is_string() && f->text().empty())) {
        const bool any = f->is_string() && f->text() == "json";
        if (!any && !f->is_object()) {
            *reply = ollama_error(400, "'format' must be \"json\" or a JSON schema object");
            return false;
        }
        if (!schema_grammar(any ? nullptr : f, &p->grammar, &why)) {
            *reply = ollama_error(400, why);
            return false;
        }
    }
    return true;
}

}  // namespace

Reply ollama_tags(const ApiContext& ctx) {
    Reply r;
    r.body = "{\"models\":[{\"name\":" + json_string(ctx.model_name) + ",\"model\":" + json_string(ctx.model_name) +
             ",\"modified_at\":\"" + rfc3339() + "\",\"size\":" + std::to_string(ctx.info.file_bytes) +
             ",\"digest\":\"\",\"details\":{\"format\":\"agm\",\"family\":\"bitnet\",\"parameter_size\":\"\","
             "\"quantization_level\":\"ternary\"}}]}";
    return r;
}

Reply ollama_show(const ApiContext& ctx) {
    Reply r;
    char info[400];
    std::snprintf(info, sizeof info,
                  "{\"general.architecture\":\"bitnet\",\"bitnet.block_count\":%u,\"bitnet.embedding_length\":%u,"
                  "\"bitnet.context_length\":%u,\"bitnet.attention.head_count\":%u,"
                  "\"bitnet.attention.head_count_kv\":%u,\"tokenizer.vocab_size\":%u}",
                  ctx.info.n_layers, ctx.info.dim, ctx.info.max_seq_len, ctx.info.n_heads, ctx.info.n_kv_heads,
                  ctx.info.vocab_size);
    r.body = std::string("{\"modelfile\":\"\",\"parameters\":\"num_ctx ") + std::to_string(ctx.n_ctx) +
             "\",\"template\":\"" + chat_family_name(ctx.family) +
             "\",\"details\":{\"format\":\"agm\",\"family\":\"bitnet\"},\"model_info\":" + info + "}";
    return r;
}

bool ollama_generate(const ApiContext& ctx, const agm::JsonValue& b, bool chat, Reply* reply, Job* job) {
    GenParams p;
    // Ollama's defaults (llama.cpp's sampler as Ollama sets it).
    p.sampling.temperature = 0.8f;
    p.sampling.top_k = 40;
    p.sampling.top_p = 0.9f;
    p.sampling.repeat_penalty = 1.1f;
    uint64_t num_predict = 0;
    if (!options(ctx, b, &p, &num_predict, reply)) return false;
    std::string prompt, why;
    if (chat) {
        const agm::JsonValue* msgs = b.find("messages");
        if (msgs == nullptr || !msgs->is_array()) {
            *reply = ollama_error(400, "'messages' must be an array");
            return false;
        }
        std::vector<ChatMessage> messages;
        for (size_t i = 0; i < msgs->size(); ++i) {
            const agm::JsonValue& m = msgs->at(i);
            const agm::JsonValue* role = m.find("role");
            const agm::JsonValue* content = m.find("content");
            if (role == nullptr || !role->is_string() || content == nullptr || !content->is_string() ||
                (role->text() != "system" && role->text() != "user" && role->text() != "assistant" &&
                 role->text() != "tool")) {
                *reply = ollama_error(400, "messages[" + std::to_string(i) +
                                               "] needs a role (system, user, assistant, tool) and a string content");
                return false;
            }
            messages.push_back({role->text(), content->text()});
        }
        prompt = format_chat(ctx.family, messages);
    } else {
        const agm::JsonValue* pr = b.find("prompt");
        if (pr != nullptr && !pr->is_string()) {
            *reply = ollama_error(400, "'prompt' must be a string");
            return false;
        }
        const agm::JsonValue* system = b.find("system");
        const agm::JsonValue* raw = b.find("raw");
        const std::string text = pr != nullptr ? pr->text() : std::string();
        if ((raw != nullptr && raw->is_bool() && raw->boolean()) || ctx.family == ChatFamily::Plain) {
            prompt = (system != nullptr && system->is_string() ? system->text() : std::string()) + text;
        } else {
            std::vector<ChatMessage> messages;
            if (system != nullptr && system->is_string()) messages.push_back({"system", system->text()});
            messages.push_back({"user", text});
            prompt = format_chat(ctx.family, messages);
        }
    }
    if (!tokenize_prompt(ctx, prompt, &p.prompt, &why)) {
        *reply = ollama_error(400, why);
        return false;
    }
    if (p.prompt.size() >= ctx.n_ctx) {
        *reply = ollama_error(400, "the prompt is " + std::to_string(p.prompt.size()) + " tokens; the context holds " +
                                       std::to_string(ctx.n_ctx));
        return false;
    }
    p.max_tokens = cap_max_tokens(ctx, p.prompt.size(), num_predict);
    bool stream = true;
    if (const agm::JsonValue* s = b.find("stream"); s != nullptr && s->is_bool()) stream = s->boolean();
    job->params = std::move(p);
    job->formatter.reset(new OllamaFormatter(chat, stream, ctx.model_name));
    return true;
}

}  // namespace agm_serve
