#include "sampler.h"

#include <algorithm>

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

}  // namespace

size_t sampler_scratch_bytes(uint32_t n) { return (size_t)n * (sizeof(float) + sizeof(Candidate)); }

int32_t sample(agm_sampler* smp, const float* logits, uint32_t n, void* scratch) {
    const agm_sampler_params& p = smp->params;
    if (!(p.temperature > 0.0f)) return argmax(logits, n);

    float* probs = static_cast<float*>(scratch);                             // [n]
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
    if (use_k) {
        std::partial_sort(cand, cand + p.top_k, cand + m, before);
        m = p.top_k;
    } else {
        std::sort(cand, cand + m, before);
    }
    float total = 0.0f;
    uint32_t last = m - 1;
    for (uint32_t i = 0; i < m; ++i) {
        total += cand[i].prob;
        if (use_p && total > p.top_p) {
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

int32_t sample_masked(agm_sampler* smp, const float* logits, uint32_t n, const uint32_t* mask, void* scratch) {
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
    if (!(p.temperature > 0.0f)) {
        uint32_t best = 0;
        for (uint32_t i = 1; i < m; ++i)
            if (logits[ids[i]] > logits[ids[best]]) best = i;
        return ids[best];
    }
    for (uint32_t i = 0; i < m; ++i) vals[i] = logits[ids[i]] / p.temperature;
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
    uint32_t k = m;
    if (use_k && p.top_k < m) {
        std::partial_sort(cand, cand + p.top_k, cand + m, before);
        k = p.top_k;
    } else {
        std::sort(cand, cand + m, before);
    }
    float total = 0.0f;
    uint32_t last = k - 1;
    for (uint32_t i = 0; i < k; ++i) {
        total += cand[i].prob;
        if (use_p && total > p.top_p) {
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

}  // namespace agm

extern "C" {

void agm_sampler_params_default(agm_sampler_params* p) {
    p->temperature = 0.0f;
    p->top_k = 0;
    p->top_p = 1.0f;
    p->seed = 42;
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
}

}  // extern "C"
