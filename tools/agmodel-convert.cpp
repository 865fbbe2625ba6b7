// agmodel-convert: brings a model into the native format.
//
//   agmodel-convert INPUT -o OUTPUT [--tokenizer FILE] [--bit-order msb|lsb]
//                   [--packing t2|tl5] [--embedding f32|q4|tl5] [--rope interleaved|halves]
//
// The input format is recognised from its content: GGUF (llama.cpp's and
// bitnet.cpp's ternary models, docs/formats.md) or the "ak42" BitNet
// checkpoint of bitllama2.c; a directory is a Hugging Face checkpoint
// (config.json, safetensors, tokenizer). GGUF and Hugging Face inputs carry
// their own tokenizer. The tokenizer is a llama2.c tokenizer.bin or a
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

#include <sys/stat.h>

#include "agm/convert.h"
#include "agm/convert_gguf.h"
#include "agm/convert_hf.h"
#include "agm/hf_checkpoint.h"
#include "agm/gguf.h"
#include "agm/import.h"
#include "agm/model_writer.h"
#include "tool_util.h"

namespace {

using agm::Error;

void usage(FILE* f) {
    std::fprintf(f,
                 "usage: agmodel-convert INPUT -o OUTPUT [--tokenizer FILE] [--bit-order msb|lsb]\n"
                 "                       [--packing t2|tl5] [--embedding f32|q4|tl5]\n"
                 "                       [--rope interleaved|halves] [--bitnet-latent]\n"
                 "  INPUT        a GGUF file (llama, bitnet, bitnet-b1.58, bitnet-25; TQ1_0, TQ2_0,\n"
                 "               I2_S ...), a Hugging Face checkpoint directory (config.json +\n"
                 "               safetensors) or an ak42 BitNet checkpoint: docs/formats.md\n"
                 "  -o OUTPUT    the native model file to write (atomically)\n"
                 "  --tokenizer  llama2.c tokenizer.bin or SentencePiece tokenizer.model\n"
                 "               (default: tokenizer.bin beside INPUT, if present)\n"
                 "  --bit-order  where the first weight of each packed byte sits in the ak42\n"
                 "               file: msb (bits 7..6, bitllama2.c's export; default) or lsb\n"
                 "  --packing    ternary weights as tl5 (tl5_r4, 1.6 bits/weight, the ARM11\n"
                 "               lookup-table kernels'; default) or t2 (t2_b128, 2 bits/weight)\n"
                 "  --embedding  the embedding and classifier as f32 (exact; default), q4\n"
                 "               (q4_b32: 4.3 bits/value, 4-bit values with block scales) or\n"
                 "               tl5 (tl5_r4s: 1.6 bits/value, ternary with a scale per row)\n"
                 "  --rope       GGUF only: interleaved or halves, overriding the architecture's\n"
                 "               RoPE pairing (for files whose converter permuted Q/K otherwise)\n"
                 "  --bitnet-latent  Hugging Face LlamaForCausalLM only: the float matrices are\n"
                 "               latent BitNet b1.58 weights, quantised here (absmean)\n");
}

const char* type_label(uint32_t type) {
    switch (type) {
        case AGM_TYPE_T2_B128: return "t2_b128";
        case AGM_TYPE_TL5_R4: return "tl5_r4";
        case AGM_TYPE_Q4_B32: return "q4_b32";
        case AGM_TYPE_TL5_R4S: return "tl5_r4s";
        default: return "f32";
    }
}

// What the file is made of, against the input (docs/formats.md, "Sizes").
void print_report(const agm::SizeReport& r, uint32_t packing, uint32_t embedding, uint64_t input_bytes) {
    std::fprintf(stderr,
                 "agmodel-convert: %u ternary matrices: %llu bytes in the input, %llu as %s\n"
                 "agmodel-convert: %u other tensors: %llu bytes in the input, %llu as stored (embedding %s)\n"
                 "agmodel-convert: file %llu bytes (%llu of headers, tokenizer, metadata and alignment); "
                 "input %llu bytes\n",
                 r.n_ternary, (unsigned long long)r.input_ternary, (unsigned long long)r.output_ternary,
                 type_label(packing), r.n_other, (unsigned long long)r.input_other,
                 (unsigned long long)r.output_other, type_label(embedding), (unsigned long long)r.output_file,
                 (unsigned long long)r.output_overhead, (unsigned long long)input_bytes);
}

// GGUF input: parse, import, pack.
int convert_gguf_file(const std::string& input, const std::vector<uint8_t>& in, uint32_t rope,
                      const agm::BuildOptions& build, std::vector<uint8_t>* out) {
    Error err;
    agm::GgufFile f;
    agm::ImportModel m;
    agm::GgufImportOptions o;
    o.rope_layout = rope;
    agm::SizeReport report;
    if (!agm::parse_gguf(in.data(), in.size(), &f, &err) || !agm::import_gguf(f, o, &m, &err)) {
        std::fprintf(stderr, "agmodel-convert: %s: %s\n", input.c_str(), err.msg);
        return 1;
    }
    if (!agm::build_native_file(m, build, out, &report, &err)) {
        std::fprintf(stderr, "agmodel-convert: %s: %s\n", input.c_str(), err.msg);
        return 1;
    }
    print_report(report, build.ternary_type, build.embedding_type, in.size());
    return 0;
}

// A Hugging Face checkpoint directory: load, import, pack.
int convert_hf_dir(const std::string& input, bool latent, const agm::BuildOptions& build,
                   std::vector<uint8_t>* out) {
    Error err;
    agm::HfCheckpoint ck;
    agm::ImportModel m;
    agm::HfImportOptions o;
    o.bitnet_latent = latent;
    agm::SizeReport report;
    if (!agm::load_hf_checkpoint(input, &ck, &err) || !agm::import_hf(ck, o, &m, &err) ||
        !agm::build_native_file(m, build, out, &report, &err)) {
        std::fprintf(stderr, "agmodel-convert: %s: %s\n", input.c_str(), err.msg);
        return 1;
    }
    if (!m.has_vocab)
        std::fprintf(stderr, "agmodel-convert: warning: %s has no tokenizer.model or tokenizer.json; the output cannot encode text\n",
                     input.c_str());
    uint64_t in_bytes = 0;
    for (const auto& s : ck.shards) in_bytes += s->size;
    print_report(report, build.ternary_type, build.embedding_type, in_bytes);
    return 0;
}

// Writes the image atomically and says so.
int write_output(const std::string& output, const std::vector<uint8_t>& out) {
    Error err;
    if (!agm::write_file_atomic(output, out.data(), out.size(), &err)) {
        std::fprintf(stderr, "agmodel-convert: %s\n", err.msg);
        return 1;
    }
    std::fprintf(stderr, "agmodel-convert: wrote %s (%zu bytes)\n", output.c_str(), out.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // A file-size limit (ulimit -f) must make write() fail with EFBIG, which
    // we report and clean up after, instead of killing the process mid-file.
    std::signal(SIGXFSZ, SIG_IGN);
    std::string input, output, tokenizer;
    agm::BitOrder order = agm::BitOrder::Msb;
    uint32_t packing = AGM_TYPE_TL5_R4;
    uint32_t embedding = AGM_TYPE_F32;
    uint32_t rope = 0;
    bool latent = false;
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
        } else if (a == "--packing") {
            const std::string v = value("--packing");
            if (v == "t2") packing = AGM_TYPE_T2_B128;
            else if (v == "tl5") packing = AGM_TYPE_TL5_R4;
            else {
                std::fprintf(stderr, "agmodel-convert: --packing must be t2 or tl5, not '%s'\n", v.c_str());
                return 2;
            }
        } else if (a == "--embedding") {
            const std::string v = value("--embedding");
            if (v == "f32") embedding = AGM_TYPE_F32;
            else if (v == "q4") embedding = AGM_TYPE_Q4_B32;
            else if (v == "tl5") embedding = AGM_TYPE_TL5_R4S;
            else {
                std::fprintf(stderr, "agmodel-convert: --embedding must be f32, q4 or tl5, not '%s'\n", v.c_str());
                return 2;
            }
        } else if (a == "--rope") {
            const std::string v = value("--rope");
            if (v == "interleaved") rope = AGM_ROPE_INTERLEAVED;
            else if (v == "halves") rope = AGM_ROPE_HALVES;
            else {
                std::fprintf(stderr, "agmodel-convert: --rope must be interleaved or halves, not '%s'\n", v.c_str());
                return 2;
            }
        } else if (a == "--bitnet-latent") {
            latent = true;
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
    agm::BuildOptions build;
    build.ternary_type = packing;
    build.embedding_type = embedding;
    struct stat st;
    if (::stat(input.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        std::vector<uint8_t> out;
        const int rc = convert_hf_dir(input, latent, build, &out);
        return rc != 0 ? rc : write_output(output, out);
    }
    std::vector<uint8_t> in;
    if (!agm::read_whole_file(input, &in, &err)) {
        std::fprintf(stderr, "agmodel-convert: %s\n", err.msg);
        return 1;
    }
    if (in.size() >= 4 && std::memcmp(in.data(), "GGUF", 4) == 0) {
        std::vector<uint8_t> out;
        const int rc = convert_gguf_file(input, in, rope, build, &out);
        return rc != 0 ? rc : write_output(output, out);
    }
    if (!agm::is_ak42(in.data(), in.size())) {
        std::fprintf(stderr,
                     "agmodel-convert: %s: input format not recognised (supported: GGUF, a Hugging Face "
                     "checkpoint directory, ak42 BitNet checkpoint)\n", input.c_str());
        return 1;
    }
    // Validate the whole checkpoint first: the tokenizer is read with its
    // vocabulary size.
    agm::Ak42Model checkpoint;
    if (!agm::read_ak42(in.data(), in.size(), &checkpoint, &err)) {
        std::fprintf(stderr, "agmodel-convert: %s: %s\n", input.c_str(), err.msg);
        return 1;
    }
    const uint32_t vocab_size = (uint32_t)checkpoint.vocab_size;

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
    if (!tokenizer.empty() && !agm::load_tokenizer_file(tokenizer, vocab_size, &vocab, &tok_kind, &err)) {
        std::fprintf(stderr, "agmodel-convert: %s\n", err.msg);
        return 1;
    }
    std::vector<uint8_t> out;
    const std::string base = input.substr(input.find_last_of('/') + 1);
    if (!agm::convert_ak42(in.data(), in.size(), order, packing, embedding, tokenizer.empty() ? nullptr : &vocab,
                           tok_kind, base, &out, &err)) {
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
