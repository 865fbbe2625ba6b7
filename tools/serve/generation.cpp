// One request's generation in slices (generation.h).
#include "generation.h"

#include <ctime>

namespace agm_serve {

double now_ms() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

Generation::Generation(agm_model* model, agm_session* session, GrammarArena* arena)
    : model_(model), session_(session), arena_(arena) {
    agm_model_get_info(model_, &info_);
    mask_.resize((info_.vocab_size + 31) / 32);
}

// The grammar and its matcher live in the arena: nothing to free.
Generation::~Generation() = default;

namespace {

size_t matcher_offset(size_t grammar_bytes) { return (grammar_bytes + 15) & ~(size_t)15; }

// Compiles text into the arena: the grammar first, its matcher after it.
bool compile_grammar(agm_model* model, const std::string& text, GrammarArena* arena, agm_grammar** grammar,
                     agm_matcher** matcher, std::string* error) {
    agm_error e;
    size_t g_bytes = 0, m_bytes = 0;
    if (agm_grammar_memory_size(model, text.data(), text.size(), nullptr, &g_bytes, &e) != AGM_OK) {
        *error = std::string("grammar: ") + e.message;
        return false;
    }
    const size_t cap = arena != nullptr ? arena->bytes() : 0;
    const size_t m_off = matcher_offset(g_bytes);
    if (m_off > cap || agm_grammar_init(model, text.data(), text.size(), nullptr, arena->data(), g_bytes, grammar,
                                        &e) != AGM_OK) {
        *error = m_off > cap ? "the output's grammar needs " + std::to_string(g_bytes) +
                                   " bytes; the server's grammar memory is " + std::to_string(cap) +
                                   " (--grammar-memory)"
                             : std::string("grammar: ") + e.message;
        return false;
    }
    if (agm_matcher_memory_size(*grammar, &m_bytes, &e) != AGM_OK) {
        *error = std::string("grammar: ") + e.message;
        return false;
    }
    if (m_bytes > cap - m_off) {
        *error = "the output's grammar and its matcher need " + std::to_string(m_off + m_bytes) +
                 " bytes; the server's grammar memory is " + std::to_string(cap) + " (--grammar-memory)";
        return false;
    }
    if (agm_matcher_init(*grammar, arena->data() + m_off, m_bytes, matcher, &e) != AGM_OK) {
        *error = std::string("grammar: ") + e.message;
        return false;
    }
    return true;
}

}  // namespace

size_t grammar_arena_bytes(agm_model* model, const std::string& gbnf) {
    size_t g_bytes = 0, m_bytes = 0;
    agm_grammar* g = nullptr;
    if (agm_grammar_memory_size(model, gbnf.data(), gbnf.size(), nullptr, &g_bytes, nullptr) != AGM_OK ||
        agm_grammar_create(model, gbnf.data(), gbnf.size(), nullptr, &g, nullptr) != AGM_OK)
        return 0;
    const bool ok = agm_matcher_memory_size(g, &m_bytes, nullptr) == AGM_OK;
    agm_grammar_free(g);
    return ok ? matcher_offset(g_bytes) + m_bytes : 0;
}

bool Generation::start(const GenParams& params, std::string* error) {
    params_ = params;
    agm_error e;
    const uint32_t ctx = agm_session_context(session_);
    const size_t n = params_.prompt.size();
    if (n == 0) {
        *error = "the prompt is empty";
        return false;
    }
    if (n >= ctx) {
        *error = "the prompt is " + std::to_string(n) + " tokens; the context holds " + std::to_string(ctx) +
                 " (and at least one for the reply)";
        return false;
    }
    if (agm_sampler_params_check(&params_.sampling, &e) != AGM_OK) {
        *error = e.message;
        return false;
    }
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const std::string& s : params_.stops) {
        ptrs.push_back(s.data());
        lens.push_back(s.size());
    }
    if (agm_stop_init(&stop_, ptrs.data(), lens.data(), ptrs.size(), &e) != AGM_OK) {
        *error = std::string("stop: ") + e.message;
        return false;
    }
    if (!params_.grammar.empty()) {
        if (!compile_grammar(model_, params_.grammar, arena_, &grammar_, &matcher_, error)) return false;
        agm_matcher_reset(matcher_, params_.prompt.back());
    }
    // One unit of work per call: the event loop runs between layer passes.
    agm_control c;
    agm_control_default(&c);
    c.work_budget = 1;
    agm_session_set_control(session_, &c, &e);
    // The common prefix with what the session holds: kept, the rest fed.
    const uint32_t pos = agm_session_position(session_);
    size_t common = agm_reusable_prefix(agm_session_tokens(session_), pos, params_.prompt.data(), n);
    if (common < pos && agm_session_truncate(session_, (uint32_t)common, &e) != AGM_OK) {
        agm_session_reset(session_);
        common = 0;
    }
    cached_ = (uint32_t)common;
    pending_.assign(params_.prompt.begin() + (long)common, params_.prompt.end());
    feeding_ = true;
    agm_sampler_init(&sampler_, &params_.sampling);
    for (int32_t t : params_.prompt) agm_sampler_accept(&sampler_, t);  // the penalties see the prompt
    last_ = params_.prompt.back();
    return true;
}

bool Generation::feed_some(double deadline_ms) {
    agm_error e;
    for (;;) {
        const agm_status st = agm_session_feed(session_, pending_.data(), pending_.size(), &e);
        if (st == AGM_OK) {
            feeding_ = false;
            return true;
        }
        if (st != AGM_ERR_BUDGET) {
            error_ = e.message;
            return false;
        }
        if (now_ms() >= deadline_ms) return true;  // still feeding_: the next slice continues
    }
}

void Generation::emit(int32_t token, std::string* text) {
    char piece[256], safe[256 + AGM_STOP_MAX_BYTES];
    size_t n = agm_token_piece(model_, last_, token, AGM_PIECE_PRINTABLE, piece, sizeof piece);
    if (n > sizeof piece) n = sizeof piece;
    size_t n_safe = 0;
    agm_error e;
    if (agm_stop_feed(&stop_, piece, n, safe, sizeof safe, &n_safe, &e) == AGM_OK)
        utf8_.push(safe, n_safe, text);
}

void Generation::end(Finish f, std::string* text) {
    char rest[AGM_STOP_MAX_BYTES];
    const size_t n = agm_stop_flush(&stop_, rest, sizeof rest);
    utf8_.push(rest, n, text);
    utf8_.flush(text);
    finish_ = f;
    if (f == Finish::Error || f == Finish::Cancelled) agm_session_reset(session_);
}

bool Generation::step(double slice_ms, std::string* text) {
    if (finish_ != Finish::None) return false;
    const double deadline = now_ms() + slice_ms;
    agm_error e;
    for (;;) {
        if (feeding_) {
            if (!feed_some(deadline)) {
                end(Finish::Error, text);
                return false;
            }
            if (feeding_) return true;
        }
        // The logits after the last token: pick the next one.
        int32_t next = -1;
        agm_status st;
        if (matcher_ != nullptr) {
            uint32_t allowed = 0;
            st = agm_matcher_fill_mask(matcher_, mask_.data(), mask_.size(), &allowed, &e);
            if (st == AGM_OK) st = agm_session_sample_masked(session_, &sampler_, mask_.data(), &next, &e);
        } else {
            st = agm_session_sample(session_, &sampler_, &next, &e);
        }
        if (st != AGM_OK) {
            error_ = e.message;
            end(Finish::Error, text);
            return false;
        }
        if (next == info_.eos_id || next == info_.bos_id) {
            end(Finish::Stop, text);
            return false;
        }
        if (matcher_ != nullptr && agm_matcher_accept_token(matcher_, next, &e) != AGM_OK) {
            error_ = e.message;
            end(Finish::Error, text);
            return false;
        }
        emit(next, text);
        last_ = next;
        ++completion_;
        out_tokens_.push_back(next);
        if (agm_stop_matched(&stop_) >= 0 || (matcher_ != nullptr && agm_matcher_is_done(matcher_))) {
            end(Finish::Stop, text);
            return false;
        }
        if (completion_ >= params_.max_tokens ||
            agm_session_position(session_) >= agm_session_context(session_)) {
            end(Finish::Length, text);
            return false;
        }
        pending_.assign(1, next);
        feeding_ = true;
        if (now_ms() >= deadline) return true;
    }
}

void Generation::cancel() {
    if (finish_ != Finish::None) return;
    std::string ignored;
    end(Finish::Cancelled, &ignored);
}

}  // namespace agm_serve
