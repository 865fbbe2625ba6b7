// One request's generation on the server's single session, run in slices
// so that the event loop (server.cpp) polls its sockets between them: a
// slice is at most a few milliseconds of layer passes (agm_control's work
// budget of one unit), so a disconnect is noticed within one layer pass and
// other clients are served while a long prompt is fed. The C API only, as
// any program would use it (tools/agmodel-run.cpp's loop: the same tokens).
//
// Prefix reuse: the session keeps the last request's tokens; a new prompt
// that begins with them (all but its last token at most) truncates the
// session there and feeds only the rest (usage: cached_tokens).
#ifndef AGM_SERVE_GENERATION_H
#define AGM_SERVE_GENERATION_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agmodel.h"
#include "text.h"

namespace agm_serve {

struct GenParams {
    std::vector<int32_t> prompt;  // token ids, BOS included when the model takes it
    uint32_t max_tokens = 0;      // completion tokens at most (the caller caps it by the context)
    agm_sampler_params sampling;
    std::vector<std::string> stops;  // at most AGM_STOP_MAX, each 1..AGM_STOP_MAX_BYTES bytes
    std::string grammar;             // GBNF the output must follow ("" : none)
    GenParams() { agm_sampler_params_default(&sampling); }
};

enum class Finish { None, Stop, Length, Cancelled, Error };

// The memory a request's grammar and its matcher are compiled into:
// reserved once at startup (--grammar-memory), reused by every request; a
// grammar that does not fit is refused (400) instead of growing the heap.
class GrammarArena {
public:
    explicit GrammarArena(size_t bytes) : bytes_(bytes), data_(bytes != 0 ? new uint8_t[bytes] : nullptr) {}
    uint8_t* data() const { return data_.get(); }
    size_t bytes() const { return bytes_; }

private:
    size_t bytes_;
    std::unique_ptr<uint8_t[]> data_;  // not zeroed: pages become resident as grammars use them
};

// Bytes a GrammarArena needs for this grammar and its matcher (0: it does
// not compile).
size_t grammar_arena_bytes(agm_model* model, const std::string& gbnf);

class Generation {
public:
    // arena: where a grammar goes (may be null: then no grammar is accepted).
    Generation(agm_model* model, agm_session* session, GrammarArena* arena);
    ~Generation();
    Generation(const Generation&) = delete;
    Generation& operator=(const Generation&) = delete;

    // Checks the parameters and prepares the run (the grammar compiled, the
    // common prefix found). false: *error says why (a client error: 400).
    bool start(const GenParams& params, std::string* error);

    // Runs for about `slice_ms` (at least one unit of work) and appends the
    // text made meanwhile (valid UTF-8, stop strings held back until they
    // are ruled out) to *text. Returns false once the generation is over
    // (finish() says how); the text of the last call is complete.
    bool step(double slice_ms, std::string* text);

    // Stops at the next unit of work (a disconnected client). The session
    // is reset: its state was mid-call.
    void cancel();

    Finish finish() const { return finish_; }
    const std::string& error() const { return error_; }
    uint32_t prompt_tokens() const { return (uint32_t)params_.prompt.size(); }
    uint32_t cached_tokens() const { return cached_; }
    uint32_t completion_tokens() const { return completion_; }
    // The output's tokens (the API's greedy output is compared with agmodel-run's).
    const std::vector<int32_t>& output() const { return out_tokens_; }

private:
    bool feed_some(double deadline_ms);  // continues pending_ within the slice; false on an error
    void emit(int32_t token, std::string* text);
    void end(Finish f, std::string* text);

    agm_model* model_;
    agm_session* session_;
    GrammarArena* arena_;
    agm_model_info info_{};
    GenParams params_;
    agm_sampler sampler_{};
    agm_stop stop_{};
    Utf8Stream utf8_;
    agm_grammar* grammar_ = nullptr;
    agm_matcher* matcher_ = nullptr;
    std::vector<uint32_t> mask_;
    std::vector<int32_t> pending_;  // the tokens of the feed in progress
    bool feeding_ = false;
    int32_t last_ = -1;            // the last token fed (for the pieces' leading space)
    uint32_t cached_ = 0, completion_ = 0;
    std::vector<int32_t> out_tokens_;
    Finish finish_ = Finish::None;
    std::string error_;
};

// Milliseconds of a monotonic clock.
double now_ms();

}  // namespace agm_serve

#endif
