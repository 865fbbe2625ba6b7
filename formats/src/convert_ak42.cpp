#include <cmath>
#include <cstdio>
#include <cstring>

#include "agm/convert.h"
#include "agm/model_writer.h"
#include "agm/file_io.h"
#include "agm/quant.h"

namespace agm {
namespace {

bool check_finite(const uint8_t* p, uint64_t n, const char* name, Error* err) {
    for (uint64_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, p + i * 4, 4);
        if (!std::isfinite(v))
            return fail(err, "%s: value %llu is not a finite number", name, (unsigned long long)i);
    }
    return true;
}

std::vector<uint8_t> copy_bytes(const uint8_t* p, uint64_t n) { return std::vector<uint8_t>(p, p + n); }

}  // namespace

bool load_tokenizer_file(const std::string& path, uint32_t vocab_size, Vocab* vocab,
                         std::string* kind, Error* err) {
    std::vector<uint8_t> bytes;
    if (!read_whole_file(path, &bytes, err, (uint64_t)256 << 20)) return false;
    // A tokenizer.bin is recognised by consuming the whole file exactly with
    // `vocab_size` entries; otherwise a protobuf ModelProto starts with field
    // 1 (pieces), length-delimited: byte 0x0A.
    Error bin_err;
    if (read_llama2c_tokenizer(bytes.data(), bytes.size(), vocab_size, vocab, &bin_err)) {
        *kind = "llama2.c tokenizer.bin";
        return true;
    }
    if (!bytes.empty() && bytes[0] == 0x0A) {
        *kind = "SentencePiece tokenizer.model";
        if (!read_spm_model(bytes.data(), bytes.size(), vocab, err))
            return fail_context(err, path.c_str());
        return true;
    }
    *err = bin_err;
    return fail_context(err, path.c_str());
}

bool convert_ak42(const uint8_t* data, size_t size, BitOrder order, uint32_t ternary_type,
                  uint32_t embedding_type, const Vocab* vocab,
                  const std::string& tok_kind, const std::string& source_name,
                  std::vector<uint8_t>* out, Error* err) {
    Ak42Model m;
    if (!read_ak42(data, size, &m, err)) return false;
    const uint32_t dim = (uint32_t)m.dim, vocab_size = (uint32_t)m.vocab_size;
    if (vocab != nullptr && vocab->pieces.size() != vocab_size)
        return fail(err, "tokenizer has %zu tokens, the model's vocabulary is %u",
                         vocab->pieces.size(), vocab_size);

    ModelConfig c;
    c.arch = AGM_ARCH_BITNET_LLAMA;
    c.dim = dim;
    c.hidden_dim = (uint32_t)m.hidden_dim;
    c.n_layers = (uint32_t)m.n_layers;
    c.n_heads = (uint32_t)m.n_heads;
    c.n_kv_heads = (uint32_t)m.n_kv_heads;
    c.vocab_size = vocab_size;
    c.max_seq_len = (uint32_t)m.seq_len;
    c.head_dim = dim / (uint32_t)m.n_heads;
    // bitllama2.c's model: weightless "divide by n" RMS norms before every
    // ternary matmul, a learned RMS norm (eps 1e-5) before the classifier.
    c.norm_input = AGM_NORM_RMS_DIV_N;
    c.norm_sub = AGM_NORM_RMS_DIV_N;
    c.norm_output = AGM_NORM_RMS;
    c.norm_eps = 1e-5f;
    c.ffn_act = AGM_FFN_SILU_GATED;
    c.rope_theta = 10000.0f;
    c.rope_layout = AGM_ROPE_INTERLEAVED;
    c.tied_classifier = m.shared_classifier ? 1u : 0u;
    c.act_quant = AGM_ACT_ABSMAX_I8;
    ModelWriter w;
    w.set_config(c);

    const uint64_t emb = (uint64_t)vocab_size * dim;
    if (!check_finite(m.embedding, emb, "token embedding", err) ||
        !check_finite(reinterpret_cast<const uint8_t*>(m.final_norm), dim, "final norm", err))
        return false;
    if (embedding_type != AGM_TYPE_F32 && embedding_type != AGM_TYPE_Q4_B32 &&
        embedding_type != AGM_TYPE_TL5_R4S)
        return fail_as(err, ErrorKind::Argument, "embedding type %u is not f32, q4_b32 or tl5_r4s",
                       embedding_type);
    // f32: the bytes as they are; q4_b32: quantised (agm/quant.h).
    auto rows_tensor = [&](const uint8_t* f32, std::vector<uint8_t>* out) {
        if (embedding_type == AGM_TYPE_F32) {
            *out = copy_bytes(f32, emb * 4);
            return true;
        }
        std::vector<float> v(emb);
        std::memcpy(v.data(), f32, emb * 4);
        if (embedding_type == AGM_TYPE_TL5_R4S) return quantize_tl5_r4s(v.data(), vocab_size, dim, out, err);
        return quantize_q4_b32(v.data(), vocab_size, dim, out, err);
    };
    std::vector<uint8_t> embd_bytes;
    if (!rows_tensor(m.embedding, &embd_bytes)) return fail_context(err, "token embedding");
    if (!w.add_tensor("token_embd", embedding_type, {vocab_size, dim}, 1.0f, std::move(embd_bytes), err) ||
        !w.add_tensor("output_norm", AGM_TYPE_F32, {dim}, 1.0f,
                      copy_bytes(reinterpret_cast<const uint8_t*>(m.final_norm), (uint64_t)dim * 4),
                      err))
        return false;
    if (!m.shared_classifier) {
        std::vector<uint8_t> out_bytes;
        if (!check_finite(m.classifier, emb, "classifier", err)) return false;
        if (!rows_tensor(m.classifier, &out_bytes)) return fail_context(err, "classifier");
        if (!w.add_tensor("output", embedding_type, {vocab_size, dim}, 1.0f, std::move(out_bytes), err))
            return false;
    }
    static const char* const kNames[7] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                          "ffn_gate", "ffn_down", "ffn_up"};
    for (int l = 0; l < m.n_layers; ++l) {
        for (int kind = 0; kind < 7; ++kind) {
            const Ak42Matrix& mat = m.matrices[(size_t)kind * m.n_layers + l];
            char name[64];
            std::snprintf(name, sizeof name, "blk.%d.%s", l, kNames[kind]);
            std::vector<uint8_t> packed;
            if (!repack_ak42(mat, order, ternary_type, name, &packed, err) ||
                !w.add_tensor(name, ternary_type, {mat.rows, mat.cols}, mat.scale,
                              std::move(packed), err))
                return false;
        }
    }
    if (vocab != nullptr) {
        std::vector<uint8_t> section;
        if (!serialize_tokenizer(*vocab, &section, err)) return false;
        w.set_tokenizer(std::move(section));
    }
    w.add_metadata("source", "ak42 checkpoint " + source_name);
    w.add_metadata("ak42.bit_order", order == BitOrder::Msb ? "msb" : "lsb");
    if (vocab != nullptr) w.add_metadata("tokenizer.source", tok_kind);
    w.add_metadata("converter", "agmodel " AGM_VERSION);
    return w.finish(out, err);
}

}  // namespace agm
