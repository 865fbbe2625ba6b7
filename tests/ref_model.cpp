// The reference forward pass (ref_model.h): plain loops over plain arrays.
#include "ref_model.h"

#include <cmath>
#include <cstring>

namespace agm_test {
namespace {

// splitmix64: the same numbers on every target.
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [lo, hi) from 24 random bits.
    float uniform(float lo, float hi) { return lo + (hi - lo) * (float)(next() >> 40) * (1.0f / 16777216.0f); }
};

float identity(float x) { return x; }

RefTernary random_ternary(Rng& rng, uint32_t rows, uint32_t cols, RoundFn round_scale) {
    RefTernary t;
    t.rows = rows;
    t.cols = cols;
    t.w.resize((size_t)rows * cols);
    for (int8_t& w : t.w) {
        const uint64_t r = rng.next() % 3;
        w = (int8_t)((int)r - 1);
    }
    // About 1/sqrt(cols) keeps a matrix-vector product's outputs near the
    // inputs' scale.
    t.scale = round_scale(rng.uniform(0.6f, 1.4f) / std::sqrt((float)cols));
    return t;
}

std::vector<float> random_floats(Rng& rng, size_t n, float lo, float hi, RoundFn round_float) {
    std::vector<float> v(n);
    for (float& x : v) x = round_float(rng.uniform(lo, hi));
    return v;
}

void norm_rms(float* out, const float* x, const float* w, uint32_t n, float eps) {
    float z = 0.0f;
    for (uint32_t i = 0; i < n; ++i) z += x[i] * x[i];
    z /= (float)n;
    z += eps;
    z = 1.0f / std::sqrt(z);
    for (uint32_t i = 0; i < n; ++i) out[i] = w[i] * (z * x[i]);
}

// BitNet b1.58 activation quantisation: q = round(x * 127 / max|x|), half
// away from zero, in -127..127; returns the step max / 127 (0 for a zero vector).
float quantize(const float* x, uint32_t n, std::vector<int32_t>* q) {
    q->assign(n, 0);
    float max = 0.0f;
    for (uint32_t i = 0; i < n; ++i)
        if (std::fabs(x[i]) > max) max = std::fabs(x[i]);
    const float s = (float)((double)max / 127.0);
    if (!(s > 0.0f)) return 0.0f;
    const float r = (float)(1.0 / (double)s);
    for (uint32_t i = 0; i < n; ++i) {
        double v = std::round((double)(x[i] * r));
        if (v > 127.0) v = 127.0;
        if (v < -127.0) v = -127.0;
        (*q)[i] = (int32_t)v;
    }
    return s;
}

// y = W q, then each integer sum times (scale * step).
void ternary_matvec(const RefTernary& t, const std::vector<int32_t>& q, float step, float* y) {
    const float k = t.scale * step;
    for (uint32_t r = 0; r < t.rows; ++r) {
        int32_t acc = 0;
        for (uint32_t c = 0; c < t.cols; ++c) acc += t.w[(size_t)r * t.cols + c] * q[c];
        y[r] = (float)acc * k;
    }
}

void rope(float* v, uint32_t n_heads, uint32_t hd, uint32_t pos, float theta, bool interleaved) {
    for (uint32_t h = 0; h < n_heads; ++h) {
        float* x = v + (size_t)h * hd;
        for (uint32_t i = 0; i < hd; i += 2) {
            const float freq = 1.0f / std::pow(theta, (float)i / (float)hd);
            const float val = (float)pos * freq;
            const float c = std::cos(val), s = std::sin(val);
            const uint32_t a = interleaved ? i : i / 2;
            const uint32_t b = interleaved ? i + 1 : i / 2 + hd / 2;
            const float v0 = x[a], v1 = x[b];
            x[a] = v0 * c - v1 * s;
            x[b] = v0 * s + v1 * c;
        }
    }
}

void softmax(float* x, uint32_t n) {
    float max = x[0];
    for (uint32_t i = 1; i < n; ++i)
        if (x[i] > max) max = x[i];
    float sum = 0.0f;
    for (uint32_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    for (uint32_t i = 0; i < n; ++i) x[i] /= sum;
}

}  // namespace

RefModel make_ref_model(const RefConfig& c, uint64_t seed, RoundFn round_float, RoundFn round_scale) {
    if (round_float == nullptr) round_float = identity;
    if (round_scale == nullptr) round_scale = identity;
    Rng rng{seed * 0x2545F4914F6CDD1Dull + 7};
    RefModel m;
    m.c = c;
    const uint32_t q_dim = m.q_dim(), kv_dim = m.kv_dim();
    m.embd = random_floats(rng, (size_t)c.vocab_size * c.dim, -c.embd_range, c.embd_range, round_float);
    m.output_norm = random_floats(rng, c.dim, 0.5f, 1.5f, round_float);
    if (!c.tied) m.output = random_floats(rng, (size_t)c.vocab_size * c.dim, -0.2f, 0.2f, round_float);
    m.layers.resize(c.n_layers);
    for (RefLayer& L : m.layers) {
        L.attn_norm = random_floats(rng, c.dim, 0.5f, 1.5f, round_float);
        L.ffn_norm = random_floats(rng, c.dim, 0.5f, 1.5f, round_float);
        if (c.sub_norms) {
            L.attn_sub_norm = random_floats(rng, q_dim, 0.5f, 1.5f, round_float);
            L.ffn_sub_norm = random_floats(rng, c.hidden_dim, 0.5f, 1.5f, round_float);
        }
        L.wq = random_ternary(rng, q_dim, c.dim, round_scale);
        L.wk = random_ternary(rng, kv_dim, c.dim, round_scale);
        L.wv = random_ternary(rng, kv_dim, c.dim, round_scale);
        L.wo = random_ternary(rng, c.dim, q_dim, round_scale);
        L.w1 = random_ternary(rng, c.hidden_dim, c.dim, round_scale);
        L.w2 = random_ternary(rng, c.dim, c.hidden_dim, round_scale);
        L.w3 = random_ternary(rng, c.hidden_dim, c.dim, round_scale);
    }
    return m;
}

RefTernary ref_absmean(const std::vector<float>& x, uint32_t rows, uint32_t cols) {
    double sum = 0.0;
    for (float v : x) sum += std::fabs((double)v);
    float mean = (float)(sum / (double)x.size());
    if (mean < 1e-5f) mean = 1e-5f;
    const float inv = 1.0f / mean;
    RefTernary t;
    t.rows = rows;
    t.cols = cols;
    t.w.resize(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const float q = std::nearbyint(x[i] * inv);
        t.w[i] = (int8_t)(q > 1.0f ? 1 : q < -1.0f ? -1 : (int)q);
    }
    t.scale = 1.0f / inv;
    return t;
}

RefSession::RefSession(const RefModel& m) : m_(m) {
    const size_t per = (size_t)m.c.n_layers * m.c.max_seq_len * m.kv_dim();
    kcache_.assign(per, 0.0f);
    vcache_.assign(per, 0.0f);
    logits_.assign(m.c.vocab_size, 0.0f);
}

const std::vector<float>& RefSession::step(int32_t token) {
    const RefConfig& c = m_.c;
    const uint32_t dim = c.dim, hid = c.hidden_dim, hd = c.head_dim;
    const uint32_t q_dim = m_.q_dim(), kv_dim = m_.kv_dim(), pos = pos_++;
    const bool interleaved = c.rope_layout == AGM_ROPE_INTERLEAVED;
    std::vector<float> x(m_.embd.begin() + (size_t)token * dim, m_.embd.begin() + (size_t)(token + 1) * dim);
    std::vector<float> xb(dim), q(q_dim), att(pos + 1), ao(q_dim), o(dim), g(hid), u(hid), h(hid);
    std::vector<int32_t> qa;
    for (uint32_t l = 0; l < c.n_layers; ++l) {
        const RefLayer& L = m_.layers[l];
        float* k = &kcache_[((size_t)l * c.max_seq_len + pos) * kv_dim];
        float* v = &vcache_[((size_t)l * c.max_seq_len + pos) * kv_dim];
        norm_rms(xb.data(), x.data(), L.attn_norm.data(), dim, c.norm_eps);
        float step = quantize(xb.data(), dim, &qa);
        ternary_matvec(L.wq, qa, step, q.data());
        ternary_matvec(L.wk, qa, step, k);
        ternary_matvec(L.wv, qa, step, v);
        rope(q.data(), c.n_heads, hd, pos, c.rope_theta, interleaved);
        rope(k, c.n_kv_heads, hd, pos, c.rope_theta, interleaved);
        const float root = std::sqrt((float)hd);
        const uint32_t group = c.n_heads / c.n_kv_heads;
        for (uint32_t hh = 0; hh < c.n_heads; ++hh) {
            const float* qh = &q[(size_t)hh * hd];
            const size_t kv_off = (size_t)(hh / group) * hd;
            for (uint32_t t = 0; t <= pos; ++t) {
                const float* kt = &kcache_[((size_t)l * c.max_seq_len + t) * kv_dim + kv_off];
                float score = 0.0f;
                for (uint32_t i = 0; i < hd; ++i) score += qh[i] * kt[i];
                att[t] = score / root;
            }
            softmax(att.data(), pos + 1);
            float* out = &ao[(size_t)hh * hd];
            for (uint32_t i = 0; i < hd; ++i) out[i] = 0.0f;
            for (uint32_t t = 0; t <= pos; ++t) {
                const float* vt = &vcache_[((size_t)l * c.max_seq_len + t) * kv_dim + kv_off];
                for (uint32_t i = 0; i < hd; ++i) out[i] += att[t] * vt[i];
            }
        }
        if (c.sub_norms) norm_rms(ao.data(), ao.data(), L.attn_sub_norm.data(), q_dim, c.norm_eps);
        step = quantize(ao.data(), q_dim, &qa);
        ternary_matvec(L.wo, qa, step, o.data());
        for (uint32_t i = 0; i < dim; ++i) x[i] += o[i];

        norm_rms(xb.data(), x.data(), L.ffn_norm.data(), dim, c.norm_eps);
        step = quantize(xb.data(), dim, &qa);
        ternary_matvec(L.w1, qa, step, g.data());
        ternary_matvec(L.w3, qa, step, u.data());
        for (uint32_t i = 0; i < hid; ++i) {
            float val = g[i];
            if (c.ffn_act == AGM_FFN_SILU_GATED) {
                val *= (1.0f / (1.0f + std::exp(-val)));
            } else {
                val = val > 0.0f ? val * val : 0.0f;
            }
            h[i] = val * u[i];
        }
        if (c.sub_norms) norm_rms(h.data(), h.data(), L.ffn_sub_norm.data(), hid, c.norm_eps);
        step = quantize(h.data(), hid, &qa);
        ternary_matvec(L.w2, qa, step, o.data());
        for (uint32_t i = 0; i < dim; ++i) x[i] += o[i];
    }
    norm_rms(x.data(), x.data(), m_.output_norm.data(), dim, c.norm_eps);
    const std::vector<float>& cls = c.tied ? m_.embd : m_.output;
    for (uint32_t r = 0; r < c.vocab_size; ++r) {
        float sum = 0.0f;
        for (uint32_t i = 0; i < dim; ++i) sum += cls[(size_t)r * dim + i] * x[i];
        logits_[r] = sum;
    }
    return logits_;
}

std::vector<int32_t> ref_greedy(const RefModel& m, const std::vector<int32_t>& prompt, uint32_t steps,
                                std::vector<float>* logits_out) {
    RefSession s(m);
    std::vector<int32_t> out;
    const std::vector<float>* logits = nullptr;
    for (int32_t t : prompt) logits = &s.step(t);
    for (uint32_t i = 0; i < steps; ++i) {
        uint32_t best = 0;
        for (uint32_t r = 1; r < m.c.vocab_size; ++r)
            if ((*logits)[r] > (*logits)[best]) best = r;
        out.push_back((int32_t)best);
        if (logits_out) logits_out->insert(logits_out->end(), logits->begin(), logits->end());
        if (i + 1 < steps) logits = &s.step((int32_t)best);
    }
    return out;
}

}  // namespace agm_test
