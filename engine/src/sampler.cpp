#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "api_util.h"
#include "fast_math.h"
#include "ops.h"

namespace agm {
namespace {

struct Candidate {
    float prob;
    int32_t index;
};

// Higher probability first; the lower index first among equals, so the
// order (and the sampled token) is the same on every platform.
bool before(const Candidate& a, const Candidate& b) {
    return a.prob > b.prob || (a.prob == b.prob && a.index < b.index);
}

uint32_t next_u32(uint64_t* state) {  // xorshift64*
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

float next_f32(uint64_t* state) { return (float)(next_u32(state) >> 8) / 16777216.0f; }  // [0, 1)

int32_t argmax(const float* x, uint32_t n) {
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return (int32_t)best;
}

// Does any control change the logits before the temperature?
bool adjusts(const agm_sampler& s) {
    const agm_sampler_params& p = s.params;
    const bool penalties = s.history_len > 0 && p.repeat_last_n > 0 &&
                           ((p.repeat_penalty > 0.0f && p.repeat_penalty != 1.0f) ||
                            (p.presence_penalty > 0.0f || p.presence_penalty < 0.0f) ||
                            (p.frequency_penalty > 0.0f || p.frequency_penalty < 0.0f));
    const bool min_p = p.min_p > 0.0f && p.min_p <= 1.0f;
    return penalties || min_p || p.n_logit_bias > 0;
}

// llama.cpp's penalties for a token seen `count` times.
float penalize(float l, uint32_t count, const agm_sampler_params& p) {
    if (p.repeat_penalty > 0.0f && p.repeat_penalty != 1.0f) l = l > 0.0f ? l / p.repeat_penalty : l * p.repeat_penalty;
    const float freq = p.frequency_penalty == p.frequency_penalty ? p.frequency_penalty : 0.0f;
    const float pres = p.presence_penalty == p.presence_penalty ? p.presence_penalty : 0.0f;
    return l - (float)count * freq - pres;
}

// The controls before the temperature, on logits held at v[slot(t)] for the
// tokens present (slot returns -1 for a token not there, which is not read):
// logit biases, penalties over the history, min-p. Same arithmetic in the
// same order whether v is the whole vocabulary or the allowed tokens only,
// so a masked sample stays the unmasked one with -infinity elsewhere.
template <typename Slot>
void adjust(const agm_sampler& s, float* v, uint32_t m, Slot slot) {
    const agm_sampler_params& p = s.params;
    const uint32_t nb = p.n_logit_bias < AGM_SAMPLER_MAX_BIAS ? p.n_logit_bias : AGM_SAMPLER_MAX_BIAS;
    for (uint32_t i = 0; i < nb; ++i) {
        const float b = p.logit_bias[i].bias;
        const int64_t at = slot(p.logit_bias[i].token);
        if (at >= 0 && b == b) v[at] += b;
    }
    uint32_t last_n = p.repeat_last_n < s.history_len ? p.repeat_last_n : s.history_len;
    if (last_n > AGM_SAMPLER_MAX_LAST_N) last_n = AGM_SAMPLER_MAX_LAST_N;
    if (last_n > 0) {
        // The window, sorted, counted run by run.
        int32_t w[AGM_SAMPLER_MAX_LAST_N];
        for (uint32_t i = 0; i < last_n; ++i)
            w[i] = s.history[(s.history_pos + AGM_SAMPLER_MAX_LAST_N - 1 - i) % AGM_SAMPLER_MAX_LAST_N];
        std::sort(w, w + last_n);
        for (uint32_t i = 0; i < last_n;) {
            uint32_t j = i;
            while (j < last_n && w[j] == w[i]) ++j;
            const int64_t at = slot(w[i]);
            if (at >= 0) v[at] = penalize(v[at], j - i, p);
            i = j;
        }
    }
    if (p.min_p > 0.0f && p.min_p <= 1.0f && m > 0) {
        float max = v[0];
        for (uint32_t i = 1; i < m; ++i)
            if (v[i] > max || max != max) max = v[i];
        if (max == max && max != -INFINITY) {
            for (uint32_t i = 0; i < m; ++i)
                if (!(expf_exact(v[i] - max) >= p.min_p)) v[i] = -INFINITY;
        }
    }
}

}  // namespace

size_t sampler_scratch_bytes(uint32_t n) { return (size_t)n * (sizeof(float) + sizeof(Candidate)); }

namespace {

// The draw among m candidates: the k most likely (all when k >= m) in
// order, cut where their sum passes top_p (use_p), then the first whose
// running sum passes coin times the kept sum.
int32_t draw(Candidate* cand, uint32_t m, uint32_t k, bool use_p, float top_p, float coin) {
    if (k < m) {
        std::partial_sort(cand, cand + k, cand + m, before);
        m = k;
    } else {
        std::sort(cand, cand + m, before);
    }
    float total = 0.0f;
    uint32_t last = m - 1;
    for (uint32_t i = 0; i < m; ++i) {
        total += cand[i].prob;
        if (use_p && total > top_p) {
            last = i;
            break;
        }
    }
    const float r = coin * total;
    float cdf = 0.0f;
    for (uint32_t i = 0; i <= last; ++i) {
        cdf += cand[i].prob;
        if (r < cdf) return cand[i].index;
    }
    return cand[last].index;
}

int32_t sample_one(agm_sampler* smp, const float* logits, uint32_t n, void* scratch) {
    const agm_sampler_params& p = smp->params;
    float* probs = static_cast<float*>(scratch);                             // [n]
    if (adjusts(*smp)) {  // the controls work on a copy: logits stay as they are
        for (uint32_t i = 0; i < n; ++i) probs[i] = logits[i];
        adjust(*smp, probs, n, [n](int32_t t) { return t >= 0 && (uint32_t)t < n ? (int64_t)t : (int64_t)-1; });
        logits = probs;  // below, probs[i] is only ever computed from logits[i]
    }
    if (!(p.temperature > 0.0f)) return argmax(logits, n);

    Candidate* cand = reinterpret_cast<Candidate*>(probs + n);               // [n]
    for (uint32_t i = 0; i < n; ++i) probs[i] = logits[i] / p.temperature;
    softmax(probs, n);
    const float coin = next_f32(&smp->rng_state);

    const bool use_k = p.top_k > 0 && p.top_k < n;
    const bool use_p = p.top_p > 0.0f && p.top_p < 1.0f;
    if (!use_k && !use_p) {
        float cdf = 0.0f;
        for (uint32_t i = 0; i < n; ++i) {
            cdf += probs[i];
            if (coin < cdf) return (int32_t)i;
        }
        return (int32_t)(n - 1);  // rounding left the sum just under 1
    }

    uint32_t m = 0;
    // A NaN (logits of a damaged model) would break the sort's ordering
    // contract: it counts as probability 0.
    for (uint32_t i = 0; i < n; ++i)
        cand[m++] = Candidate{probs[i] == probs[i] ? probs[i] : 0.0f, (int32_t)i};
    return draw(cand, m, use_k ? p.top_k : m, use_p, p.top_p, coin);
}

int32_t sample_masked_one(agm_sampler* smp, const float* logits, uint32_t n, const uint32_t* mask, void* scratch) {
    // The allowed tokens, in index order: their logits compacted into
    // probs[0..m), their ids after (the Candidate array's memory). The
    // steps are sample()'s on that shorter array; a disallowed token would
    // have added probability 0 at its place in every sum, so the result is
    // sample()'s with the disallowed logits at -infinity, bit for bit, and
    // no disallowed logit is ever read.
    float* vals = static_cast<float*>(scratch);                       // [m]
    Candidate* cand = reinterpret_cast<Candidate*>(vals + n);         // [m]
    int32_t* ids = reinterpret_cast<int32_t*>(cand);                  // [m], until cand is filled
    uint32_t m = 0;
    for (uint32_t w = 0; w < (n + 31) / 32; ++w)
        for (uint32_t bits = mask[w]; bits != 0; bits &= bits - 1) {
            const uint32_t t = w * 32 + (uint32_t)__builtin_ctz(bits);
            if (t >= n) break;
            ids[m++] = (int32_t)t;
        }
    if (m == 0) return -1;
    const agm_sampler_params& p = smp->params;
    for (uint32_t i = 0; i < m; ++i) vals[i] = logits[ids[i]];
    if (adjusts(*smp)) {
        adjust(*smp, vals, m, [ids, m](int32_t t) {  // ids ascend: a binary search
            const int32_t* at = std::lower_bound(ids, ids + m, t);
            return at != ids + m && *at == t ? (int64_t)(at - ids) : (int64_t)-1;
        });
        // Biases of -infinity on every allowed token: nothing is left to
        // draw from (the unmasked sampler would return a disallowed one).
        bool any = false;
        for (uint32_t i = 0; i < m && !any; ++i) any = !(vals[i] == -INFINITY);
        if (!any) return -2;
    }
    if (!(p.temperature > 0.0f)) {
        uint32_t best = 0;
        for (uint32_t i = 1; i < m; ++i)
            if (vals[i] > vals[best]) best = i;
        return ids[best];
    }
    for (uint32_t i = 0; i < m; ++i) vals[i] = vals[i] / p.temperature;
    softmax(vals, m);
    const float coin = next_f32(&smp->rng_state);
    // The same choice of path as sample() over the whole vocabulary.
    const bool use_k = p.top_k > 0 && p.top_k < n;
    const bool use_p = p.top_p > 0.0f && p.top_p < 1.0f;
    if (!use_k && !use_p) {
        float cdf = 0.0f;
        for (uint32_t i = 0; i < m; ++i) {
            cdf += vals[i];
            if (coin < cdf) return ids[i];
        }
        return ids[m - 1];
    }
    // ids and cand share memory: build the candidates from the back, where
    // cand[i] (8 bytes) covers ids[2i], ids[2i+1] and no id not yet read.
    for (uint32_t i = m; i-- > 0;) {
        const int32_t id = ids[i];
        cand[i] = Candidate{vals[i] == vals[i] ? vals[i] : 0.0f, id};
    }
    return draw(cand, m, use_k ? p.top_k : m, use_p, p.top_p, coin);
}

}  // namespace

int32_t sample(agm_sampler* smp, const float* logits, uint32_t n, void* scratch) {
    const int32_t t = sample_one(smp, logits, n, scratch);
    agm_sampler_accept(smp, t);
    return t;
}

int32_t sample_masked(agm_sampler* smp, const float* logits, uint32_t n, const uint32_t* mask, void* scratch) {
    const int32_t t = sample_masked_one(smp, logits, n, mask, scratch);
    if (t >= 0) agm_sampler_accept(smp, t);
    return t;
}

}  // namespace agm

extern "C" {

void agm_sampler_params_default(agm_sampler_params* p) {
    std::memset(p, 0, sizeof *p);
    p->temperature = 0.0f;
    p->top_k = 0;
    p->top_p = 1.0f;
    p->seed = 42;
    p->min_p = 0.0f;
    p->repeat_penalty = 1.0f;
    p->presence_penalty = 0.0f;
    p->frequency_penalty = 0.0f;
    p->repeat_last_n = 64;
    p->n_logit_bias = 0;
}

agm_status agm_sampler_params_check(const agm_sampler_params* p, agm_error* error) {
    if (p == nullptr) return agm::report_arg(error, "agm_sampler_params_check: NULL argument");
    const auto finite = [](float x) { return x == x && x - x == 0.0f; };
    if (!finite(p->temperature) || p->temperature < 0.0f)
        return agm::report_arg(error, "sampler: temperature must be finite and >= 0");
    if (!finite(p->top_p)) return agm::report_arg(error, "sampler: top_p must be finite");
    if (!finite(p->min_p) || p->min_p < 0.0f || p->min_p > 1.0f)
        return agm::report_arg(error, "sampler: min_p must be in 0..1");
    if (!finite(p->repeat_penalty) || !(p->repeat_penalty > 0.0f))
        return agm::report_arg(error, "sampler: repeat_penalty must be finite and > 0 (1: off)");
    if (!finite(p->presence_penalty) || !finite(p->frequency_penalty))
        return agm::report_arg(error, "sampler: presence and frequency penalties must be finite");
    if (p->repeat_last_n > AGM_SAMPLER_MAX_LAST_N)
        return agm::report_arg(error, "sampler: repeat_last_n is at most 256 (AGM_SAMPLER_MAX_LAST_N)");
    if (p->n_logit_bias > AGM_SAMPLER_MAX_BIAS)
        return agm::report_arg(error, "sampler: at most 16 logit biases (AGM_SAMPLER_MAX_BIAS)");
    for (uint32_t i = 0; i < p->n_logit_bias; ++i) {
        const float b = p->logit_bias[i].bias;
        if (b != b || b == INFINITY) return agm::report_arg(error, "sampler: a logit bias is NaN or +infinity");
    }
    return AGM_OK;
}

void agm_sampler_accept(agm_sampler* s, int32_t token) {
    if (s == nullptr) return;
    s->history[s->history_pos] = token;
    s->history_pos = (s->history_pos + 1) % AGM_SAMPLER_MAX_LAST_N;
    if (s->history_len < AGM_SAMPLER_MAX_LAST_N) ++s->history_len;
}

void agm_sampler_init(agm_sampler* s, const agm_sampler_params* params) {
    if (params != nullptr) {
        s->params = *params;
    } else {
        agm_sampler_params_default(&s->params);
    }
    // xorshift must not start at 0; mix the seed so nearby seeds diverge at once.
    uint64_t z = s->params.seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    s->rng_state = z != 0 ? z : 0x2545F4914F6CDD1Dull;
    s->history_len = 0;
    s->history_pos = 0;
}

}  // extern "C"
