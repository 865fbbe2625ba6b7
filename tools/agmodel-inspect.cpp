// agmodel-inspect: what a model file holds and what running it costs.
//
//   agmodel-inspect MODEL [-c ctx]
//
// Prints the config, the tokenizer summary, every tensor (type, shape,
// bytes, scale), the memory a session needs, and whether the checksum holds.
// Exit status 0 only for a valid file with a good checksum.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agm/model_file.h"
#include "agm/ternary.h"
#include "agmodel.h"
#include "tool_util.h"

namespace {

const char* norm_name(uint32_t k) {
    switch (k) {
        case AGM_NORM_NONE: return "none";
        case AGM_NORM_RMS: return "rms (learned weight)";
        case AGM_NORM_RMS_DIV_N: return "rms/n (weightless, no eps)";
    }
    return "?";
}

}  // namespace

int main(int argc, char** argv) {
    std::string path;
    long long n_ctx = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-c" && i + 1 < argc) {
            if (!agm::parse_long(argv[++i], 1, 1 << 30, &n_ctx)) {
                std::fprintf(stderr, "agmodel-inspect: -c must be a positive integer\n");
                return 2;
            }
        } else if (a == "-h" || a == "--help" || path.size() > 0 || a[0] == '-') {
            std::fprintf(a == "-h" || a == "--help" ? stdout : stderr,
                         "usage: agmodel-inspect MODEL [-c ctx]\n");
            return a == "-h" || a == "--help" ? 0 : 2;
        } else {
            path = a;
        }
    }
    if (path.empty()) {
        std::fprintf(stderr, "usage: agmodel-inspect MODEL [-c ctx]\n");
        return 2;
    }
    agm::Error err;
    std::vector<uint8_t> raw;
    if (!agm::read_whole_file(path, &raw, &err)) {
        std::fprintf(stderr, "agmodel-inspect: %s\n", err.msg);
        return 1;
    }
    // An aligned copy: the reader (like the engine) wants 64-byte alignment.
    void* buf = nullptr;
    if (raw.empty() || posix_memalign(&buf, AGM_FILE_ALIGN, raw.size()) != 0) {
        std::fprintf(stderr, "agmodel-inspect: %s: empty file or out of memory\n", path.c_str());
        return 1;
    }
    std::memcpy(buf, raw.data(), raw.size());
    const uint8_t* data = static_cast<const uint8_t*>(buf);

    agm::FileView f;
    if (!agm::parse_model_file(data, raw.size(), false, &f, &err)) {
        std::fprintf(stderr, "agmodel-inspect: %s: %s\n", path.c_str(), err.msg);
        std::free(buf);
        return 1;
    }
    const uint32_t crc = agm::model_file_checksum(data, raw.size());
    const bool crc_ok = crc == f.checksum;
    const agm::ModelConfig& c = f.config;
    std::printf("file: %s\n", path.c_str());
    std::printf("format: agmodel version %u, %llu bytes\n", f.version, (unsigned long long)f.size);
    std::printf("checksum: crc32 %08x %s\n", f.checksum,
                crc_ok ? "OK" : "MISMATCH (the file is damaged)");
    if (f.metadata_bytes > 0) {
        std::printf("metadata:\n");
        const char* p = f.metadata;
        const char* end = f.metadata + f.metadata_bytes;
        while (p < end) {
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', (size_t)(end - p)));
            const char* stop = nl ? nl : end;
            std::printf("  %.*s\n", (int)(stop - p), p);
            p = stop + 1;
        }
    }
    if (f.chat_template != nullptr)
        std::printf("chat template: %zu bytes (agmodel-serve reads it)\n", f.chat_template_bytes);
    std::printf("config:\n");
    std::printf("  arch             bitnet-llama (%u)\n", c.arch);
    std::printf("  dim              %u\n  hidden_dim       %u\n  n_layers         %u\n", c.dim,
                c.hidden_dim, c.n_layers);
    std::printf("  n_heads          %u\n  n_kv_heads       %u\n  head_dim         %u\n", c.n_heads,
                c.n_kv_heads, c.head_dim);
    std::printf("  vocab_size       %u\n  max_seq_len      %u\n", c.vocab_size, c.max_seq_len);
    std::printf("  norm input/sub/output  %s / %s / %s, eps %g\n", norm_name(c.norm_input),
                norm_name(c.norm_sub), norm_name(c.norm_output), (double)c.norm_eps);
    std::printf("  ffn              %s\n", c.ffn_act == AGM_FFN_SILU_GATED ? "silu, gated" : "relu^2, gated");
    std::printf("  rope             theta %g, %s\n", (double)c.rope_theta,
                c.rope_layout == AGM_ROPE_INTERLEAVED ? "interleaved pairs" : "halves");
    std::printf("  classifier       %s\n", c.tied_classifier ? "tied to the embedding" : "separate");
    if (f.tokenizer.n_tokens > 0 && f.tokenizer.kind == AGM_TOKENIZER_BPE_BYTES) {
        const agm::TokenizerView& t = f.tokenizer;
        const char* pre = t.pre_tokenizer == AGM_PRE_GPT2 ? "gpt-2" : t.pre_tokenizer == AGM_PRE_LLAMA3 ? "llama-3" : "falcon";
        std::printf("tokenizer: byte-level bpe, %u tokens, %u merges, pre-tokenizer %s, bos %d, eos %d, unk %d, flags:%s%s\n",
                    t.n_tokens, t.n_merges, pre, t.bos_id, t.eos_id, t.unk_id,
                    (t.flags & AGM_TOK_IGNORE_MERGES) ? " ignore_merges" : "",
                    (t.flags & AGM_TOK_NO_BOS) ? " no_bos" : "");
    } else if (f.tokenizer.n_tokens > 0) {
        const agm::TokenizerView& t = f.tokenizer;
        std::printf("tokenizer: sentencepiece bpe, %u tokens, bos %d, eos %d, unk %d, flags:%s%s%s%s%s\n",
                    t.n_tokens, t.bos_id, t.eos_id, t.unk_id,
                    (t.flags & AGM_TOK_ADD_DUMMY_PREFIX) ? " add_dummy_prefix" : "",
                    (t.flags & AGM_TOK_REMOVE_EXTRA_WS) ? " remove_extra_whitespaces" : "",
                    (t.flags & AGM_TOK_ESCAPE_WS) ? " escape_whitespaces" : "",
                    (t.flags & AGM_TOK_BYTE_FALLBACK) ? " byte_fallback" : "",
                    (t.flags & AGM_TOK_NO_BOS) ? " no_bos" : "");
    } else {
        std::printf("tokenizer: none\n");
    }
    std::printf("tensors: %u\n", f.n_tensors);
    uint64_t ternary_weights = 0, total_bytes = 0;
    for (uint32_t i = 0; i < f.n_tensors; ++i) {
        const agm_tensor_entry& e = f.tensors[i];
        char shape[64];
        int n = 0;
        for (uint32_t d = 0; d < e.n_dims; ++d)
            n += std::snprintf(shape + n, sizeof shape - n, d ? " x %u" : "%u", e.shape[d]);
        const agm::TensorTypeInfo* ti = agm::tensor_type_info(e.type);
        std::printf("  %-24s %-8s [%s] %10llu bytes", e.name, ti->name, shape,
                    (unsigned long long)e.bytes);
        if (ti->per_tensor_scale) std::printf("  scale %.6g", (double)e.scale);
        std::printf("\n");
        if (agm::is_ternary_type(e.type)) ternary_weights += (uint64_t)e.shape[0] * e.shape[1];
        total_bytes += e.bytes;
    }
    std::printf("weights: %llu ternary, tensor data %llu bytes\n",
                (unsigned long long)ternary_weights, (unsigned long long)total_bytes);

    int rc = crc_ok ? 0 : 1;
    agm_model* model = nullptr;
    agm_error e;
    agm_open_options oo;
    agm_open_options_default(&oo);
    oo.verify_checksum = 0;
    const agm_status st = agm_model_open_memory(data, raw.size(), &oo, &model, &e);
    if (st != AGM_OK) {
        std::printf("engine: cannot run this file: %s\n", e.message);
        rc = 1;
    } else {
        agm_model_info info;
        agm_model_get_info(model, &info);
        agm_session_options so;
        agm_session_options_default(&so);
        so.n_ctx = (uint32_t)n_ctx;
        size_t bytes = 0;
        if (agm_session_memory_size(model, &so, &bytes, &e) == AGM_OK) {
            std::printf("memory: model file %llu bytes (mapped), model state %llu bytes, session "
                        "%zu bytes at context %u (KV cache f32)\n",
                        (unsigned long long)info.file_bytes, (unsigned long long)info.model_bytes,
                        bytes, so.n_ctx ? so.n_ctx : info.max_seq_len);
        } else {
            std::printf("memory: %s\n", e.message);
            rc = 1;
        }
        agm_model_close(model);
    }
    std::free(buf);
    return rc;
}
