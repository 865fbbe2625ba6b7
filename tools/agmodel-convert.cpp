// agmodel-convert: brings a model into the native format.
//
//   agmodel-convert INPUT -o OUTPUT [--tokenizer FILE] [--bit-order msb|lsb]
//
// The input format is recognised from its content (today: the "ak42" BitNet
// checkpoint of bitllama2.c). The tokenizer is a llama2.c tokenizer.bin or a
// SentencePiece tokenizer.model, also recognised from content; without
// --tokenizer, a tokenizer.bin beside INPUT is used if there is one. The
// output is written atomically: on any failure nothing appears at OUTPUT and
// an existing file there is untouched.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agm/ak42.h"
#include "agm/model_writer.h"
#include "agm/vocab.h"
#include "tool_util.h"

namespace {

using agm::Error;

void usage(FILE* f) {
    std::fprintf(f,
                 "usage: agmodel-convert INPUT -o OUTPUT [--tokenizer FILE] [--bit-order msb|lsb]\n"
                 "  INPUT        an ak42 BitNet checkpoint (format recognised from content)\n"
                 "  -o OUTPUT    the native model file to write (atomically)\n"
                 "  --tokenizer  llama2.c tokenizer.bin or SentencePiece tokenizer.model\n"
                 "               (default: tokenizer.bin beside INPUT, if present)\n"
                 "  --bit-order  where the first weight of each packed byte sits in the ak42\n"
                 "               file: msb (bits 7..6, bitllama2.c's export; default) or lsb\n");
}

bool load_tokenizer(const std::string& path, uint32_t vocab_size, agm::Vocab* vocab,
                    std::string* kind, Error* err) {
    std::vector<uint8_t> bytes;
    if (!agm::read_whole_file(path, &bytes, err, (uint64_t)256 << 20)) return false;
    // A tokenizer.bin is recognised by consuming the whole file exactly with
    // `vocab_size` entries; otherwise a protobuf ModelProto starts with field
    // 1 (pieces), length-delimited: byte 0x0A.
    Error bin_err;
    if (agm::read_llama2c_tokenizer(bytes.data(), bytes.size(), vocab_size, vocab, &bin_err)) {
        *kind = "llama2.c tokenizer.bin";
        return true;
    }
    if (!bytes.empty() && bytes[0] == 0x0A) {
        *kind = "SentencePiece tokenizer.model";
        if (!agm::read_spm_model(bytes.data(), bytes.size(), vocab, err))
            return agm::fail_context(err, path.c_str());
        return true;
    }
    *err = bin_err;
    return agm::fail_context(err, path.c_str());
}

bool check_finite(const uint8_t* p, uint64_t n, const char* name, Error* err) {
    for (uint64_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, p + i * 4, 4);
        if (!std::isfinite(v))
            return agm::fail(err, "%s: value %llu is not a finite number", name, (unsigned long long)i);
    }
    return true;
}

std::vector<uint8_t> copy_bytes(const uint8_t* p, uint64_t n) { return std::vector<uint8_t>(p, p + n); }

bool convert_ak42(const std::vector<uint8_t>& in, const std::string& in_path, agm::BitOrder order,
                  const agm::Vocab* vocab, const std::string& tok_kind, std::vector<uint8_t>* out,
                  Error* err) {
    agm::Ak42Model m;
    if (!agm::read_ak42(in.data(), in.size(), &m, err)) return false;
    const uint32_t dim = (uint32_t)m.dim, vocab_size = (uint32_t)m.vocab_size;
    if (vocab != nullptr && vocab->pieces.size() != vocab_size)
        return agm::fail(err, "tokenizer has %zu tokens, the model's vocabulary is %u",
                         vocab->pieces.size(), vocab_size);

    agm::ModelWriter w;
    w.set_u32(AGM_KEY_ARCH, AGM_ARCH_BITNET_LLAMA);
    w.set_u32(AGM_KEY_DIM, dim);
    w.set_u32(AGM_KEY_HIDDEN_DIM, (uint32_t)m.hidden_dim);
    w.set_u32(AGM_KEY_N_LAYERS, (uint32_t)m.n_layers);
    w.set_u32(AGM_KEY_N_HEADS, (uint32_t)m.n_heads);
    w.set_u32(AGM_KEY_N_KV_HEADS, (uint32_t)m.n_kv_heads);
    w.set_u32(AGM_KEY_VOCAB_SIZE, vocab_size);
    w.set_u32(AGM_KEY_MAX_SEQ_LEN, (uint32_t)m.seq_len);
    w.set_u32(AGM_KEY_HEAD_DIM, dim / (uint32_t)m.n_heads);
    // bitllama2.c's model: weightless "divide by n" RMS norms before every
    // ternary matmul, a learned RMS norm (eps 1e-5) before the classifier.
    w.set_u32(AGM_KEY_NORM_INPUT, AGM_NORM_RMS_DIV_N);
    w.set_u32(AGM_KEY_NORM_SUB, AGM_NORM_RMS_DIV_N);
    w.set_u32(AGM_KEY_NORM_OUTPUT, AGM_NORM_RMS);
    w.set_f32(AGM_KEY_NORM_EPS, 1e-5f);
    w.set_u32(AGM_KEY_FFN_ACT, AGM_FFN_SILU_GATED);
    w.set_f32(AGM_KEY_ROPE_THETA, 10000.0f);
    w.set_u32(AGM_KEY_ROPE_LAYOUT, AGM_ROPE_INTERLEAVED);
    w.set_u32(AGM_KEY_TIED_CLASSIFIER, m.shared_classifier ? 1u : 0u);
    w.set_u32(AGM_KEY_ACT_QUANT, AGM_ACT_ABSMAX_I8);

    const uint64_t emb = (uint64_t)vocab_size * dim;
    if (!check_finite(m.embedding, emb, "token embedding", err) ||
        !check_finite(reinterpret_cast<const uint8_t*>(m.final_norm), dim, "final norm", err))
        return false;
    if (!w.add_tensor("token_embd", AGM_TYPE_F32, {vocab_size, dim}, 1.0f,
                      copy_bytes(m.embedding, emb * 4), err) ||
        !w.add_tensor("output_norm", AGM_TYPE_F32, {dim}, 1.0f,
                      copy_bytes(reinterpret_cast<const uint8_t*>(m.final_norm), (uint64_t)dim * 4),
                      err))
        return false;
    if (!m.shared_classifier) {
        if (!check_finite(m.classifier, emb, "classifier", err) ||
            !w.add_tensor("output", AGM_TYPE_F32, {vocab_size, dim}, 1.0f,
                          copy_bytes(m.classifier, emb * 4), err))
            return false;
    }
    static const char* const kNames[7] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                          "ffn_gate", "ffn_down", "ffn_up"};
    for (int l = 0; l < m.n_layers; ++l) {
        for (int kind = 0; kind < 7; ++kind) {
            const agm::Ak42Matrix& mat = m.matrices[(size_t)kind * m.n_layers + l];
            char name[64];
            std::snprintf(name, sizeof name, "blk.%d.%s", l, kNames[kind]);
            std::vector<uint8_t> packed;
            if (!agm::repack_ak42_to_t2(mat, order, name, &packed, err) ||
                !w.add_tensor(name, AGM_TYPE_T2_B128, {mat.rows, mat.cols}, mat.scale,
                              std::move(packed), err))
                return false;
        }
    }
    if (vocab != nullptr) {
        std::vector<uint8_t> section;
        if (!agm::serialize_tokenizer(*vocab, &section, err)) return false;
        w.set_tokenizer(std::move(section));
    }
    const std::string base = in_path.substr(in_path.find_last_of('/') + 1);
    w.add_metadata("source", "ak42 checkpoint " + base);
    w.add_metadata("ak42.bit_order", order == agm::BitOrder::Msb ? "msb" : "lsb");
    if (vocab != nullptr) w.add_metadata("tokenizer.source", tok_kind);
    w.add_metadata("converter", "agmodel-convert " AGM_VERSION);
    return w.finish(out, err);
}

}  // namespace

int main(int argc, char** argv) {
    // A file-size limit (ulimit -f) must make write() fail with EFBIG, which
    // we report and clean up after, instead of killing the process mid-file.
    std::signal(SIGXFSZ, SIG_IGN);
    std::string input, output, tokenizer;
    agm::BitOrder order = agm::BitOrder::Msb;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const char* opt) -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "agmodel-convert: %s needs a value\n", opt);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "-o" || a == "--output") {
            output = value("-o");
        } else if (a == "--tokenizer") {
            tokenizer = value("--tokenizer");
        } else if (a == "--bit-order") {
            const std::string v = value("--bit-order");
            if (v == "msb") order = agm::BitOrder::Msb;
            else if (v == "lsb") order = agm::BitOrder::Lsb;
            else {
                std::fprintf(stderr, "agmodel-convert: --bit-order must be msb or lsb, not '%s'\n", v.c_str());
                return 2;
            }
        } else if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        } else if (!a.empty() && a[0] == '-') {
            std::fprintf(stderr, "agmodel-convert: unknown option %s\n", a.c_str());
            usage(stderr);
            return 2;
        } else if (input.empty()) {
            input = a;
        } else {
            std::fprintf(stderr, "agmodel-convert: more than one INPUT given\n");
            return 2;
        }
    }
    if (input.empty() || output.empty()) {
        usage(stderr);
        return 2;
    }

    Error err;
    std::vector<uint8_t> in;
    if (!agm::read_whole_file(input, &in, &err)) {
        std::fprintf(stderr, "agmodel-convert: %s\n", err.msg);
        return 1;
    }
    if (!agm::is_ak42(in.data(), in.size())) {
        std::fprintf(stderr,
                     "agmodel-convert: %s: input format not recognised (supported: ak42 BitNet "
                     "checkpoint)\n", input.c_str());
        return 1;
    }
    // The vocabulary size comes from the checkpoint header (validated below
    // again by read_ak42).
    int32_t header_vocab = 0;
    if (in.size() >= 32) std::memcpy(&header_vocab, in.data() + 28, 4);
    const uint32_t vocab_size = header_vocab < 0 ? (uint32_t)(-(int64_t)header_vocab) : (uint32_t)header_vocab;

    if (tokenizer.empty()) {
        const size_t slash = input.find_last_of('/');
        const std::string dir = slash == std::string::npos ? "." : input.substr(0, slash);
        const std::string guess = dir + "/tokenizer.bin";
        if (FILE* f = std::fopen(guess.c_str(), "rb")) {
            std::fclose(f);
            tokenizer = guess;
            std::fprintf(stderr, "agmodel-convert: using tokenizer %s\n", guess.c_str());
        } else {
            std::fprintf(stderr, "agmodel-convert: warning: no tokenizer given or found; the "
                         "output cannot encode text\n");
        }
    }
    agm::Vocab vocab;
    std::string tok_kind;
    if (!tokenizer.empty() && !load_tokenizer(tokenizer, vocab_size, &vocab, &tok_kind, &err)) {
        std::fprintf(stderr, "agmodel-convert: %s\n", err.msg);
        return 1;
    }
    std::vector<uint8_t> out;
    if (!convert_ak42(in, input, order, tokenizer.empty() ? nullptr : &vocab, tok_kind, &out, &err)) {
        std::fprintf(stderr, "agmodel-convert: %s: %s\n", input.c_str(), err.msg);
        return 1;
    }
    if (!agm::write_file_atomic(output, out.data(), out.size(), &err)) {
        std::fprintf(stderr, "agmodel-convert: %s\n", err.msg);
        return 1;
    }
    std::fprintf(stderr, "agmodel-convert: wrote %s (%zu bytes)\n", output.c_str(), out.size());
    return 0;
}
