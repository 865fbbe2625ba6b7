// Hugging Face checkpoint (config.json + safetensors) -> ImportModel.
//
// Architectures (config.json "architectures"[0]):
//   LlamaForCausalLM   LLaMA-style (TriLM, BitNet students distilled into the
//                      Llama class): pre-norm RMS norms, SiLU-gated FFN.
//   BitnetForCausalLM  1bitLLM's BitNet b1.58 (latent float weights).
//   BitNetForCausalLM  Microsoft's BitNet b1.58 2B4T (packed or latent).
// Every variant: RMS sub-norms when the checkpoint has them (attn_sub_norm /
// ffn_sub_norm, or 1bitLLM's inner_attn_ln / ffn_layernorm), hidden_act silu
// or relu2, grouped-query attention, tied or separate classifier, RoPE on
// halves (Hugging Face's rotate_half), theta from rope_theta.
// Ternary matrices:
//   U8 packed: [rows/4, cols] bytes, row block i (rows i*rows/4 ..) in bits
//     2i..2i+1 of each byte, code c meaning c - 1 (transformers' BitNet
//     unpacking); with <name>_scale (weight_scale), the layer divides by it:
//     value = w / weight_scale.
//   F32/F16/BF16 whose nonzero values share one magnitude: exact.
//   Other float matrices: latent BitNet weights, quantised the b1.58 way
//     (absmean), for the bitnet architectures, for a Llama checkpoint whose
//     quantization_config says "bitnet", or with options.bitnet_latent.
#include <cmath>
#include <cstdio>
#include <set>
#include <string>

#include "agm/convert_hf.h"
#include "agm/file_io.h"
#include "agm/hf_tokenizer.h"
#include "agm/json.h"
#include "agm/model_file.h"
#include "agm/vocab.h"

namespace agm {
namespace {

bool is_float_dtype(StDtype d) { return d == StDtype::F32 || d == StDtype::F16 || d == StDtype::BF16; }

struct Importer {
    const HfCheckpoint& ck;
    bool latent_ok;
    Error* err;
    std::set<std::string> used;

    const SafetensorsTensor* get(const std::string& name, bool optional) {
        const SafetensorsTensor* t = ck.find(name);
        if (t == nullptr && !optional) fail(err, "checkpoint: tensor %s is missing", name.c_str());
        if (t != nullptr) used.insert(name);
        return t;
    }

    bool shape_is(const SafetensorsTensor& t, uint64_t rows, uint64_t cols) {
        const bool ok = rows == 0 ? (t.shape.size() == 1 && t.shape[0] == cols)
                                  : (t.shape.size() == 2 && t.shape[0] == rows && t.shape[1] == cols);
        if (ok) return true;
        char want[64];
        if (rows == 0) std::snprintf(want, sizeof want, "[%llu]", (unsigned long long)cols);
        else std::snprintf(want, sizeof want, "[%llu, %llu]", (unsigned long long)rows, (unsigned long long)cols);
        return fail(err, "checkpoint: tensor %s: shape %s, the configuration needs %s", t.name.c_str(),
                    st_shape_string(t.shape).c_str(), want);
    }

    bool floats(const std::string& name, uint32_t rows, uint32_t cols, ImportFloat* out) {
        const SafetensorsTensor* t = get(name, false);
        if (t == nullptr || !shape_is(*t, rows, cols)) return false;
        if (!is_float_dtype(t->dtype))
            return fail_as(err, ErrorKind::Unsupported, "checkpoint: tensor %s: dtype %s (F32, F16 or BF16 expected)",
                           name.c_str(), st_dtype_name(t->dtype));
        if (!tensor_to_f32(*t, &out->v, err)) return fail_context(err, "checkpoint");
        out->rows = rows ? rows : 1;
        out->cols = cols;
        out->source_type = st_dtype_name(t->dtype);
        out->source_bytes = t->nbytes;
        return true;
    }

    bool packed(const SafetensorsTensor& t, uint32_t rows, uint32_t cols, ImportTernary* out) {
        if (rows % 4 != 0 || !shape_is(t, rows / 4, cols))
            return fail(err, "checkpoint: tensor %s: packed U8 of shape %s, the configuration needs [%u, %u] "
                             "(4 rows a byte)", t.name.c_str(), st_shape_string(t.shape).c_str(), rows / 4, cols);
        const uint32_t r4 = rows / 4;
        out->w.assign((size_t)rows * cols, 0);
        for (uint32_t i = 0; i < 4; ++i)
            for (uint32_t r = 0; r < r4; ++r)
                for (uint32_t c = 0; c < cols; ++c) {
                    const uint8_t code = (t.data[(size_t)r * cols + c] >> (2 * i)) & 3;
                    if (code == 3)
                        return fail(err, "checkpoint: tensor %s: byte [%u, %u] holds code 3 (the value +2) in "
                                         "bits %u..%u: not ternary", t.name.c_str(), r, c, 2 * i, 2 * i + 1);
                    out->w[(size_t)(i * r4 + r) * cols + c] = (int8_t)(code - 1);
                }
        const std::string sname = t.name + "_scale";  // q_proj.weight -> q_proj.weight_scale
        const SafetensorsTensor* s = get(sname, false);
        if (s == nullptr) return fail_context(err, "packed ternary weights need their weight_scale");
        if (s->n_elements != 1 || !is_float_dtype(s->dtype))
            return fail(err, "checkpoint: tensor %s: must be one F32, F16 or BF16 value, is %s %s", sname.c_str(),
                        st_dtype_name(s->dtype), st_shape_string(s->shape).c_str());
        std::vector<float> sv;
        if (!tensor_to_f32(*s, &sv, err)) return fail_context(err, "checkpoint");
        if (!(sv[0] > 0.0f) || !std::isfinite(sv[0]))
            return fail(err, "checkpoint: tensor %s: weight scale %g is not a positive finite number", sname.c_str(),
                        (double)sv[0]);
        out->scale = 1.0f / sv[0];
        out->source_bytes = t.nbytes + s->nbytes;
        out->source_type = std::string("U8 packed, ") + st_dtype_name(s->dtype) + " weight_scale";
        return true;
    }

    bool ternary(const std::string& name, uint32_t rows, uint32_t cols, ImportTernary* out) {
        const SafetensorsTensor* t = get(name, false);
        if (t == nullptr) return false;
        out->rows = rows;
        out->cols = cols;
        if (t->dtype == StDtype::U8) return packed(*t, rows, cols, out);
        if (!shape_is(*t, rows, cols)) return false;
        if (!is_float_dtype(t->dtype))
            return fail_as(err, ErrorKind::Unsupported,
                           "checkpoint: tensor %s: dtype %s (U8 packed ternary, F32, F16 or BF16 expected)",
                           name.c_str(), st_dtype_name(t->dtype));
        std::vector<float> v;
        if (!tensor_to_f32(*t, &v, err)) return fail_context(err, "checkpoint");
        out->source_bytes = t->nbytes;
        if (ternary_from_exact_floats(v.data(), rows, cols, out)) {
            out->source_type = std::string(st_dtype_name(t->dtype)) + " (ternary values)";
            return true;
        }
        if (!latent_ok)
            return fail_as(err, ErrorKind::Unsupported,
                           "checkpoint: tensor %s: %s values are not ternary; if this is a BitNet b1.58 "
                           "checkpoint with latent weights, convert with --bitnet-latent (a non-BitNet model "
                           "cannot be made ternary)", name.c_str(), st_dtype_name(t->dtype));
        if (!quantize_bitnet_absmean(v.data(), rows, cols, out, err)) return fail_context(err, name.c_str());
        out->source_type = std::string(st_dtype_name(t->dtype)) + " (latent, absmean-quantised)";
        return true;
    }
};

// An optional key may also be null (transformers writes "head_dim": null).
bool config_u32(const JsonValue& c, const char* key, uint32_t* out, bool optional, Error* err) {
    const JsonValue* j = c.find(key);
    if (optional && j != nullptr && j->is_null()) return true;
    uint64_t v = *out;
    if (!c.get_uint64("config.json", key, &v, optional, err)) return false;
    if (v > 0xFFFFFFFFull) return fail(err, "config.json: %s: %llu is too large", key, (unsigned long long)v);
    *out = (uint32_t)v;
    return true;
}

bool config_f32(const JsonValue& c, const char* key, float* out, Error* err) {
    const JsonValue* j = c.find(key);
    if (j != nullptr && j->is_null()) return true;
    double v = *out;
    if (!c.get_double("config.json", key, &v, true, err)) return false;
    *out = (float)v;
    return true;
}

// A config value that must be absent, null, false or the given neutral value.
bool refuse_if_set(const JsonValue& c, const char* key, const char* why, Error* err) {
    const JsonValue* v = c.find(key);
    if (v == nullptr || v->is_null() || (v->is_bool() && !v->boolean())) return true;
    return fail_as(err, ErrorKind::Unsupported, "config.json: %s = %s: %s", key, json_value_text(*v).c_str(), why);
}

}  // namespace

// tokenizer_config.json's chat_template, if the file exists: a string, or
// a list of {"name", "template"} (the one named "default", else the first).
static bool read_chat_template(const std::string& path, std::string* out, Error* err) {
    FILE* probe = std::fopen(path.c_str(), "rb");
    if (probe == nullptr) return true;
    std::fclose(probe);
    std::vector<uint8_t> bytes;
    JsonValue doc;
    if (!read_whole_file(path, &bytes, err, (uint64_t)64 << 20) || !parse_json(bytes.data(), bytes.size(), &doc, err))
        return fail_context(err, path.c_str());
    const JsonValue* t = doc.find("chat_template");
    if (t == nullptr || t->is_null()) return true;
    if (t->is_string()) {
        *out = t->text();
        return true;
    }
    if (t->is_array()) {
        for (size_t i = 0; i < t->size(); ++i) {
            const JsonValue* name = t->at(i).find("name");
            const JsonValue* text = t->at(i).find("template");
            if (text == nullptr || !text->is_string()) break;
            if (out->empty() || (name != nullptr && name->is_string() && name->text() == "default")) *out = text->text();
        }
        if (!out->empty()) return true;
    }
    return fail(err, "%s: chat_template is neither a string nor a list of {name, template}", path.c_str());
}

bool import_hf(const HfCheckpoint& ck, const HfImportOptions& o, ImportModel* m, Error* err) {
    const JsonValue& c = ck.config;
    const JsonValue* archs = c.find("architectures");
    if (archs == nullptr || !archs->is_array() || archs->size() != 1 || !archs->at(0).is_string())
        return fail(err, "config.json: architectures must be a list of one name");
    const std::string arch = archs->at(0).text();
    const bool is_llama = arch == "LlamaForCausalLM";
    if (!is_llama && arch != "BitnetForCausalLM" && arch != "BitNetForCausalLM")
        return fail_as(err, ErrorKind::Unsupported,
                       "config.json: architectures = [\"%s\"]: not supported (LlamaForCausalLM, "
                       "BitnetForCausalLM, BitNetForCausalLM)", json_printable(arch).c_str());
    bool latent_ok = !is_llama || o.bitnet_latent;
    if (const JsonValue* q = c.find("quantization_config")) {
        if (!q->is_null()) {
            std::string method;
            if (!q->get_string("config.json: quantization_config", "quant_method", &method, false, err)) return false;
            if (method != "bitnet")
                return fail_as(err, ErrorKind::Unsupported,
                               "config.json: quantization_config.quant_method = \"%s\": not supported (bitnet)",
                               json_printable(method).c_str());
            latent_ok = true;
        }
    }
    if (!refuse_if_set(c, "rope_scaling", "RoPE scaling is not implemented", err) ||
        !refuse_if_set(c, "attention_bias", "attention biases are not implemented", err) ||
        !refuse_if_set(c, "mlp_bias", "FFN biases are not implemented", err))
        return false;

    m->n_kv_heads = 0;
    m->head_dim = 0;
    m->max_seq_len = 2048;
    m->norm_eps = 1e-6f;  // LlamaConfig's default
    m->rope_theta = 10000.0f;
    if (!config_u32(c, "hidden_size", &m->dim, false, err) ||
        !config_u32(c, "intermediate_size", &m->hidden_dim, false, err) ||
        !config_u32(c, "num_hidden_layers", &m->n_layers, false, err) ||
        !config_u32(c, "num_attention_heads", &m->n_heads, false, err) ||
        !config_u32(c, "num_key_value_heads", &m->n_kv_heads, true, err) ||
        !config_u32(c, "head_dim", &m->head_dim, true, err) ||
        !config_u32(c, "max_position_embeddings", &m->max_seq_len, true, err) ||
        !config_u32(c, "vocab_size", &m->vocab_size, false, err) ||
        !config_f32(c, "rms_norm_eps", &m->norm_eps, err) || !config_f32(c, "rope_theta", &m->rope_theta, err))
        return false;
    const ImportKeyNames names = {"config.json: ", "num_hidden_layers", "hidden_size", "intermediate_size",
                                  "num_attention_heads", "max_position_embeddings", "vocab_size"};
    if (!check_import_ranges(*m, names, err)) return false;
    if (m->n_kv_heads == 0) m->n_kv_heads = m->n_heads;
    if (m->head_dim == 0) m->head_dim = m->dim / m->n_heads;
    std::string act = "silu";
    if (!c.get_string("config.json", "hidden_act", &act, true, err)) return false;
    if (act == "silu") m->ffn_act = AGM_FFN_SILU_GATED;
    else if (act == "relu2") m->ffn_act = AGM_FFN_RELU2_GATED;
    else
        return fail_as(err, ErrorKind::Unsupported, "config.json: hidden_act = \"%s\": not supported (silu, relu2)",
                       json_printable(act).c_str());
    bool tied = false;
    if (!c.get_bool("config.json", "tie_word_embeddings", &tied, true, err)) return false;
    m->tied_classifier = tied;
    m->norm_input = AGM_NORM_RMS;
    m->norm_output = AGM_NORM_RMS;
    m->rope_layout = AGM_ROPE_HALVES;

    Importer im{ck, latent_ok, err, {}};
    // Sub-norms: 2B4T's names or 1bitLLM's.
    const char* sub_attn = nullptr;
    const char* sub_ffn = nullptr;
    if (ck.find("model.layers.0.self_attn.attn_sub_norm.weight")) {
        sub_attn = "self_attn.attn_sub_norm.weight";
        sub_ffn = "mlp.ffn_sub_norm.weight";
    } else if (ck.find("model.layers.0.self_attn.inner_attn_ln.weight")) {
        sub_attn = "self_attn.inner_attn_ln.weight";
        sub_ffn = "mlp.ffn_layernorm.weight";
    }
    m->norm_sub = sub_attn ? AGM_NORM_RMS : AGM_NORM_NONE;

    const uint32_t q_dim = m->n_heads * m->head_dim, kv_dim = m->n_kv_heads * m->head_dim;
    if (!im.floats("model.embed_tokens.weight", m->vocab_size, m->dim, &m->token_embd) ||
        !im.floats("model.norm.weight", 0, m->dim, &m->output_norm))
        return false;
    if (tied) {
        im.get("lm_head.weight", true);  // a saved copy of the tied weight is not used
    } else if (!im.floats("lm_head.weight", m->vocab_size, m->dim, &m->output)) {
        return false;
    }
    m->layers.assign(m->n_layers, ImportLayer());
    for (uint32_t l = 0; l < m->n_layers; ++l) {
        ImportLayer& L = m->layers[l];
        const std::string b = "model.layers." + std::to_string(l) + ".";
        if (!im.floats(b + "input_layernorm.weight", 0, m->dim, &L.attn_norm) ||
            !im.floats(b + "post_attention_layernorm.weight", 0, m->dim, &L.ffn_norm))
            return false;
        if (sub_attn && (!im.floats(b + sub_attn, 0, q_dim, &L.attn_sub_norm) ||
                         !im.floats(b + sub_ffn, 0, m->hidden_dim, &L.ffn_sub_norm)))
            return false;
        if (!im.ternary(b + "self_attn.q_proj.weight", q_dim, m->dim, &L.wq) ||
            !im.ternary(b + "self_attn.k_proj.weight", kv_dim, m->dim, &L.wk) ||
            !im.ternary(b + "self_attn.v_proj.weight", kv_dim, m->dim, &L.wv) ||
            !im.ternary(b + "self_attn.o_proj.weight", m->dim, q_dim, &L.wo) ||
            !im.ternary(b + "mlp.gate_proj.weight", m->hidden_dim, m->dim, &L.w1) ||
            !im.ternary(b + "mlp.down_proj.weight", m->dim, m->hidden_dim, &L.w2) ||
            !im.ternary(b + "mlp.up_proj.weight", m->hidden_dim, m->dim, &L.w3))
            return false;
        im.get(b + "self_attn.rotary_emb.inv_freq", true);  // a buffer older checkpoints saved
    }
    for (const HfTensorRef& t : ck.tensors)
        if (im.used.count(t.tensor->name) == 0)
            return fail_as(err, ErrorKind::Unsupported,
                           "checkpoint: tensor %s (%s %s) is not part of the architecture agmodel implements",
                           json_printable(t.tensor->name).c_str(), st_dtype_name(t.tensor->dtype),
                           st_shape_string(t.tensor->shape).c_str());

    // The vocabulary: tokenizer.model (SentencePiece, read exactly) when the
    // checkpoint has one, else tokenizer.json.
    auto exists = [](const std::string& path) {
        FILE* f = std::fopen(path.c_str(), "rb");
        if (f) std::fclose(f);
        return f != nullptr;
    };
    const std::string spm = ck.dir + "/tokenizer.model";
    std::string tok_kind;
    if (exists(spm)) {
        std::vector<uint8_t> bytes;
        if (!read_whole_file(spm, &bytes, err, (uint64_t)256 << 20) ||
            !read_spm_model(bytes.data(), bytes.size(), &m->vocab, err))
            return fail_context(err, spm.c_str());
        tok_kind = "SentencePiece tokenizer.model";
    } else if (exists(ck.tokenizer_json_path())) {
        if (!load_tokenizer_json(ck.tokenizer_json_path(), &m->vocab, &tok_kind, err)) return false;
    }
    if (!tok_kind.empty()) {
        if (m->vocab.pieces.size() != m->vocab_size)
            return fail(err, "checkpoint: the tokenizer (%s) has %zu tokens, config.json's vocab_size is %u",
                        tok_kind.c_str(), m->vocab.pieces.size(), m->vocab_size);
        m->has_vocab = true;
        m->metadata.push_back({"tokenizer.source", tok_kind});
    }
    if (!read_chat_template(ck.dir + "/tokenizer_config.json", &m->chat_template, err)) return false;
    m->metadata.push_back({"source", "Hugging Face checkpoint (" + arch + ")"});
    return true;
}

}  // namespace agm
