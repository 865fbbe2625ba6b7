// Routing, authentication, shared field checks and error objects (api.h).
#include "api.h"

#include <cmath>
#include <ctime>

#include "agm/json_schema.h"
#include "text.h"

namespace agm_serve {

Reply Formatter::failure(int status, const std::string& message) const { return openai_error(status, message); }

Reply openai_error(int status, const std::string& message, const char* param) {
    const char* type = status == 401   ? "authentication_error"
                       : status == 404 ? "not_found_error"
                       : status == 429 || status == 503 ? "server_busy"
                       : status >= 500 ? "server_error"
                                       : "invalid_request_error";
    Reply r;
    r.status = status;
    r.body = "{\"error\":{\"message\":" + json_string(message) + ",\"type\":\"" + type + "\",\"param\":" +
             (param != nullptr ? json_string(param) : std::string("null")) + ",\"code\":" +
             (status == 401 ? std::string("\"invalid_api_key\"") : std::string("null")) + "}}";
    return r;
}

Reply ollama_error(int status, const std::string& message) {
    Reply r;
    r.status = status;
    r.body = "{\"error\":" + json_string(message) + "}";
    return r;
}

long long unix_time() { return (long long)std::time(nullptr); }

std::string make_id(const char* prefix) {
    static unsigned long long counter = 0;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s-%llx%llu", prefix, (unsigned long long)unix_time(), ++counter);
    return buf;
}

bool tokenize_prompt(const ApiContext& ctx, const std::string& text, std::vector<int32_t>* ids, std::string* error) {
    if (text.size() > ctx.max_prompt_bytes) {
        *error = "the prompt is " + std::to_string(text.size()) + " bytes; the context of " +
                 std::to_string(ctx.n_ctx) + " tokens takes at most " + std::to_string(ctx.max_prompt_bytes);
        return false;
    }
    ids->resize(text.size() + 8);
    size_t n = 0;
    agm_error e;
    agm_status st = agm_tokenize(ctx.model, text.data(), text.size(), ctx.info.add_bos, ids->data(), ids->size(),
                                 &n, &e);
    if (st == AGM_ERR_BUFFER && n > ids->size()) {
        ids->resize(n);
        st = agm_tokenize(ctx.model, text.data(), text.size(), ctx.info.add_bos, ids->data(), ids->size(), &n, &e);
    }
    if (st != AGM_OK) {
        *error = std::string("the prompt cannot be encoded: ") + e.message;
        return false;
    }
    ids->resize(n);
    if (n == 0 && ctx.info.bos_id >= 0) ids->push_back(ctx.info.bos_id);  // an empty prompt starts from BOS
    if (ids->empty()) {
        *error = "the prompt is empty";
        return false;
    }
    return true;
}

uint32_t cap_max_tokens(const ApiContext& ctx, size_t prompt_tokens, uint64_t requested) {
    const uint64_t left = prompt_tokens < ctx.n_ctx ? ctx.n_ctx - prompt_tokens + 1 : 0;
    return (uint32_t)(requested == 0 || requested > left ? left : requested);
}

bool get_number(const agm::JsonValue& obj, const char* key, double lo, double hi, double* out, std::string* error) {
    const agm::JsonValue* v = obj.find(key);
    if (v == nullptr || v->is_null()) return true;
    if (!v->is_number() || !std::isfinite(v->number()) || v->number() < lo || v->number() > hi) {
        char range[96];
        std::snprintf(range, sizeof range, "'%s' must be a number from %g to %g", key, lo, hi);
        *error = range;
        return false;
    }
    *out = v->number();
    return true;
}

bool get_uint(const agm::JsonValue& obj, const char* key, uint64_t lo, uint64_t hi, uint64_t* out,
              std::string* error) {
    const agm::JsonValue* v = obj.find(key);
    if (v == nullptr || v->is_null()) return true;
    // 8.0 is an integer too (JavaScript clients send numbers).
    const double d = v->is_number() ? v->number() : -1.0;
    if (!v->is_number() || d != std::floor(d) || d < (double)lo || d > (double)hi) {
        *error = "'" + std::string(key) + "' must be an integer from " + std::to_string(lo) + " to " +
                 std::to_string(hi);
        return false;
    }
    *out = (uint64_t)d;
    return true;
}

bool get_stops(const agm::JsonValue& obj, const char* key, std::vector<std::string>* out, std::string* error) {
    const agm::JsonValue* v = obj.find(key);
    if (v == nullptr || v->is_null()) return true;
    auto add = [&](const agm::JsonValue& s) {
        if (!s.is_string() || s.text().empty() || s.text().size() > AGM_STOP_MAX_BYTES) {
            *error = "'" + std::string(key) + "' must hold strings of 1 to " + std::to_string(AGM_STOP_MAX_BYTES) +
                     " bytes";
            return false;
        }
        out->push_back(s.text());
        return true;
    };
    if (v->is_string()) return add(*v);
    if (!v->is_array() || v->size() > AGM_STOP_MAX) {
        *error = "'" + std::string(key) + "' must be a string or an array of at most " +
                 std::to_string(AGM_STOP_MAX) + " strings";
        return false;
    }
    for (size_t i = 0; i < v->size(); ++i)
        if (!add(v->at(i))) return false;
    return true;
}

bool schema_grammar(const agm::JsonValue* schema, std::string* gbnf, std::string* error) {
    agm::Error err;
    if (schema == nullptr) {
        static const char kObject[] = "{\"type\":\"object\"}";
        if (agm::json_schema_to_gbnf(reinterpret_cast<const uint8_t*>(kObject), sizeof kObject - 1,
                                     agm::SchemaOptions(), gbnf, &err))
            return true;
    } else if (agm::json_schema_to_gbnf(*schema, agm::SchemaOptions(), gbnf, &err)) {
        return true;
    }
    *error = std::string("the JSON schema cannot be used: ") + err.msg;
    return false;
}

Reply openai_models(const ApiContext& ctx) {
    Reply r;
    r.body = "{\"object\":\"list\",\"data\":[{\"id\":" + json_string(ctx.model_name) +
             ",\"object\":\"model\",\"created\":" + std::to_string(ctx.started) +
             ",\"owned_by\":\"agmodel\"}]}";
    return r;
}

namespace {

bool authorised(const ApiContext& ctx, const HttpRequest& req) {
    if (ctx.api_key.empty()) return true;
    const std::string* h = req.header("authorization");
    return h != nullptr && *h == "Bearer " + ctx.api_key;
}

bool parse_body(const HttpRequest& req, agm::JsonValue* body, std::string* error) {
    if (req.body.empty()) {
        *error = "the request has no body (a JSON object is expected)";
        return false;
    }
    agm::JsonOptions o;
    o.max_depth = 64;
    o.max_values = 1u << 18;
    agm::Error err;
    if (!agm::parse_json(reinterpret_cast<const uint8_t*>(req.body.data()), req.body.size(), body, &err, o)) {
        *error = std::string("the body is not valid JSON: ") + err.msg;
        return false;
    }
    if (!body->is_object()) {
        *error = "the body must be a JSON object";
        return false;
    }
    return true;
}

}  // namespace

bool route(const ApiContext& ctx, const HttpRequest& req, Reply* reply, Job* job) {
    const std::string& p = req.path;
    const bool ollama = p.compare(0, 5, "/api/") == 0;
    const bool openai = p.compare(0, 4, "/v1/") == 0;
    auto error = [&](int status, const std::string& message) {
        *reply = ollama ? ollama_error(status, message) : openai_error(status, message);
        return false;
    };
    if ((ollama || openai) && !authorised(ctx, req)) {
        *reply = openai_error(401, "a valid API key is required: Authorization: Bearer <key>");
        reply->extra_headers = "WWW-Authenticate: Bearer\r\n";
        return false;
    }
    struct Endpoint {
        const char* path;
        const char* method;
    };
    static const Endpoint kEndpoints[] = {
        {"/v1/models", "GET"},     {"/v1/chat/completions", "POST"}, {"/v1/completions", "POST"},
        {"/api/generate", "POST"}, {"/api/chat", "POST"},            {"/api/tags", "GET"},
        {"/api/show", "POST"},     {"/api/version", "GET"},          {"/health", "GET"}};
    const Endpoint* found = nullptr;
    for (const Endpoint& e : kEndpoints)
        if (p == e.path) found = &e;
    if (found == nullptr) return error(404, "no endpoint " + p);
    if (req.method != found->method && !(req.method == "HEAD" && std::string(found->method) == "GET")) {
        *reply = ollama ? ollama_error(405, req.method + " is not allowed on " + p)
                        : openai_error(405, req.method + " is not allowed on " + p);
        reply->extra_headers = std::string("Allow: ") + found->method + "\r\n";
        return false;
    }
    if (p == "/health") {
        reply->body = "{\"status\":\"ok\"}";
        return false;
    }
    if (p == "/v1/models") {
        *reply = openai_models(ctx);
        return false;
    }
    if (p == "/api/tags") {
        *reply = ollama_tags(ctx);
        return false;
    }
    if (p == "/api/version") {
        reply->body = "{\"version\":\"0.5.0-agmodel\"}";
        return false;
    }
    agm::JsonValue body;
    std::string why;
    if (!parse_body(req, &body, &why)) return error(400, why);
    if (p == "/api/show") {
        *reply = ollama_show(ctx);
        return false;
    }
    if (p == "/v1/chat/completions") return openai_chat(ctx, body, reply, job);
    if (p == "/v1/completions") return openai_completion(ctx, body, reply, job);
    return ollama_generate(ctx, body, p == "/api/chat", reply, job);
}

}  // namespace agm_serve
