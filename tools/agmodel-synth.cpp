// agmodel-synth: writes a native model of any configuration with random
// ternary weights and a real vocabulary, for speed and memory measurements
// (docs/performance.md: the LITE and M300 reference models).
//
//   agmodel-synth --preset lite|m300|tiny -o OUTPUT [--seed N] [overrides...]
//
// Same options and seed, same bytes (formats/include/agm/synth.h). The
// output is written atomically.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

#include "agm/convert.h"
#include "agm/model_writer.h"
#include "agm/synth.h"
#include "tool_util.h"

namespace {

void usage(FILE* f) {
    std::fprintf(f,
        "usage: agmodel-synth (--preset NAME | --dim N --hidden-dim N --layers N --heads N --vocab N)\n"
        "                     -o OUTPUT [options]\n"
        "  --preset NAME     tiny (the 3M model's shapes, vocab 512), lite (12 x 512, FFN 1536,\n"
        "                    8 heads, vocab 32000) or m300 (24 x 1024, FFN 2816, 16/4 heads,\n"
        "                    vocab 32000); the options below override its values\n"
        "  --dim N, --hidden-dim N, --layers N, --heads N, --kv-heads N (default: heads),\n"
        "  --head-dim N (default dim/heads), --vocab N, --seq-len N (default 2048)\n"
        "  --norm-input K, --norm-sub K, --norm-output K   none | rms | rmsn (weightless RMS/n)\n"
        "                    (default rmsn, rmsn, rms: bitllama2.c's layout)\n"
        "  --norm-eps E, --ffn silu|relu2, --rope-theta T, --rope-layout interleaved|halves,\n"
        "  --untied          a separate f32 classifier (default: tied to the embedding)\n"
        "  --packing P       ternary matrices as t2 (t2_b128, default) or tl5 (tl5_r4)\n"
        "  --embedding E     embedding and classifier as f32 (default), q4 (q4_b32) or tl5 (tl5_r4s)\n"
        "  --zero-fraction F share of zero weights (default 0.333333)\n"
        "  --seed N          random seed (default 1)\n"
        "  --tokenizer FILE  llama2.c tokenizer.bin or SentencePiece tokenizer.model with exactly\n"
        "                    the vocabulary size (default for vocab 32000: the shared Llama 2\n"
        "                    tokenizer.model; for 512: the 3M model's tokenizer.bin)\n"
        "  --no-tokenizer    write no tokenizer (the file cannot encode text)\n"
        "  -o OUTPUT         the model file to write\n");
}

bool file_exists(const std::string& p) {
    if (FILE* f = std::fopen(p.c_str(), "rb")) {
        std::fclose(f);
        return true;
    }
    return false;
}

// The shared material (../shared beside the repository): from the
// environment, from the current directory (the repository root), or from
// the executable's place in a build tree (REPO/build/NAME/tools/).
std::string find_shared(const std::string& rel) {
    std::vector<std::string> dirs;
    if (const char* e = std::getenv("AGM_SHARED_DIR")) dirs.push_back(e);
    dirs.push_back("../shared");
    char exe[4096];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        std::string d = exe;
        d = d.substr(0, d.find_last_of('/'));
        dirs.push_back(d + "/../../../../shared");
    }
    for (const std::string& d : dirs)
        if (file_exists(d + "/" + rel)) return d + "/" + rel;
    return std::string();
}

bool parse_norm(const std::string& v, uint32_t* out) {
    if (v == "none") *out = AGM_NORM_NONE;
    else if (v == "rms") *out = AGM_NORM_RMS;
    else if (v == "rmsn") *out = AGM_NORM_RMS_DIV_N;
    else return false;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGXFSZ, SIG_IGN);  // a file-size limit fails write(), reported and cleaned up
    agm::SynthConfig c;
    c.max_seq_len = 2048;
    std::string preset = "custom", output, tokenizer;
    bool no_tokenizer = false, kv_given = false;
    // Options apply after the preset, whatever their order on the line.
    std::vector<std::pair<std::string, std::string>> opts;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        }
        if (a == "--no-tokenizer") { no_tokenizer = true; continue; }
        if (a == "--untied") { opts.emplace_back(a, ""); continue; }
        if (a.empty() || a[0] != '-') {
            std::fprintf(stderr, "agmodel-synth: unexpected argument '%s'\n", a.c_str());
            usage(stderr);
            return 2;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "agmodel-synth: %s needs a value\n", a.c_str());
            return 2;
        }
        const std::string v = argv[++i];
        if (a == "--preset") {
            if (!agm::synth_preset(v.c_str(), &c)) {
                std::fprintf(stderr, "agmodel-synth: unknown preset '%s' (tiny, lite, m300)\n", v.c_str());
                return 2;
            }
            preset = v;
        } else if (a == "-o" || a == "--output") {
            output = v;
        } else if (a == "--tokenizer") {
            tokenizer = v;
        } else {
            opts.emplace_back(a, v);
        }
    }
    for (const auto& o : opts) {
        const std::string& a = o.first;
        const char* v = o.second.c_str();
        long long n = 0;
        double d = 0;
        auto num = [&](long long lo, long long hi) {
            if (agm::parse_long(v, lo, hi, &n)) return true;
            std::fprintf(stderr, "agmodel-synth: %s wants a whole number %lld..%lld, not '%s'\n",
                         a.c_str(), lo, hi, v);
            return false;
        };
        auto real = [&](double lo, double hi) {
            if (agm::parse_float(v, lo, hi, &d)) return true;
            std::fprintf(stderr, "agmodel-synth: %s wants a number in [%g, %g], not '%s'\n", a.c_str(), lo,
                         hi, v);
            return false;
        };
        bool ok = true;
        if (a == "--dim") { ok = num(1, 1 << 18); c.dim = (uint32_t)n; }
        else if (a == "--hidden-dim") { ok = num(1, 1 << 18); c.hidden_dim = (uint32_t)n; }
        else if (a == "--layers") { ok = num(1, 1024); c.n_layers = (uint32_t)n; }
        else if (a == "--heads") { ok = num(1, 4096); c.n_heads = (uint32_t)n; }
        else if (a == "--kv-heads") { ok = num(1, 4096); c.n_kv_heads = (uint32_t)n; kv_given = true; }
        else if (a == "--head-dim") { ok = num(2, 4096); c.head_dim = (uint32_t)n; }
        else if (a == "--vocab") { ok = num(1, 1 << 18); c.vocab_size = (uint32_t)n; }
        else if (a == "--seq-len") { ok = num(1, 1 << 20); c.max_seq_len = (uint32_t)n; }
        else if (a == "--seed") { ok = agm::parse_long(v, 0, INT64_MAX, &n); c.seed = (uint64_t)n;
            if (!ok) std::fprintf(stderr, "agmodel-synth: --seed wants a whole number >= 0, not '%s'\n", v); }
        else if (a == "--zero-fraction") { ok = real(0.0, 1.0); c.zero_fraction = d; }
        else if (a == "--norm-eps") { ok = real(0.0, 0.999); c.norm_eps = (float)d; }
        else if (a == "--rope-theta") { ok = real(1e-3, 1e12); c.rope_theta = (float)d; }
        else if (a == "--untied") { c.tied_classifier = 0; }
        else if (a == "--norm-input" || a == "--norm-sub" || a == "--norm-output") {
            uint32_t* k = a == "--norm-input" ? &c.norm_input : a == "--norm-sub" ? &c.norm_sub : &c.norm_output;
            ok = parse_norm(o.second, k);
            if (!ok) std::fprintf(stderr, "agmodel-synth: %s must be none, rms or rmsn, not '%s'\n", a.c_str(), v);
        } else if (a == "--ffn") {
            ok = o.second == "silu" || o.second == "relu2";
            c.ffn_act = o.second == "relu2" ? AGM_FFN_RELU2_GATED : AGM_FFN_SILU_GATED;
            if (!ok) std::fprintf(stderr, "agmodel-synth: --ffn must be silu or relu2, not '%s'\n", v);
        } else if (a == "--rope-layout") {
            ok = o.second == "interleaved" || o.second == "halves";
            c.rope_layout = o.second == "halves" ? AGM_ROPE_HALVES : AGM_ROPE_INTERLEAVED;
            if (!ok) std::fprintf(stderr, "agmodel-synth: --rope-layout must be interleaved or halves, not '%s'\n", v);
        } else if (a == "--packing") {
            ok = o.second == "t2" || o.second == "tl5";
            c.ternary_type = o.second == "tl5" ? AGM_TYPE_TL5_R4 : AGM_TYPE_T2_B128;
            if (!ok) std::fprintf(stderr, "agmodel-synth: --packing must be t2 or tl5, not '%s'\n", v);
        } else if (a == "--embedding") {
            ok = o.second == "f32" || o.second == "q4" || o.second == "tl5";
            c.embedding_type = o.second == "q4" ? AGM_TYPE_Q4_B32 : o.second == "tl5" ? AGM_TYPE_TL5_R4S : AGM_TYPE_F32;
            if (!ok) std::fprintf(stderr, "agmodel-synth: --embedding must be f32, q4 or tl5, not '%s'\n", v);
        } else {
            std::fprintf(stderr, "agmodel-synth: unknown option %s\n", a.c_str());
            usage(stderr);
            return 2;
        }
        if (!ok) return 2;
    }
    if (!kv_given && c.n_kv_heads == 0) c.n_kv_heads = c.n_heads;
    if (output.empty()) {
        std::fprintf(stderr, "agmodel-synth: no output file (-o OUTPUT)\n");
        return 2;
    }
    if (c.dim == 0 || c.hidden_dim == 0 || c.n_layers == 0 || c.n_heads == 0 || c.vocab_size == 0) {
        std::fprintf(stderr, "agmodel-synth: give --preset, or all of --dim --hidden-dim --layers --heads --vocab\n");
        return 2;
    }
    agm::Error err;
    if (!agm::synth_check(c, &err)) {
        std::fprintf(stderr, "agmodel-synth: %s\n", err.msg);
        return 2;
    }

    if (no_tokenizer && !tokenizer.empty()) {
        std::fprintf(stderr, "agmodel-synth: --tokenizer and --no-tokenizer contradict each other\n");
        return 2;
    }
    agm::Vocab vocab;
    if (!no_tokenizer) {
        if (tokenizer.empty()) {
            const char* rel = c.vocab_size == 32000 ? "tokenizers/llama2-32k/tokenizer.model"
                            : c.vocab_size == 512 ? "models/bitnet-tinystories-3m/tokenizer.bin" : nullptr;
            if (rel == nullptr) {
                std::fprintf(stderr, "agmodel-synth: no default tokenizer for vocabulary size %u (there are "
                             "for 512 and 32000): give --tokenizer FILE with %u tokens, or --no-tokenizer\n",
                             c.vocab_size, c.vocab_size);
                return 2;
            }
            tokenizer = find_shared(rel);
            if (tokenizer.empty()) {
                std::fprintf(stderr, "agmodel-synth: default tokenizer ../shared/%s not found (set "
                             "AGM_SHARED_DIR, or give --tokenizer FILE or --no-tokenizer)\n", rel);
                return 1;
            }
        }
        if (!agm::load_tokenizer_file(tokenizer, c.vocab_size, &vocab, &c.tokenizer_source, &err)) {
            std::fprintf(stderr, "agmodel-synth: %s\n", err.msg);
            return 1;
        }
        if (vocab.pieces.size() != c.vocab_size) {
            std::fprintf(stderr, "agmodel-synth: tokenizer %s has %zu tokens but the vocabulary size is %u: "
                         "give --vocab %zu, or a tokenizer with %u tokens\n", tokenizer.c_str(),
                         vocab.pieces.size(), c.vocab_size, vocab.pieces.size(), c.vocab_size);
            return 2;
        }
    }

    std::vector<uint8_t> out;
    if (!agm::synth_model(c, no_tokenizer ? nullptr : &vocab, &out, &err)) {
        std::fprintf(stderr, "agmodel-synth: %s\n", err.msg);
        return 1;
    }
    if (!agm::write_file_atomic(output, out.data(), out.size(), &err)) {
        std::fprintf(stderr, "agmodel-synth: %s\n", err.msg);
        return 1;
    }
    std::printf("agmodel-synth: %s: %s, %llu parameters (%u layers, dim %u, ffn %u, heads %u/%u, vocab %u, %s, embedding %s), "
                "seed %llu, %zu bytes\n", output.c_str(), preset.c_str(),
                (unsigned long long)agm::synth_param_count(c), c.n_layers, c.dim, c.hidden_dim, c.n_heads,
                c.n_kv_heads, c.vocab_size, c.ternary_type == AGM_TYPE_TL5_R4 ? "tl5_r4" : "t2_b128",
                c.embedding_type == AGM_TYPE_Q4_B32 ? "q4_b32" : c.embedding_type == AGM_TYPE_TL5_R4S ? "tl5_r4s" : "f32",
                (unsigned long long)c.seed, out.size());
    return 0;
}
