// GGUF -> ImportModel: the architectures, keys and tensors we understand, and
// an exact refusal (key and value, or tensor and type) for everything else.
//
// Architectures (general.architecture):
//   llama          LLaMA-style pre-norm transformer (TriLM, ternary "llama"
//                  GGUFs): RMS norms with weights, SiLU-gated FFN. llama.cpp's
//                  converter permutes Q and K for interleaved-pair RoPE.
//   bitnet         llama.cpp's BitNet b1.58 (1bitLLM): as llama, plus RMS
//                  sub-norms before attn_output and ffn_down; RoPE on halves
//                  (llama.cpp's NEOX type for this architecture).
//   bitnet-b1.58,  bitnet.cpp's BitNet b1.58 2B4T: sub-norms, squared-ReLU
//   bitnet-25      gated FFN.
// Ternary weights: TQ1_0, TQ2_0, I2_S exactly (ggml_decode.h); F32/F16/BF16/
// Q8_0 matrices whose values are ternary times one scale, exactly (llama.cpp's
// "bitnet" converter stores them so); other float matrices of a bitnet
// architecture are latent weights, quantised the BitNet b1.58 way. An
// optional blk.N.<matrix>.scale tensor (one value) multiplies the matrix's
// output, as in llama.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include "agm/convert_gguf.h"
#include "agm/ggml_decode.h"
#include "agm/gguf_vocab.h"
#include "agm/model_file.h"
#include "agm/printable.h"

namespace agm {
namespace {

struct ArchInfo {
    const char* name;
    bool sub_norms;
    uint32_t ffn_act;
    uint32_t rope_layout;
    bool latent_ok;  // float matrices may be latent BitNet weights
};

const ArchInfo kArchs[] = {
    {"llama", false, AGM_FFN_SILU_GATED, AGM_ROPE_INTERLEAVED, false},
    {"bitnet", true, AGM_FFN_SILU_GATED, AGM_ROPE_HALVES, true},
    {"bitnet-b1.58", true, AGM_FFN_RELU2_GATED, AGM_ROPE_HALVES, true},
    {"bitnet-25", true, AGM_FFN_RELU2_GATED, AGM_ROPE_HALVES, true},
};

std::string shown(const std::string& s) { return printable_text(s, 64); }

// A metadata value as text, for refusals ("llama.expert_count = 8").
std::string value_text(const GgufValue& v) {
    char buf[64];
    auto num = [&](uint32_t type, const uint8_t* p) -> std::string {
        switch (type) {
            case GGUF_U8: std::snprintf(buf, sizeof buf, "%u", p[0]); break;
            case GGUF_I8: std::snprintf(buf, sizeof buf, "%d", (int8_t)p[0]); break;
            case GGUF_BOOL: return p[0] ? "true" : "false";
            case GGUF_U16: { uint16_t x; std::memcpy(&x, p, 2); std::snprintf(buf, sizeof buf, "%u", x); break; }
            case GGUF_I16: { int16_t x; std::memcpy(&x, p, 2); std::snprintf(buf, sizeof buf, "%d", x); break; }
            case GGUF_U32: { uint32_t x; std::memcpy(&x, p, 4); std::snprintf(buf, sizeof buf, "%u", x); break; }
            case GGUF_I32: { int32_t x; std::memcpy(&x, p, 4); std::snprintf(buf, sizeof buf, "%d", x); break; }
            case GGUF_F32: { float x; std::memcpy(&x, p, 4); std::snprintf(buf, sizeof buf, "%.9g", (double)x); break; }
            case GGUF_U64: { uint64_t x; std::memcpy(&x, p, 8); std::snprintf(buf, sizeof buf, "%llu", (unsigned long long)x); break; }
            case GGUF_I64: { int64_t x; std::memcpy(&x, p, 8); std::snprintf(buf, sizeof buf, "%lld", (long long)x); break; }
            case GGUF_F64: { double x; std::memcpy(&x, p, 8); std::snprintf(buf, sizeof buf, "%.17g", x); break; }
            default: return "?";
        }
        return buf;
    };
    if (v.type == GGUF_STRING) {
        return "\"" + shown(std::string((const char*)v.data, (size_t)std::min<uint64_t>(v.count, 65))) + "\"";
    }
    if (v.type == GGUF_ARRAY) {
        std::snprintf(buf, sizeof buf, "[%llu values]", (unsigned long long)v.count);
        return buf;
    }
    return num(v.type, v.data);
}

bool refuse_key(const GgufKv& kv, const char* why, Error* err) {
    return fail_as(err, ErrorKind::Unsupported, "gguf: %s = %s: %s", shown(kv.key).c_str(),
                   value_text(kv.value).c_str(), why);
}

// Keys of the architecture's namespace: what each one does to the model.
bool check_arch_keys(const GgufFile& f, const std::string& arch, Error* err) {
    static const char* const kUsed[] = {
        "context_length", "embedding_length", "block_count", "feed_forward_length",
        "attention.head_count", "attention.head_count_kv", "attention.layer_norm_rms_epsilon",
        "rope.freq_base", "rope.dimension_count", "attention.key_length", "attention.value_length",
        "vocab_size", "rope.scaling.type", "rope.scaling.factor",
        // informational
        "tensor_data_layout", "rope.scaling.original_context_length", "rope.scaling.finetuned",
    };
    const std::string prefix = arch + ".";
    for (const GgufKv& kv : f.kv) {
        if (kv.key.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string k = kv.key.substr(prefix.size());
        bool known = false;
        for (const char* u : kUsed) known |= k == u;
        if (!known) return refuse_key(kv, "not implemented by agmodel", err);
    }
    for (const GgufKv& kv : f.kv) {
        if (kv.key == "split.count") {
            uint32_t n = 0;
            if (!f.get_u32("split.count", &n, false, err)) return false;
            if (n > 1) return refuse_key(kv, "split GGUF files: merge them first (llama-gguf-split --merge)", err);
        }
    }
    return true;
}

bool tensor_shape(const GgufTensorInfo& t, uint32_t want_rows, uint32_t want_cols, Error* err) {
    const bool vec = want_rows == 0;
    const uint32_t dims = vec ? 1 : 2;
    if (t.n_dims != dims || t.ne[0] != want_cols || (!vec && t.ne[1] != want_rows)) {
        char got[96];
        std::snprintf(got, sizeof got, t.n_dims == 1 ? "{%llu}" : "{%llu, %llu}", (unsigned long long)t.ne[0],
                      (unsigned long long)t.ne[1]);
        if (vec)
            return fail(err, "gguf: tensor %s: shape %s, the configuration needs {%u}", t.name.c_str(), got,
                        want_cols);
        return fail(err, "gguf: tensor %s: shape %s, the configuration needs {%u, %u}", t.name.c_str(), got,
                    want_cols, want_rows);
    }
    return true;
}

const char* type_text(uint32_t type) {
    const char* n = ggml_type_name(type);
    return n ? n : "unknown";
}

struct Importer {
    const GgufFile& f;
    const ArchInfo& arch;
    Error* err;
    std::set<std::string> used;

    const GgufTensorInfo* get(const std::string& name, bool optional) {
        const GgufTensorInfo* t = f.find_tensor(name.c_str());
        if (t == nullptr && !optional)
            fail(err, "gguf: tensor %s is missing (general.architecture = \"%s\")", name.c_str(), arch.name);
        if (t != nullptr) used.insert(name);
        return t;
    }

    bool floats(const std::string& name, uint32_t rows, uint32_t cols, ImportFloat* out, bool optional = false,
                bool* present = nullptr) {
        const GgufTensorInfo* t = get(name, optional);
        if (present) *present = t != nullptr;
        if (t == nullptr) return optional;
        if (!tensor_shape(*t, rows, cols, err)) return false;
        if (!ggml_is_float(t->type))
            return fail_as(err, ErrorKind::Unsupported,
                           "gguf: tensor %s: type %s is not supported here (F32, F16, BF16, Q8_0, Q4_K, "
                           "Q6_K; llama-quantize can write q8_0 with --token-embedding-type / "
                           "--output-tensor-type)",
                           name.c_str(), type_text(t->type));
        out->rows = rows ? rows : 1;
        out->cols = cols;
        out->source_type = type_text(t->type);
        out->source_bytes = t->bytes;
        if (!decode_ggml_float(t->type, t->data, t->bytes, (uint64_t)out->rows * cols, &out->v, err))
            return fail_context(err, name.c_str());
        return true;  // (NaN and Inf are refused by build_native_file, naming the tensor and position)
    }

    bool ternary(const std::string& base, uint32_t rows, uint32_t cols, ImportTernary* out) {
        const std::string name = base + ".weight";
        const GgufTensorInfo* t = get(name, false);
        if (t == nullptr || !tensor_shape(*t, rows, cols, err)) return false;
        if (ggml_is_ternary(t->type)) {
            if (!decode_ggml_ternary(t->type, t->data, t->bytes, rows, cols, name.c_str(), out, err)) return false;
        } else if (ggml_is_float(t->type)) {
            std::vector<float> v;
            if (!decode_ggml_float(t->type, t->data, t->bytes, (uint64_t)rows * cols, &v, err))
                return fail_context(err, name.c_str());
            if (ternary_from_exact_floats(v.data(), rows, cols, out)) {
                out->source_type = std::string(type_text(t->type)) + " (ternary values)";
            } else if (arch.latent_ok) {
                if (!quantize_bitnet_absmean(v.data(), rows, cols, out, err)) return fail_context(err, name.c_str());
                out->source_type = std::string(type_text(t->type)) + " (latent, absmean-quantised)";
            } else {
                return fail_as(err, ErrorKind::Unsupported,
                               "gguf: tensor %s: %s values that are not ternary in a \"%s\" model: agmodel runs "
                               "ternary models only (TQ1_0, TQ2_0, I2_S, or ternary-valued floats)",
                               name.c_str(), type_text(t->type), arch.name);
            }
            out->source_bytes = t->bytes;
        } else {
            return fail_as(err, ErrorKind::Unsupported,
                           "gguf: tensor %s: type %s is not supported for ternary matrices (TQ1_0, TQ2_0, "
                           "I2_S, F32, F16, BF16, Q8_0)",
                           name.c_str(), type_text(t->type));
        }
        // llama.cpp's optional per-matrix output scale.
        const std::string sname = base + ".scale";
        if (const GgufTensorInfo* s = get(sname, true)) {
            std::vector<float> sv;
            uint64_t n = 1;
            for (uint32_t d = 0; d < s->n_dims; ++d) n *= s->ne[d];
            if (n != 1 || !ggml_is_float(s->type))
                return fail(err, "gguf: tensor %s: must be one F32/F16/BF16 value", sname.c_str());
            if (!decode_ggml_float(s->type, s->data, s->bytes, 1, &sv, err)) return fail_context(err, sname.c_str());
            if (!std::isfinite(sv[0]))
                return fail(err, "gguf: tensor %s: the scale is %s", sname.c_str(), std::isnan(sv[0]) ? "NaN" : "infinite");
            out->scale *= std::fabs(sv[0]);
            if (sv[0] < 0.0f)
                for (int8_t& w : out->w) w = (int8_t)-w;
            out->source_bytes += s->bytes;
        }
        return true;
    }
};

}  // namespace

bool import_gguf(const GgufFile& f, const GgufImportOptions& o, ImportModel* m, Error* err) {
    std::string arch_name;
    if (!f.get_string("general.architecture", &arch_name, false, err)) return false;
    const ArchInfo* arch = nullptr;
    for (const ArchInfo& a : kArchs)
        if (arch_name == a.name) arch = &a;
    if (arch == nullptr)
        return fail_as(err, ErrorKind::Unsupported,
                       "gguf: general.architecture = \"%s\": not supported (llama, bitnet, bitnet-b1.58, bitnet-25)",
                       shown(arch_name).c_str());
    if (!check_arch_keys(f, arch_name, err)) return false;
    const std::string a = arch_name + ".";
    auto key = [&](const char* k) { return a + k; };
    m->n_kv_heads = 0;
    uint32_t ctx = 2048, rope_dims = 0, key_len = 0, value_len = 0;
    if (!f.get_u32(key("embedding_length").c_str(), &m->dim, false, err) ||
        !f.get_u32(key("block_count").c_str(), &m->n_layers, false, err) ||
        !f.get_u32(key("feed_forward_length").c_str(), &m->hidden_dim, false, err) ||
        !f.get_u32(key("attention.head_count").c_str(), &m->n_heads, false, err) ||
        !f.get_u32(key("attention.head_count_kv").c_str(), &m->n_kv_heads, true, err) ||
        !f.get_u32(key("context_length").c_str(), &ctx, true, err) ||
        !f.get_f32(key("attention.layer_norm_rms_epsilon").c_str(), &m->norm_eps, true, err) ||
        !f.get_f32(key("rope.freq_base").c_str(), &m->rope_theta, true, err) ||
        !f.get_u32(key("rope.dimension_count").c_str(), &rope_dims, true, err) ||
        !f.get_u32(key("attention.key_length").c_str(), &key_len, true, err) ||
        !f.get_u32(key("attention.value_length").c_str(), &value_len, true, err))
        return false;
    m->max_seq_len = ctx;
    const std::string prefix = "gguf: " + a;
    const ImportKeyNames names = {prefix.c_str(), "block_count", "embedding_length", "feed_forward_length",
                                  "attention.head_count", "context_length", nullptr};
    if (!check_import_ranges(*m, names, err)) return false;
    if (m->n_kv_heads == 0) m->n_kv_heads = m->n_heads;
    m->head_dim = key_len ? key_len : m->dim / m->n_heads;
    if (value_len && value_len != m->head_dim)
        return fail_as(err, ErrorKind::Unsupported, "gguf: %sattention.value_length = %u differs from the key length %u",
                       a.c_str(), value_len, m->head_dim);
    if (rope_dims && rope_dims != m->head_dim)
        return fail_as(err, ErrorKind::Unsupported,
                       "gguf: %srope.dimension_count = %u: partial rotary embeddings are not implemented (head width %u)",
                       a.c_str(), rope_dims, m->head_dim);
    std::string scaling;
    if (!f.get_string(key("rope.scaling.type").c_str(), &scaling, true, err)) return false;
    if (!scaling.empty() && scaling != "none") {
        float factor = 1.0f;
        if (!f.get_f32(key("rope.scaling.factor").c_str(), &factor, true, err)) return false;
        if (!(scaling == "linear" && factor == 1.0f))
            return refuse_key(*f.find(key("rope.scaling.type").c_str()), "RoPE scaling is not implemented", err);
    }
    if (!(m->rope_theta > 0.0f) || !std::isfinite(m->rope_theta))
        return fail(err, "gguf: %srope.freq_base = %g is not a positive number", a.c_str(), (double)m->rope_theta);
    if (!(m->norm_eps > 0.0f) || !std::isfinite(m->norm_eps))
        return fail(err, "gguf: %sattention.layer_norm_rms_epsilon = %g is not a positive number", a.c_str(),
                    (double)m->norm_eps);
    m->norm_input = AGM_NORM_RMS;
    m->norm_output = AGM_NORM_RMS;
    m->norm_sub = arch->sub_norms ? AGM_NORM_RMS : AGM_NORM_NONE;
    m->ffn_act = arch->ffn_act;
    m->rope_layout = o.rope_layout ? o.rope_layout : arch->rope_layout;

    Importer im{f, *arch, err, {}};
    const GgufTensorInfo* embd = im.get("token_embd.weight", false);
    if (embd == nullptr) return false;
    if (embd->n_dims != 2)
        return fail(err, "gguf: tensor token_embd.weight has %u dimensions, not 2", embd->n_dims);
    if (embd->ne[1] == 0 || embd->ne[1] > (1u << 18))
        return fail(err, "gguf: tensor token_embd.weight: %llu rows", (unsigned long long)embd->ne[1]);
    m->vocab_size = (uint32_t)embd->ne[1];
    uint32_t vocab_key = 0;
    if (!f.get_u32(key("vocab_size").c_str(), &vocab_key, true, err)) return false;
    if (vocab_key && vocab_key != m->vocab_size)
        return fail(err, "gguf: %svocab_size = %u, token_embd.weight has %u rows", a.c_str(), vocab_key, m->vocab_size);
    const uint32_t q_dim = m->n_heads * m->head_dim, kv_dim = m->n_kv_heads * m->head_dim;
    if (!im.floats("token_embd.weight", m->vocab_size, m->dim, &m->token_embd) ||
        !im.floats("output_norm.weight", 0, m->dim, &m->output_norm))
        return false;
    bool has_output = false;
    if (!im.floats("output.weight", m->vocab_size, m->dim, &m->output, true, &has_output)) return false;
    m->tied_classifier = !has_output;

    m->layers.assign(m->n_layers, ImportLayer());
    for (uint32_t l = 0; l < m->n_layers; ++l) {
        ImportLayer& L = m->layers[l];
        const std::string b = "blk." + std::to_string(l) + ".";
        if (!im.floats(b + "attn_norm.weight", 0, m->dim, &L.attn_norm) ||
            !im.floats(b + "ffn_norm.weight", 0, m->dim, &L.ffn_norm))
            return false;
        if (arch->sub_norms && (!im.floats(b + "attn_sub_norm.weight", 0, q_dim, &L.attn_sub_norm) ||
                                !im.floats(b + "ffn_sub_norm.weight", 0, m->hidden_dim, &L.ffn_sub_norm)))
            return false;
        if (!im.ternary(b + "attn_q", q_dim, m->dim, &L.wq) || !im.ternary(b + "attn_k", kv_dim, m->dim, &L.wk) ||
            !im.ternary(b + "attn_v", kv_dim, m->dim, &L.wv) ||
            !im.ternary(b + "attn_output", m->dim, q_dim, &L.wo) ||
            !im.ternary(b + "ffn_gate", m->hidden_dim, m->dim, &L.w1) ||
            !im.ternary(b + "ffn_down", m->dim, m->hidden_dim, &L.w2) ||
            !im.ternary(b + "ffn_up", m->hidden_dim, m->dim, &L.w3))
            return false;
    }
    // A tensor nobody asked for changes the model in a way we do not know.
    for (const GgufTensorInfo& t : f.tensors)
        if (im.used.count(t.name) == 0)
            return fail_as(err, ErrorKind::Unsupported,
                           "gguf: tensor %s (%s) is not part of the \"%s\" architecture agmodel implements",
                           shown(t.name).c_str(), type_text(t.type), arch->name);

    std::string tok_model;
    if (!f.get_string("tokenizer.ggml.model", &tok_model, true, err)) return false;
    if (!tok_model.empty()) {
        std::string kind;
        if (!vocab_from_gguf(f, &m->vocab, &kind, err)) return false;
        if (m->vocab.pieces.size() != m->vocab_size)
            return fail(err, "gguf: the tokenizer has %zu tokens, token_embd.weight has %u rows",
                        m->vocab.pieces.size(), m->vocab_size);
        m->has_vocab = true;
        m->metadata.push_back({"tokenizer.source", "GGUF " + kind});
    }
    if (!f.get_string("tokenizer.chat_template", &m->chat_template, true, err)) return false;
    std::string name;
    if (!f.get_string("general.name", &name, true, err)) return false;
    m->metadata.push_back({"source", "GGUF v" + std::to_string(f.version) + " \"" + arch_name + "\"" +
                                         (name.empty() ? "" : " " + shown(name))});
    return true;
}

}  // namespace agm
