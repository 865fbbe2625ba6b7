// agm_pizero_driver: the workload bench/pizero-estimate measures.
//
//   agm_pizero_driver MODEL decode|prompt [--tokens N] [--kv f32|f16|q8]
//
// Runs under `qemu-arm -cpu arm1176` with the cycle plugin
// (qemu/plugin/agm_cycles.c) and brackets exactly the measured work with the
// plugin's begin/end markers:
//   decode  BOS at position 0 (not measured), then N greedy tokens at
//           positions 1..N, one agm_session_feed + one sample each
//           (default N = 128);
//   prompt  N prompt tokens (BOS, then a fixed English text's tokens,
//           repeated as needed) in one agm_session_feed from position 0
//           (default N = 64).
// The engine's own markers (engine/src/perf_regions.h, built in with
// -DAGM_PERF_MARKERS=ON) split the measured part into operations.
//
// It prints `key=value` lines on stdout: the workload (tokens, the model's
// shape) and the memory term's inputs, the bytes one token streams from
// DRAM:
//   weight_bytes_per_token  every tensor the forward pass reads, in full, as
//                           stored in the file (the token embedding: one
//                           row, unless it is also the classifier); in
//                           prompt mode the classifier once per prompt and
//                           the tl5_r4 matrices once per two tokens (a feed
//                           runs two tokens per pass)
//   ternary_weights_per_token  the ternary matrices' weights (rows x cols)
//   kv_bytes_per_token      KV cache rows attention reads (positions 0..p
//                           for K and V of every layer) plus the row it
//                           writes, averaged over the measured positions
// Nothing stays in the caches between tokens on a Pi Zero: its L2 is 128 KB
// and even the 3M model's weights are 1.3 MB, so every byte counts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agm/model_file.h"
#include "agm_marker.h"
#include "agmodel.h"

namespace {

const char kPromptText[] =
    "Once upon a time, a farmer put a small computer in his field. It read the soil and the "
    "rain every hour, and at night it wrote him a short story about what it had seen.";

int usage() {
    std::fprintf(stderr, "usage: agm_pizero_driver MODEL decode|prompt [--tokens N] [--kv f32|f16|q8]\n");
    return 2;
}

int fail(const char* what, const agm_error& e) {
    std::fprintf(stderr, "agm_pizero_driver: %s: %s\n", what, e.message);
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) return usage();
    const std::string path = argv[1], mode = argv[2];
    if (mode != "decode" && mode != "prompt") return usage();
    const bool decode = mode == "decode";
    long tokens = decode ? 128 : 64;
    uint32_t kv = AGM_KV_F32;
    for (int i = 3; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return usage();
        const char* v = argv[++i];
        if (a == "--tokens") {
            tokens = std::strtol(v, nullptr, 10);
            if (tokens < 1 || tokens > 100000) return usage();
        } else if (a == "--kv") {
            if (std::strcmp(v, "f32") == 0) kv = AGM_KV_F32;
            else if (std::strcmp(v, "f16") == 0) kv = AGM_KV_F16;
            else if (std::strcmp(v, "q8") == 0) kv = AGM_KV_Q8;
            else return usage();
        } else {
            return usage();
        }
    }

    // The file's tensor table, for the memory term.
    const int fd = open(path.c_str(), O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
        std::fprintf(stderr, "agm_pizero_driver: cannot open %s\n", path.c_str());
        return 1;
    }
    void* mapped = mmap(nullptr, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (mapped == MAP_FAILED) {
        std::fprintf(stderr, "agm_pizero_driver: cannot map %s\n", path.c_str());
        return 1;
    }
    agm::Error ferr;
    agm::FileView view;
    if (!agm::parse_model_file(static_cast<const uint8_t*>(mapped), (uint64_t)st.st_size, false, &view,
                               &ferr)) {
        std::fprintf(stderr, "agm_pizero_driver: %s\n", ferr.msg);
        return 1;
    }
    const agm::ModelConfig& c = view.config;

    agm_open_options mo;
    agm_open_options_default(&mo);
    mo.verify_checksum = 0;  // the same file was parsed above; the CRC is not the workload
    agm_model* model = nullptr;
    agm_error e;
    if (agm_model_open_file(path.c_str(), &mo, &model, &e) != AGM_OK) return fail("open", e);
    agm_session_options so;
    agm_session_options_default(&so);
    so.n_ctx = (uint32_t)tokens + 1;
    so.kv_type = kv;
    agm_session* s = nullptr;
    if (agm_session_create(model, &so, &s, &e) != AGM_OK) return fail("session", e);

    // Bytes per token read from the file.
    uint64_t per_token = 0, classifier = 0, ternary = 0;
    for (uint32_t i = 0; i < view.n_tensors; ++i) {
        const agm_tensor_entry& t = view.tensors[i];
        if (t.type == AGM_TYPE_T2_B128 || t.type == AGM_TYPE_TL5_R4)
            ternary += (uint64_t)t.shape[0] * t.shape[1];
        const bool embd = std::strcmp(t.name, "token_embd") == 0;
        const bool out = std::strcmp(t.name, "output") == 0 || (embd && c.tied_classifier);
        if (out) classifier += t.bytes;
        else if (embd) per_token += t.bytes / t.shape[0];
        else if (t.type == AGM_TYPE_TL5_R4 && !decode) per_token += t.bytes / 2;  // read once per two tokens
        else per_token += t.bytes;
    }
    if (c.tied_classifier) per_token += classifier / c.vocab_size;  // the embedding row
    const double weight_bytes =
        (double)per_token + (decode ? (double)classifier : (double)classifier / (double)tokens);
    // KV bytes: per layer and position, K and V rows of kv_dim values.
    const double value = kv == AGM_KV_F16 ? 2.0 : kv == AGM_KV_Q8 ? 1.0 : 4.0;
    const double row = (double)c.kv_dim() * value + (kv == AGM_KV_Q8 ? 4.0 * c.n_kv_heads : 0.0);
    const long first = decode ? 1 : 0;  // the measured positions: first .. first + tokens - 1
    const double mean_read_rows = (double)first + ((double)tokens + 1.0) / 2.0;  // positions 0..p
    const double kv_bytes = 2.0 * c.n_layers * row * (mean_read_rows + 1.0);

    std::vector<int32_t> ids((size_t)tokens + 1);
    int32_t next = 1;  // BOS
    agm_sampler sampler;
    agm_sampler_init(&sampler, nullptr);  // greedy
    if (decode) {
        if (agm_session_feed(s, &next, 1, &e) != AGM_OK) return fail("feed", e);
        if (agm_session_sample(s, &sampler, &next, &e) != AGM_OK) return fail("sample", e);
        agm_perf_begin();
        for (long i = 0; i < tokens; ++i) {
            ids[(size_t)i] = next;
            if (agm_session_feed(s, &next, 1, &e) != AGM_OK) return fail("feed", e);
            if (agm_session_sample(s, &sampler, &next, &e) != AGM_OK) return fail("sample", e);
        }
        agm_perf_end();
    } else {
        size_t n = 0;
        std::vector<int32_t> text(sizeof kPromptText + 2);
        if (agm_tokenize(model, kPromptText, std::strlen(kPromptText), 0, text.data(), text.size(), &n,
                         &e) != AGM_OK)
            return fail("tokenize", e);
        ids[0] = 1;
        for (long i = 1; i < tokens; ++i) ids[(size_t)i] = text[(size_t)(i - 1) % n];
        agm_perf_begin();
        if (agm_session_feed(s, ids.data(), (size_t)tokens, &e) != AGM_OK) return fail("feed", e);
        agm_perf_end();
        if (agm_session_sample(s, &sampler, &next, &e) != AGM_OK) return fail("sample", e);
    }

    std::printf("mode=%s\ntokens=%ld\nkv=%s\n", mode.c_str(), tokens,
                kv == AGM_KV_F16 ? "f16" : kv == AGM_KV_Q8 ? "q8" : "f32");
    std::printf("n_layers=%u\ndim=%u\nhidden_dim=%u\nvocab=%u\n", c.n_layers, c.dim, c.hidden_dim,
                c.vocab_size);
    std::printf("file_bytes=%llu\n", (unsigned long long)view.size);
    std::printf("ternary_weights_per_token=%llu\n", (unsigned long long)ternary);
    std::printf("classifier_weights=%llu\n", (unsigned long long)c.vocab_size * c.dim);
    std::printf("weight_bytes_per_token=%.0f\nkv_bytes_per_token=%.0f\n", weight_bytes, kv_bytes);
    std::printf("last_token=%d\n", next);  // the work's result, so none of it is dead
    agm_session_free(s);
    agm_model_close(model);
    return 0;
}
