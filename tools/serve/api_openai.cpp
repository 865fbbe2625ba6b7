// OpenAI's API: POST /v1/chat/completions and /v1/completions, whole or as
// server-sent events (api.h). Fields that would change the result and are
// not implemented get a 400 naming them; fields that change nothing
// (user, metadata, store, ...) are accepted and ignored.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "api.h"
#include "text.h"
#include "tools.h"

namespace agm_serve {

namespace {

const char* finish_name(Finish f) {
    switch (f) {
        case Finish::Length: return "length";
        case Finish::Stop: return "stop";
        default: return "stop";
    }
}

std::string usage_json(const Generation& g) {
    return "{\"prompt_tokens\":" + std::to_string(g.prompt_tokens()) +
           ",\"completion_tokens\":" + std::to_string(g.completion_tokens()) +
           ",\"total_tokens\":" + std::to_string(g.prompt_tokens() + g.completion_tokens()) +
           ",\"prompt_tokens_details\":{\"cached_tokens\":" + std::to_string(g.cached_tokens()) + "}}";
}

// Chat and text completions, whole or streamed.
class OpenAiFormatter : public Formatter {
public:
    // tools: the output may be a tool call (an output that begins with "{").
    OpenAiFormatter(bool chat, bool stream, bool usage, const std::string& model, bool tools = false)
        : chat_(chat), stream_(stream), usage_(usage), tools_(tools), model_(model),
          id_(make_id(chat ? "chatcmpl" : "cmpl")), created_(unix_time()) {}
    bool streaming() const override { return stream_; }
    const char* content_type() const override { return stream_ ? "text/event-stream" : "application/json"; }

    std::string begin() override {
        if (!stream_ || !chat_) return std::string();
        return event(chunk("{\"role\":\"assistant\",\"content\":\"\"}", "null"));
    }
    std::string text(const std::string& delta) override {
        if (!stream_ || call_) {
            all_ += delta;
            return std::string();
        }
        if (delta.empty()) return std::string();
        if (tools_ && !decided_) {  // a call is sent whole at the end
            decided_ = true;
            if (delta[0] == '{') {
                call_ = true;
                all_ += delta;
                return std::string();
            }
        }
        return event(chat_ ? chunk("{\"content\":" + json_string(delta) + "}", "null")
                           : chunk(json_string(delta), "null"));
    }
    std::string end(const Generation& g) override {
        std::string finish = std::string("\"") + finish_name(g.finish()) + "\"";
        // A complete call: tool_calls (a call cut short by max_tokens stays text).
        std::string name, arguments, calls;
        if (tools_ && !all_.empty() && all_[0] == '{' && g.finish() == Finish::Stop &&
            parse_tool_call(all_, &name, &arguments)) {
            calls = "[{\"index\":0,\"id\":\"" + make_id("call") + "\",\"type\":\"function\",\"function\":{\"name\":" +
                    json_string(name) + ",\"arguments\":" + json_string(arguments) + "}}]";
            finish = "\"tool_calls\"";
        }
        if (stream_) {
            std::string out;
            if (call_) {
                out = calls.empty() ? event(chunk("{\"content\":" + json_string(all_) + "}", "null"))
                                    : event(chunk("{\"tool_calls\":" + calls + "}", "null"));
            }
            out += event(chat_ ? chunk("{}", finish) : chunk("\"\"", finish));
            if (usage_)
                out += event("{\"id\":\"" + id_ + "\",\"object\":\"" + object() + "\",\"created\":" +
                             std::to_string(created_) + ",\"model\":" + json_string(model_) +
                             ",\"choices\":[],\"usage\":" + usage_json(g) + "}");
            return out + "data: [DONE]\n\n";
        }
        const std::string message = calls.empty() ? "{\"role\":\"assistant\",\"content\":" + json_string(all_) + "}"
                                                  : "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":" + calls + "}";
        std::string choice = chat_ ? "{\"index\":0,\"message\":" + message + ",\"logprobs\":null,\"finish_reason\":" +
                                         finish + "}"
                                   : "{\"index\":0,\"text\":" + json_string(all_) +
                                         ",\"logprobs\":null,\"finish_reason\":" + finish + "}";
        return "{\"id\":\"" + id_ + "\",\"object\":\"" + (chat_ ? "chat.completion" : "text_completion") +
               "\",\"created\":" + std::to_string(created_) + ",\"model\":" + json_string(model_) +
               ",\"choices\":[" + choice + "],\"usage\":" + usage_json(g) + "}";
    }
    std::string error(const std::string& message) override {
        return event(openai_error(500, message).body) + "data: [DONE]\n\n";
    }

private:
    const char* object() const { return chat_ ? "chat.completion.chunk" : "text_completion"; }
    // One chunk: chat's delta object, or a completion's text.
    std::string chunk(const std::string& delta_or_text, const std::string& finish) {
        std::string c = "{\"id\":\"" + id_ + "\",\"object\":\"" + object() + "\",\"created\":" +
                        std::to_string(created_) + ",\"model\":" + json_string(model_) + ",\"choices\":[{\"index\":0,";
        c += chat_ ? "\"delta\":" + delta_or_text : "\"text\":" + delta_or_text;
        c += ",\"logprobs\":null,\"finish_reason\":" + finish + "}]}";
        return c;
    }
    static std::string event(const std::string& data) { return "data: " + data + "\n\n"; }

    bool chat_, stream_, usage_, tools_;
    bool decided_ = false, call_ = false;  // streaming with tools: whether the output is a call
    std::string model_, id_;
    long long created_;
    std::string all_;
};

// Refuses what is not implemented and would change the result.
bool refuse_unsupported(const agm::JsonValue& b, bool chat, Reply* reply) {
    auto refuse = [&](const char* field, const std::string& why) {
        *reply = openai_error(400, "'" + std::string(field) + "' " + why, field);
        return true;
    };
    const agm::JsonValue* v;
    if ((v = b.find("n")) != nullptr && !v->is_null() && !(v->is_number() && v->number() == 1.0))
        return refuse("n", "must be 1: one choice per request");
    if ((v = b.find("logprobs")) != nullptr && !v->is_null() && !(v->is_bool() && !v->boolean()) &&
        !(v->is_number() && v->number() == 0.0))
        return refuse("logprobs", "is not supported");
    if ((v = b.find("top_logprobs")) != nullptr && !v->is_null()) return refuse("top_logprobs", "is not supported");
    if ((v = b.find("best_of")) != nullptr && !v->is_null() && !(v->is_number() && v->number() == 1.0))
        return refuse("best_of", "must be 1");
    if ((v = b.find("echo")) != nullptr && v->is_bool() && v->boolean()) return refuse("echo", "is not supported");
    if ((v = b.find("suffix")) != nullptr && !v->is_null()) return refuse("suffix", "is not supported");
    if ((v = b.find("functions")) != nullptr) return refuse("functions", "is not supported: use 'tools'");
    if ((v = b.find("audio")) != nullptr && !v->is_null()) return refuse("audio", "is not supported");
    if ((v = b.find("prediction")) != nullptr && !v->is_null()) return refuse("prediction", "is not supported");
    (void)chat;
    return false;
}

// The sampling fields both endpoints share; false with *reply set.
bool sampling_fields(const ApiContext& ctx, const agm::JsonValue& b, GenParams* p, uint64_t* max_tokens,
                     Reply* reply) {
    std::string why;
    double temperature = 1.0, top_p = 1.0, presence = 0.0, frequency = 0.0;
    uint64_t seed = 0;
    bool has_seed = b.find("seed") != nullptr && !b.find("seed")->is_null();
    const char* bad = nullptr;
    if (!get_number(b, "temperature", 0.0, 2.0, &temperature, &why)) bad = "temperature";
    else if (!get_number(b, "top_p", 0.0, 1.0, &top_p, &why)) bad = "top_p";
    else if (!get_number(b, "presence_penalty", 0.0, 2.0, &presence, &why)) bad = "presence_penalty";
    else if (!get_number(b, "frequency_penalty", 0.0, 2.0, &frequency, &why)) bad = "frequency_penalty";
    else if (!get_uint(b, "seed", 0, (uint64_t)1 << 53, &seed, &why)) bad = "seed";
    else if (!get_uint(b, "max_tokens", 1, 1u << 30, max_tokens, &why)) bad = "max_tokens";
    else if (!get_uint(b, "max_completion_tokens", 1, 1u << 30, max_tokens, &why)) bad = "max_completion_tokens";
    else if (!get_stops(b, "stop", &p->stops, &why)) bad = "stop";
    if (bad != nullptr) {
        *reply = openai_error(400, why, bad);
        return false;
    }
    p->sampling.temperature = (float)temperature;
    p->sampling.top_p = (float)top_p;
    p->sampling.presence_penalty = (float)presence;
    p->sampling.frequency_penalty = (float)frequency;
    if (has_seed) p->sampling.seed = seed;
    if (const agm::JsonValue* lb = b.find("logit_bias"); lb != nullptr && !lb->is_null()) {
        if (!lb->is_object() || lb->size() > AGM_SAMPLER_MAX_BIAS) {
            *reply = openai_error(400, "'logit_bias' must be an object of at most " +
                                           std::to_string(AGM_SAMPLER_MAX_BIAS) + " token ids", "logit_bias");
            return false;
        }
        for (size_t i = 0; i < lb->size(); ++i) {
            const std::string& k = lb->key(i);
            const agm::JsonValue& v = lb->at(i);
            char* end = nullptr;
            const unsigned long id = std::strtoul(k.c_str(), &end, 10);
            if (k.empty() || *end != '\0' || id >= ctx.info.vocab_size || !v.is_number() || v.number() < -100 ||
                v.number() > 100) {
                *reply = openai_error(400, "'logit_bias' maps token ids below " + std::to_string(ctx.info.vocab_size) +
                                               " to numbers from -100 to 100", "logit_bias");
                return false;
            }
            agm_logit_bias& e = p->sampling.logit_bias[p->sampling.n_logit_bias++];
            e.token = (int32_t)id;
            e.bias = v.number() <= -100 ? -HUGE_VALF : (float)v.number();
        }
    }
    return true;
}

// response_format: text, json_object or json_schema.
bool response_format(const agm::JsonValue& b, GenParams* p, Reply* reply) {
    const agm::JsonValue* rf = b.find("response_format");
    if (rf == nullptr || rf->is_null()) return true;
    const agm::JsonValue* type = rf->find("type");
    std::string why;
    if (type == nullptr || !type->is_string()) {
        *reply = openai_error(400, "'response_format.type' must be text, json_object or json_schema", "response_format");
        return false;
    }
    if (type->text() == "text") return true;
    if (type->text() == "json_object") {
        if (schema_grammar(nullptr, &p->grammar, &why)) return true;
    } else if (type->text() == "json_schema") {
        const agm::JsonValue* js = rf->find("json_schema");
        const agm::JsonValue* schema = js != nullptr ? js->find("schema") : nullptr;
        if (schema == nullptr) {
            *reply = openai_error(400, "'response_format.json_schema.schema' is missing", "response_format");
            return false;
        }
        if (schema_grammar(schema, &p->grammar, &why)) return true;
    } else {
        why = "'response_format.type' must be text, json_object or json_schema";
    }
    *reply = openai_error(400, why, "response_format");
    return false;
}

// A message's content: a string, or an array of text parts.
bool message_text(const agm::JsonValue& content, std::string* out) {
    if (content.is_null()) return true;
    if (content.is_string()) {
        *out = content.text();
        return true;
    }
    if (!content.is_array()) return false;
    for (size_t i = 0; i < content.size(); ++i) {
        const agm::JsonValue& part = content.at(i);
        const agm::JsonValue* type = part.find("type");
        const agm::JsonValue* text = part.find("text");
        if (type == nullptr || !type->is_string() || type->text() != "text" || text == nullptr || !text->is_string())
            return false;
        *out += text->text();
    }
    return true;
}

bool finish_job(const ApiContext& ctx, const agm::JsonValue& b, bool chat, const std::string& prompt, GenParams p,
                uint64_t max_tokens, Reply* reply, Job* job, bool tools = false) {
    std::string why;
    if (!tokenize_prompt(ctx, prompt, &p.prompt, &why)) {
        *reply = openai_error(400, why, chat ? "messages" : "prompt");
        return false;
    }
    if (p.prompt.size() >= ctx.n_ctx) {
        *reply = openai_error(400, "the prompt is " + std::to_string(p.prompt.size()) + " tokens; the context holds " +
                                       std::to_string(ctx.n_ctx), chat ? "messages" : "prompt");
        return false;
    }
    p.max_tokens = cap_max_tokens(ctx, p.prompt.size(), max_tokens);
    bool stream = false, usage = false;
    if (const agm::JsonValue* s = b.find("stream"); s != nullptr && s->is_bool()) stream = s->boolean();
    if (const agm::JsonValue* so = b.find("stream_options"); so != nullptr && so->is_object())
        if (const agm::JsonValue* u = so->find("include_usage"); u != nullptr && u->is_bool()) usage = u->boolean();
    job->params = std::move(p);
    job->formatter.reset(new OpenAiFormatter(chat, stream, usage, ctx.model_name, tools));
    return true;
}

}  // namespace

bool openai_chat(const ApiContext& ctx, const agm::JsonValue& b, Reply* reply, Job* job) {
    if (refuse_unsupported(b, true, reply)) return false;
    const agm::JsonValue* msgs = b.find("messages");
    if (msgs == nullptr || !msgs->is_array() || msgs->size() == 0) {
        *reply = openai_error(400, "'messages' must be a non-empty array", "messages");
        return false;
    }
    std::vector<ChatMessage> messages;
    for (size_t i = 0; i < msgs->size(); ++i) {
        const agm::JsonValue& m = msgs->at(i);
        const agm::JsonValue* role = m.find("role");
        const agm::JsonValue* content = m.find("content");
        ChatMessage cm;
        if (role == nullptr || !role->is_string() ||
            (role->text() != "system" && role->text() != "developer" && role->text() != "user" &&
             role->text() != "assistant" && role->text() != "tool") ||
            (content == nullptr && m.find("tool_calls") == nullptr) ||
            (content != nullptr && !message_text(*content, &cm.content))) {
            *reply = openai_error(400, "messages[" + std::to_string(i) +
                                           "] needs a role (system, developer, user, assistant, tool) and a text content",
                                  "messages");
            return false;
        }
        cm.role = role->text() == "developer" ? "system" : role->text();
        // An earlier call of the assistant's is shown to the model as it wrote it.
        if (const agm::JsonValue* calls = m.find("tool_calls"); calls != nullptr && calls->is_array())
            for (size_t k = 0; k < calls->size(); ++k) {
                const agm::JsonValue* fn = calls->at(k).find("function");
                const agm::JsonValue* name = fn != nullptr ? fn->find("name") : nullptr;
                const agm::JsonValue* args = fn != nullptr ? fn->find("arguments") : nullptr;
                if (name != nullptr && name->is_string() && args != nullptr && args->is_string())
                    cm.content += "{\"name\":" + json_string(name->text()) + ",\"arguments\":" + args->text() + "}";
            }
        messages.push_back(std::move(cm));
    }
    GenParams p;
    uint64_t max_tokens = 0;
    if (!sampling_fields(ctx, b, &p, &max_tokens, reply) || !response_format(b, &p, reply)) return false;
    ToolSpec tools;
    std::string why;
    const char* param = nullptr;
    if (!parse_tools(b, &tools, &why, &param)) {
        *reply = openai_error(400, why, param);
        return false;
    }
    if (!tools.tools.empty()) {  // the tools described in the system message
        if (messages[0].role == "system") messages[0].content = tools_prompt(tools) + "\n" + messages[0].content;
        else messages.insert(messages.begin(), ChatMessage{"system", tools_prompt(tools)});
    }
    if (tools.active()) {
        if (!p.grammar.empty()) {
            *reply = openai_error(400, "'response_format' with 'tools' is not supported: use one", "response_format");
            return false;
        }
        if (!tools_grammar(tools, &p.grammar, &why)) {
            *reply = openai_error(400, why, "tools");
            return false;
        }
    }
    return finish_job(ctx, b, true, format_chat(ctx.family, messages), std::move(p), max_tokens, reply, job,
                      tools.active());
}

bool openai_completion(const ApiContext& ctx, const agm::JsonValue& b, Reply* reply, Job* job) {
    if (refuse_unsupported(b, false, reply)) return false;
    const agm::JsonValue* pr = b.find("prompt");
    std::string prompt;
    if (pr != nullptr && pr->is_array() && pr->size() == 1 && pr->at(0).is_string()) pr = &pr->at(0);
    if (pr == nullptr || !pr->is_string()) {
        *reply = openai_error(400, "'prompt' must be a string (or an array of one string)", "prompt");
        return false;
    }
    GenParams p;
    uint64_t max_tokens = 16;  // OpenAI's default for completions
    if (!sampling_fields(ctx, b, &p, &max_tokens, reply) || !response_format(b, &p, reply)) return false;
    return finish_job(ctx, b, false, pr->text(), std::move(p), max_tokens, reply, job);
}

}  // namespace agm_serve
