// agmodel-serve's endpoints: a request becomes either an immediate reply
// (models, tags, version, errors) or a generation job whose Formatter turns
// the generated text into the API's response: OpenAI's (api_openai.cpp:
// chat.completion, text_completion, server-sent events) or Ollama's
// (api_ollama.cpp: NDJSON). Routing, authentication, the shared field
// checks and the error objects are in api.cpp.
#ifndef AGM_SERVE_API_H
#define AGM_SERVE_API_H

#include <cstdint>
#include <memory>
#include <string>

#include "agm/json.h"
#include "agmodel.h"
#include "generation.h"
#include "http.h"
#include "templates.h"

namespace agm_serve {

// What every handler knows about the server.
struct ApiContext {
    agm_model* model = nullptr;
    agm_model_info info{};
    std::string model_name;  // the file's base name without .agm
    std::string model_path;
    ChatFamily family = ChatFamily::Plain;
    uint32_t n_ctx = 0;
    size_t max_prompt_bytes = 1 << 20;  // a longer prompt text cannot fit n_ctx tokens: refused unencoded
    const char* kv_name = "f32";
    std::string api_key;  // "": none asked
    long long started = 0;  // Unix time at startup (the "created" of /v1/models)
};

struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::string extra_headers;  // "Name: value\r\n" lines
};

// Turns a generation into the API's bytes.
class Formatter {
public:
    virtual ~Formatter() = default;
    virtual bool streaming() const = 0;
    virtual const char* content_type() const = 0;
    // Streaming: the bytes that open the stream (may be empty).
    virtual std::string begin() { return std::string(); }
    // Streaming: the bytes for a piece of text (valid UTF-8).
    virtual std::string text(const std::string& delta) = 0;
    // The closing bytes (streaming), or the whole body; g has finished.
    virtual std::string end(const Generation& g) = 0;
    // Streaming: the bytes for an error after the stream began.
    virtual std::string error(const std::string& message) = 0;
    // The reply for an error before anything was sent, in the API's own
    // error object (OpenAI's by default).
    virtual Reply failure(int status, const std::string& message) const;
};

struct Job {
    GenParams params;
    std::unique_ptr<Formatter> formatter;
};

// Routes req: true with *job filled for a generation, false with *reply
// filled otherwise.
bool route(const ApiContext& ctx, const HttpRequest& req, Reply* reply, Job* job);

// An OpenAI error object: {"error":{"message","type","param","code"}}.
Reply openai_error(int status, const std::string& message, const char* param = nullptr);
// An Ollama error: {"error": message}.
Reply ollama_error(int status, const std::string& message);

// ---- shared by the handlers (api.cpp) ----

// The prompt text's tokens (BOS first when the model takes it).
bool tokenize_prompt(const ApiContext& ctx, const std::string& text, std::vector<int32_t>* ids, std::string* error);

// Caps a requested completion length by the context left after the prompt
// (requested 0: all of it).
uint32_t cap_max_tokens(const ApiContext& ctx, size_t prompt_tokens, uint64_t requested);

// A number field in [lo, hi]; absent: *out untouched. false: *error names the field.
bool get_number(const agm::JsonValue& obj, const char* key, double lo, double hi, double* out, std::string* error);
bool get_uint(const agm::JsonValue& obj, const char* key, uint64_t lo, uint64_t hi, uint64_t* out,
              std::string* error);
// "stop": a string or an array of strings.
bool get_stops(const agm::JsonValue& obj, const char* key, std::vector<std::string>* out, std::string* error);
// A JSON Schema value to GBNF (json_schema), or any JSON object when schema is null.
bool schema_grammar(const agm::JsonValue* schema, std::string* gbnf, std::string* error);

// "chatcmpl-...": unique per server run.
std::string make_id(const char* prefix);
long long unix_time();

Reply openai_models(const ApiContext& ctx);
bool openai_chat(const ApiContext& ctx, const agm::JsonValue& body, Reply* reply, Job* job);
bool openai_completion(const ApiContext& ctx, const agm::JsonValue& body, Reply* reply, Job* job);
Reply ollama_tags(const ApiContext& ctx);
Reply ollama_show(const ApiContext& ctx);
bool ollama_generate(const ApiContext& ctx, const agm::JsonValue& body, bool chat, Reply* reply, Job* job);

}  // namespace agm_serve

#endif
