// build_native_file(): an ImportModel (agm/import.h) packed into our file.
#include <cmath>
#include <cstdio>
#include <cstring>

#include "agm/import.h"
#include "agm/model_file.h"
#include "agm/model_writer.h"
#include "agm/quant.h"
#include "agm/ternary.h"

namespace agm {
namespace {

bool check_shape(const char* name, uint32_t rows, uint32_t cols, uint32_t want_rows, uint32_t want_cols,
                 size_t n, Error* err) {
    if (rows != want_rows || cols != want_cols)
        return fail(err, "tensor %s: shape [%u, %u], the architecture needs [%u, %u]", name, rows, cols,
                    want_rows, want_cols);
    if (n != (size_t)rows * cols)
        return fail(err, "tensor %s: %zu values for a [%u, %u] shape", name, n, rows, cols);
    return true;
}

bool check_finite(const char* name, const std::vector<float>& v, uint32_t cols, Error* err) {
    for (size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i]))
            return fail(err, "tensor %s: value at [%zu, %zu] is %s", name, i / cols, i % cols,
                        std::isnan(v[i]) ? "NaN" : "infinite");
    return true;
}

const char* type_name(uint32_t type) {
    const TensorTypeInfo* t = tensor_type_info(type);
    return t ? t->name : "?";
}

struct Builder {
    const ImportModel& m;
    const BuildOptions& o;
    ModelWriter w;
    SizeReport r;
    Error* err;

    bool vector(const char* name, const ImportFloat& t, uint32_t n) {
        if (!check_shape(name, t.rows, t.cols, 1, n, t.v.size(), err) ||
            !check_finite(name, t.v, n, err))
            return false;
        std::vector<uint8_t> bytes((size_t)n * 4);
        std::memcpy(bytes.data(), t.v.data(), bytes.size());
        r.input_other += t.source_bytes;
        r.output_other += bytes.size();
        r.n_other++;
        return w.add_tensor(name, AGM_TYPE_F32, {n}, 1.0f, std::move(bytes), err);
    }

    bool rows(const char* name, const ImportFloat& t) {
        if (!check_shape(name, t.rows, t.cols, m.vocab_size, m.dim, t.v.size(), err) ||
            !check_finite(name, t.v, t.cols, err))
            return false;
        std::vector<uint8_t> bytes;
        switch (o.embedding_type) {
            case AGM_TYPE_F32:
                bytes.resize(t.v.size() * 4);
                std::memcpy(bytes.data(), t.v.data(), bytes.size());
                break;
            case AGM_TYPE_Q4_B32:
                if (!quantize_q4_b32(t.v.data(), t.rows, t.cols, &bytes, err)) return fail_context(err, name);
                break;
            case AGM_TYPE_TL5_R4S:
                if (!quantize_tl5_r4s(t.v.data(), t.rows, t.cols, &bytes, err)) return fail_context(err, name);
                break;
            default:
                return fail_as(err, ErrorKind::Argument, "embedding type %s is not f32, q4_b32 or tl5_r4s",
                               type_name(o.embedding_type));
        }
        r.input_other += t.source_bytes;
        r.output_other += bytes.size();
        r.n_other++;
        return w.add_tensor(name, o.embedding_type, {t.rows, t.cols}, 1.0f, std::move(bytes), err);
    }

    bool ternary(const char* name, const ImportTernary& t, uint32_t want_rows, uint32_t want_cols) {
        if (!check_shape(name, t.rows, t.cols, want_rows, want_cols, t.w.size(), err)) return false;
        if (!std::isfinite(t.scale) || t.scale < 0.0f)
            return fail(err, "tensor %s: scale %g is not a finite non-negative number", name, (double)t.scale);
        std::vector<uint8_t> packed;
        if (!pack_ternary(o.ternary_type, t.w.data(), t.rows, t.cols, &packed, err))
            return fail_context(err, name);
        r.input_ternary += t.source_bytes;
        r.output_ternary += packed.size();
        r.n_ternary++;
        return w.add_tensor(name, o.ternary_type, {t.rows, t.cols}, t.scale, std::move(packed), err);
    }

    bool layer(uint32_t l, const ImportLayer& L) {
        const uint32_t dim = m.dim, q_dim = m.n_heads * m.head_dim, kv_dim = m.n_kv_heads * m.head_dim;
        const uint32_t hid = m.hidden_dim;
        char name[AGM_TENSOR_NAME_BYTES];
        auto nm = [&](const char* suffix) {
            std::snprintf(name, sizeof name, "blk.%u.%s", l, suffix);
            return name;
        };
        if (m.norm_input == AGM_NORM_RMS &&
            (!vector(nm("attn_norm"), L.attn_norm, dim) || !vector(nm("ffn_norm"), L.ffn_norm, dim)))
            return false;
        if (m.norm_sub == AGM_NORM_RMS &&
            (!vector(nm("attn_sub_norm"), L.attn_sub_norm, q_dim) ||
             !vector(nm("ffn_sub_norm"), L.ffn_sub_norm, hid)))
            return false;
        return ternary(nm("attn_q"), L.wq, q_dim, dim) && ternary(nm("attn_k"), L.wk, kv_dim, dim) &&
               ternary(nm("attn_v"), L.wv, kv_dim, dim) && ternary(nm("attn_output"), L.wo, dim, q_dim) &&
               ternary(nm("ffn_gate"), L.w1, hid, dim) && ternary(nm("ffn_down"), L.w2, dim, hid) &&
               ternary(nm("ffn_up"), L.w3, hid, dim);
    }
};

}  // namespace

bool build_native_file(const ImportModel& m, const BuildOptions& o, std::vector<uint8_t>* out,
                       SizeReport* report, Error* err) {
    if (!is_ternary_type(o.ternary_type))
        return fail_as(err, ErrorKind::Argument, "packing %s is not a ternary type", type_name(o.ternary_type));
    if (m.n_layers == 0 || m.layers.size() != m.n_layers)
        return fail(err, "model has %zu layers, its configuration says %u", m.layers.size(), m.n_layers);
    if (m.n_heads == 0 || m.n_kv_heads == 0 || m.head_dim == 0)
        return fail(err, "model has %u heads, %u KV heads of width %u", m.n_heads, m.n_kv_heads, m.head_dim);
    if (m.has_vocab && m.vocab.pieces.size() != m.vocab_size)
        return fail(err, "tokenizer has %zu tokens, the model's vocabulary is %u", m.vocab.pieces.size(),
                    m.vocab_size);

    Builder b{m, o, ModelWriter(), SizeReport(), err};
    ModelWriter& w = b.w;
    ModelConfig c;
    c.arch = AGM_ARCH_BITNET_LLAMA;
    c.dim = m.dim;
    c.hidden_dim = m.hidden_dim;
    c.n_layers = m.n_layers;
    c.n_heads = m.n_heads;
    c.n_kv_heads = m.n_kv_heads;
    c.vocab_size = m.vocab_size;
    c.max_seq_len = m.max_seq_len;
    c.head_dim = m.head_dim;
    c.norm_input = m.norm_input;
    c.norm_sub = m.norm_sub;
    c.norm_output = m.norm_output;
    c.norm_eps = m.norm_eps;
    c.ffn_act = m.ffn_act;
    c.rope_theta = m.rope_theta;
    c.rope_layout = m.rope_layout;
    c.tied_classifier = m.tied_classifier ? 1u : 0u;
    c.act_quant = AGM_ACT_ABSMAX_I8;
    w.set_config(c);

    if (!b.rows("token_embd", m.token_embd)) return false;
    if (m.norm_output == AGM_NORM_RMS && !b.vector("output_norm", m.output_norm, m.dim)) return false;
    if (!m.tied_classifier && !b.rows("output", m.output)) return false;
    for (uint32_t l = 0; l < m.n_layers; ++l)
        if (!b.layer(l, m.layers[l])) return false;

    if (m.has_vocab) {
        std::vector<uint8_t> section;
        if (!serialize_tokenizer(m.vocab, &section, err)) return false;
        w.set_tokenizer(std::move(section));
    }
    for (const auto& kv : m.metadata) w.add_metadata(kv.first, kv.second);
    w.set_chat_template(m.chat_template);
    if (!w.finish(out, err)) return false;

    // The result must be a file the engine accepts (the reader checks every
    // key's range and every tensor's size): a converter bug or an input the
    // checks above let through stops here, not on the device.
    // (The reader wants AGM_FILE_ALIGN-aligned bytes: check an aligned copy.)
    std::vector<uint8_t> copy(out->size() + AGM_FILE_ALIGN);
    uint8_t* at = copy.data() + (AGM_FILE_ALIGN - (uintptr_t)copy.data() % AGM_FILE_ALIGN) % AGM_FILE_ALIGN;
    std::memcpy(at, out->data(), out->size());
    FileView view;
    if (!parse_model_file(at, out->size(), false, &view, err))
        return fail_context(err, "the converted file does not validate");
    b.r.output_file = out->size();
    b.r.output_overhead = out->size() - b.r.output_ternary - b.r.output_other;
    if (report != nullptr) *report = b.r;
    return true;
}

bool check_import_ranges(const ImportModel& m, const ImportKeyNames& k, Error* err) {
    struct Range {
        const char* key;
        uint32_t value, lo, hi;
    } const ranges[] = {
        {k.n_layers, m.n_layers, 1, kMaxLayers},
        {k.dim, m.dim, 1, kMaxWidth},
        {k.hidden_dim, m.hidden_dim, 1, kMaxWidth},
        {k.n_heads, m.n_heads, 1, m.dim},
        {k.max_seq_len, m.max_seq_len, 1, kMaxSeqLen},
        {k.vocab_size, m.vocab_size, 1, kMaxWidth},
    };
    for (const Range& r : ranges)
        if (r.key != nullptr && (r.value < r.lo || r.value > r.hi))
            return fail(err, "%s%s = %u (%u..%u)", k.prefix, r.key, r.value, r.lo, r.hi);
    return true;
}

bool quantize_bitnet_absmean(const float* x, uint32_t rows, uint32_t cols, ImportTernary* out,
                             Error* err) {
    const size_t n = (size_t)rows * cols;
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(x[i]))
            return fail(err, "value at [%zu, %zu] is %s", i / cols, i % cols,
                        std::isnan(x[i]) ? "NaN" : "infinite");
        sum += std::fabs((double)x[i]);
    }
    // The training code: s = 1 / clamp(mean|W|, 1e-5); W_q = clamp(round(W * s), -1, 1) / s,
    // in f32 with round half to even (torch.round). The value of a +-1 weight is then
    // 1 / s, which is what we store as the scale.
    float mean = n ? (float)(sum / (double)n) : 0.0f;
    if (!(mean >= 1e-5f)) mean = 1e-5f;
    const float s = 1.0f / mean;
    out->rows = rows;
    out->cols = cols;
    out->w.resize(n);
    for (size_t i = 0; i < n; ++i) {
        const float q = std::nearbyint(x[i] * s);
        out->w[i] = (int8_t)(q > 1.0f ? 1 : q < -1.0f ? -1 : (int)q);
    }
    out->scale = 1.0f / s;
    return true;
}

bool ternary_from_exact_floats(const float* x, uint32_t rows, uint32_t cols, ImportTernary* out) {
    const size_t n = (size_t)rows * cols;
    float mag = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        const float a = std::fabs(x[i]);
        if (a == 0.0f) continue;
        if (!std::isfinite(a)) return false;
        if (mag == 0.0f) mag = a;
        if (a != mag) return false;
    }
    out->rows = rows;
    out->cols = cols;
    out->w.resize(n);
    for (size_t i = 0; i < n; ++i) out->w[i] = (int8_t)(x[i] > 0.0f ? 1 : x[i] < 0.0f ? -1 : 0);
    out->scale = mag;
    return true;
}

}  // namespace agm
