// agm_pizero_driver: the workload bench/pizero-estimate measures.
//
//   agm_pizero_driver MODEL decode|prompt [--tokens N] [--kv f32|f16|q8]
//   agm_pizero_driver MODEL json --grammar FILE [--tokens N] [--kv ...]
//                     [--no-jump-forward] [--no-sparse-classifier] [--reports N]
//                     [--no-precompute]
//   agm_pizero_driver MODEL ttft [--prefix P] [--query Q] [--restore] [--snapshot FILE]
//                     [--kv ...]
//
// Runs under `qemu-arm -cpu arm1176` with the cycle plugin
// (qemu/plugin/agm_cycles.c) and brackets exactly the measured work with the
// plugin's begin/end markers:
//   decode  BOS at position 0 (not measured), then N greedy tokens at
//           positions 1..N, one agm_session_feed + one sample each
//           (default N = 128);
//   prompt  N prompt tokens (BOS, then a fixed English text's tokens,
//           repeated as needed) in one agm_session_feed from position 0
//           (default N = 64);
//   json    BOS and "Report:" (not measured), then greedy output under the
//           GBNF grammar FILE until the grammar ends (EOS) or N output
//           tokens (default 256), --reports times in a row from the same
//           matcher (default 2: its mask cache warm, as on a device that
//           writes a report every hour; 1: the first report after init),
//           the session reset before each, the last one measured; each as
//           agmodel-run runs it: forced text fed at
//           once (jump-forward: no classifier before forced tokens) and
//           the classifier computed only for the rows the next mask allows
//           (sparse classifier), each with an off switch. Grammar work (masks, matching, forced tokens) is charged
//           to bucket AGM_REGION_GRAMMAR; every output step (a sampled token
//           or a jump) ends with a step marker, so the plugin reports the
//           costliest one. It also prints out_tokens, forced_tokens,
//           sampled_steps and classifier_rows (rows computed, all steps).
//           --reports 0 measures the matcher's init alone (its mask
//           entries precomputed; tokens=1: the whole init is "a token");
//           --no-precompute leaves the entries to first use.
//   ttft    time to the first token after a prompt of a P-token prefix
//           (BOS and the fixed text's tokens, default 300) and a Q-token
//           query (the text's tokens from P on, default 20): one "token"
//           from the start of the work to the first output token sampled.
//           Without --restore the whole prompt is fed in one feed; with
//           it, a snapshot of the prefix is made first (not measured) and
//           the measured work is agm_session_load of it into a fresh
//           session (its checks and CRC included), the query's feed and
//           the sample. It prints snapshot_bytes (what an SD card would
//           be read for) and snapshot_bytes_per_100.<kv> (the layout's
//           size for 100 positions, every KV type). The memory term:
//           the feed's weights (tl5_r4 once per two tokens, the
//           classifier's one row set once), its attention's KV rows, and
//           for a restore the snapshot read and the KV cache written.
//           --snapshot FILE: without --restore, the prefix's snapshot is
//           written to FILE after the measured work (truncate to P, save);
//           with it, read from FILE if it exists (else made first, not
//           measured). --bytes-only runs nothing and prints the memory
//           term of a feed of the whole prompt, or with --restore of the
//           query after the prefix already held (no snapshot read: a
//           server restores it at startup).
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
// In json mode the bytes are those of every feed (weights per token fed,
// tl5_r4 matrices once per two tokens of a feed, the classifier rows
// computed) and of every fed token's attention, divided by the output
// tokens. Nothing stays in the caches between tokens on a Pi Zero: its L2
// is 128 KB and even the 3M model's weights are 1.3 MB, so every byte
// counts.
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
#include "agm/snapshot.h"
#include "agm_marker.h"
#include "agmodel.h"
#include "perf_regions.h"

namespace {

const char kPromptText[] =
    "Once upon a time, a farmer put a small computer in his field. It read the soil and the "
    "rain every hour, and at night it wrote him a short story about what it had seen.";

int usage() {
    std::fprintf(stderr,
                 "usage: agm_pizero_driver MODEL decode|prompt [--tokens N] [--kv f32|f16|q8]\n"
                 "       agm_pizero_driver MODEL json --grammar FILE [--tokens N] [--kv f32|f16|q8]\n"
                 "                         [--no-jump-forward] [--no-sparse-classifier] [--reports N]\n"
                 "                         [--no-precompute]\n"
                 "       agm_pizero_driver MODEL ttft [--prefix P] [--query Q] [--restore] [--snapshot FILE]\n"
                 "                         [--kv f32|f16|q8] [--bytes-only]\n");
    return 2;
}

int fail(const char* what, const agm_error& e) {
    std::fprintf(stderr, "agm_pizero_driver: %s: %s\n", what, e.message);
    return 1;
}

bool read_text(const std::string& path, std::string* out) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
    const bool ok = std::ferror(f) == 0;
    std::fclose(f);
    return ok;
}

// What one token costs in DRAM bytes, by kind of tensor.
struct Bytes {
    uint64_t tl5 = 0;         // tl5_r4 matrices (read once per pass of up to two tokens)
    uint64_t other = 0;       // every other per-token tensor, the embedding row included
    uint64_t classifier = 0;  // the whole classifier
    double kv_row = 0;        // one position's K (or V) row of one layer
};

int bits_set(uint32_t v) {
    int n = 0;
    for (; v != 0; v &= v - 1) ++n;
    return n;
}

// The json workload: returns 0 and fills the counters, or 1 after a message.
struct JsonRun {
    bool jump_forward = true, sparse = true;
    long reports = 2;  // reports written in a row; the last is measured (0: the matcher's init)
    bool precompute = true;
    long out_tokens = 0, forced = 0, sampled = 0;
    uint64_t classifier_rows = 0;
    double weight_bytes = 0, kv_bytes = 0;
    int32_t last = 0;
};

int run_json(agm_model* model, agm_session* s, agm_matcher* mt, const agm::ModelConfig& c, const Bytes& by,
             uint32_t n_layers, long max_tokens, JsonRun* r) {
    agm_error e;
    agm_model_info info;
    agm_model_get_info(model, &info);
    const uint32_t vocab = c.vocab_size, words = (vocab + 31) / 32;
    std::vector<uint32_t> mask(words);
    std::vector<int32_t> jump(256), feed;
    agm_sampler sampler;
    agm_sampler_init(&sampler, nullptr);  // greedy
    const char prompt[] = "Report:";
    std::vector<int32_t> ids(sizeof prompt + 2);
    size_t n_ids = 0;
    if (agm_tokenize(model, prompt, sizeof prompt - 1, 1, ids.data(), ids.size(), &n_ids, &e) != AGM_OK)
        return fail("tokenize", e);
    uint32_t pos = 0;
    // Feeds tokens with the rows of the matcher's next mask (when it is known
    // and the sparse classifier is on) and counts their bytes.
    size_t n_jump = 0;
    bool mask_ready = false;
    auto prepare = [&]() -> bool {  // what the next step does: forced tokens, or a mask
        n_jump = 0;
        mask_ready = false;
        if (r->jump_forward && agm_matcher_forced_tokens(mt, jump.data(), jump.size(), &n_jump, &e) != AGM_OK)
            return false;
        if (n_jump == 0 && !agm_matcher_is_done(mt) && r->sparse) {
            uint32_t n_allowed = 0;
            if (agm_matcher_fill_mask(mt, mask.data(), words, &n_allowed, &e) != AGM_OK) return false;
            mask_ready = true;
        }
        return true;
    };
    std::vector<uint32_t> none(words, 0);
    auto feed_counted = [&](const int32_t* t, size_t n, bool measured) -> bool {
        // Before forced tokens no logits are needed; before a sampled one,
        // the rows its mask allows (sparse) or all.
        const uint32_t* rows = n_jump > 0 ? none.data() : mask_ready ? mask.data() : nullptr;
        uint64_t n_rows = vocab;
        if (rows != nullptr) {
            n_rows = 0;
            for (uint32_t w = 0; w < words; ++w) n_rows += (uint64_t)bits_set(rows[w]);
        }
        agm_perf_region(AGM_REGION_REST);
        if (agm_session_feed_rows(s, t, n, rows, &e) != AGM_OK) return false;
        if (measured) {
            r->weight_bytes += (double)by.tl5 * (double)((n + 1) / 2) + (double)by.other * (double)n +
                               (double)by.classifier * (double)n_rows / (double)vocab;
            for (size_t i = 0; i < n; ++i)  // positions 0..p read, p written, K and V, every layer
                r->kv_bytes += 2.0 * n_layers * by.kv_row * ((double)(pos + i) + 2.0);
            r->classifier_rows += n_rows;
        }
        pos += (uint32_t)n;
        return true;
    };
    // Reports one after the other from the same matcher (its mask cache kept,
    // as a device writing one every hour keeps it); the last is measured.
    int32_t last = ids[n_ids - 1];
    for (long rep = 0; rep < r->reports; ++rep) {
        const bool measured = rep == r->reports - 1;
        long out = 0;
        pos = 0;
        if (agm_session_reset(s) != AGM_OK) return fail("session", e);
        if (agm_matcher_reset(mt, ids[n_ids - 1]) != AGM_OK || !prepare()) return fail("grammar", e);
        if (!feed_counted(ids.data(), n_ids, false)) return fail("feed", e);
        last = ids[n_ids - 1];
        if (measured) agm_perf_begin();
        while (!agm_matcher_is_done(mt) && out < max_tokens) {
            agm_perf_region(AGM_REGION_GRAMMAR);
            feed.clear();
            if (n_jump > 0) {
                if ((long)n_jump > max_tokens - out) n_jump = (size_t)(max_tokens - out);
                for (size_t i = 0; i < n_jump; ++i) {
                    if (agm_matcher_accept_token(mt, jump[i], &e) != AGM_OK) return fail("grammar", e);
                    feed.push_back(jump[i]);
                }
                if (measured) r->forced += (long)n_jump;
            } else {
                if (!mask_ready) {
                    uint32_t n_allowed = 0;
                    if (agm_matcher_fill_mask(mt, mask.data(), words, &n_allowed, &e) != AGM_OK)
                        return fail("grammar", e);
                }
                agm_perf_region(AGM_REGION_REST);
                int32_t next;
                if (agm_session_sample_masked(s, &sampler, mask.data(), &next, &e) != AGM_OK) return fail("sample", e);
                agm_perf_region(AGM_REGION_GRAMMAR);
                if (agm_matcher_accept_token(mt, next, &e) != AGM_OK) return fail("grammar", e);
                if (measured) ++r->sampled;
                last = next;
                if (next == info.eos_id) {  // the end: nothing to feed
                    agm_perf_region(AGM_REGION_REST);
                    agm_perf_step();
                    break;
                }
                feed.push_back(next);
            }
            out += (long)feed.size();
            last = feed.back();
            if (!prepare()) return fail("grammar", e);
            if (!feed_counted(feed.data(), feed.size(), measured)) return fail("feed", e);
            agm_perf_step();
        }
        if (measured) {
            agm_perf_end();
            r->out_tokens = out;
        }
    }
    r->last = last;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) return usage();
    const std::string path = argv[1], mode = argv[2];
    if (mode != "decode" && mode != "prompt" && mode != "json" && mode != "ttft") return usage();
    const bool decode = mode == "decode", json = mode == "json", ttft = mode == "ttft";
    long tokens = decode ? 128 : json ? 256 : 64;
    long prefix = 300, query = 20;
    bool restore = false, bytes_only = false;
    std::string snapshot_path;
    uint32_t kv = AGM_KV_F32;
    std::string grammar_path;
    JsonRun jr;
    for (int i = 3; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--no-jump-forward") { jr.jump_forward = false; continue; }
        if (a == "--no-sparse-classifier") { jr.sparse = false; continue; }
        if (a == "--no-precompute") { jr.precompute = false; continue; }
        if (a == "--restore") { restore = true; continue; }
        if (a == "--bytes-only") { bytes_only = true; continue; }
        if (a == "--reports" && i + 1 < argc) {
            jr.reports = std::strtol(argv[++i], nullptr, 10);
            if (jr.reports < 0 || jr.reports > 100) return usage();
            continue;
        }
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
        } else if (a == "--prefix" || a == "--query") {
            const long n = std::strtol(v, nullptr, 10);
            if (n < 1 || n > 100000) return usage();
            (a == "--prefix" ? prefix : query) = n;
        } else if (a == "--grammar") {
            grammar_path = v;
        } else if (a == "--snapshot") {
            snapshot_path = v;
        } else {
            return usage();
        }
    }
    if (json != !grammar_path.empty()) return usage();

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
    so.n_ctx = ttft ? (uint32_t)(prefix + query + 1) : (uint32_t)tokens + (json ? 16 : 1);
    so.kv_type = kv;
    agm_session* s = nullptr;
    if (agm_session_create(model, &so, &s, &e) != AGM_OK) return fail("session", e);

    // Bytes per token read from the file.
    Bytes by;
    uint64_t ternary = 0;
    for (uint32_t i = 0; i < view.n_tensors; ++i) {
        const agm_tensor_entry& t = view.tensors[i];
        if (t.type == AGM_TYPE_T2_B128 || t.type == AGM_TYPE_TL5_R4)
            ternary += (uint64_t)t.shape[0] * t.shape[1];
        const bool embd = std::strcmp(t.name, "token_embd") == 0;
        const bool out = std::strcmp(t.name, "output") == 0 || (embd && c.tied_classifier);
        if (out) by.classifier += t.bytes;
        else if (embd) by.other += t.bytes / t.shape[0];
        else if (t.type == AGM_TYPE_TL5_R4) by.tl5 += t.bytes;
        else by.other += t.bytes;
    }
    if (c.tied_classifier) by.other += by.classifier / c.vocab_size;  // the embedding row
    // KV bytes: per layer and position, K and V rows of kv_dim values.
    const double value = kv == AGM_KV_F16 ? 2.0 : kv == AGM_KV_Q8 ? 1.0 : 4.0;
    by.kv_row = (double)c.kv_dim() * value + (kv == AGM_KV_Q8 ? 4.0 * c.n_kv_heads : 0.0);

    double weight_bytes = 0, kv_bytes = 0;
    int32_t next = 1;  // BOS
    uint64_t snapshot_bytes = 0;
    if (ttft) {
        // The prompt: BOS, then the text's tokens, repeated as needed.
        size_t n = 0;
        std::vector<int32_t> text(sizeof kPromptText + 2);
        if (agm_tokenize(model, kPromptText, std::strlen(kPromptText), 0, text.data(), text.size(), &n, &e) !=
            AGM_OK)
            return fail("tokenize", e);
        std::vector<int32_t> ids((size_t)(prefix + query));
        ids[0] = 1;
        for (size_t i = 1; i < ids.size(); ++i) ids[i] = text[(i - 1) % n];
        agm_sampler sampler;
        agm_sampler_init(&sampler, nullptr);  // greedy
        // The feed's weights: tl5_r4 once per pass of up to two tokens, the
        // classifier once (only the last token's logits are computed).
        const long fed = restore ? query : prefix + query;
        const long first = restore ? prefix : 0;
        weight_bytes = (double)by.other * (double)fed + (double)by.tl5 * (double)((fed + 1) / 2) +
                       (double)by.classifier;
        double rows = 0;  // KV rows read (positions 0..p) and written (p), summed over the fed positions
        for (long p = first; p < first + fed; ++p) rows += (double)p + 2.0;
        kv_bytes = 2.0 * c.n_layers * by.kv_row * rows;
        std::vector<uint8_t> snap;
        if (bytes_only) {
            // The memory term alone (bench/pizero-estimate --serve: the
            // server's own run is measured under the plugin).
        } else if (restore) {
            // The prefix's snapshot: from the recompute run's file, or made here.
            std::string kept;
            if (!snapshot_path.empty() && read_text(snapshot_path, &kept)) {
                snap.assign(kept.begin(), kept.end());
            } else {
                if (agm_session_feed(s, ids.data(), (size_t)prefix, &e) != AGM_OK) return fail("feed", e);
                snap.resize(agm_session_state_size(s));
                size_t written = 0;
                if (agm_session_save(s, snap.data(), snap.size(), &written, &e) != AGM_OK) return fail("save", e);
                agm_session* fresh = nullptr;
                if (agm_session_create(model, &so, &fresh, &e) != AGM_OK) return fail("session", e);
                agm_session_free(s);
                s = fresh;
            }
            snapshot_bytes = snap.size();
            kv_bytes += 2.0 * (double)snap.size();  // the snapshot read, the KV cache written
            agm_perf_begin();
            if (agm_session_load(s, snap.data(), snap.size(), &e) != AGM_OK) return fail("load", e);
            if (agm_session_feed(s, ids.data() + prefix, (size_t)query, &e) != AGM_OK) return fail("feed", e);
            if (agm_session_sample(s, &sampler, &next, &e) != AGM_OK) return fail("sample", e);
            agm_perf_end();
        } else {
            agm_perf_begin();
            if (agm_session_feed(s, ids.data(), ids.size(), &e) != AGM_OK) return fail("feed", e);
            if (agm_session_sample(s, &sampler, &next, &e) != AGM_OK) return fail("sample", e);
            agm_perf_end();
            if (!snapshot_path.empty()) {
                // The prefix's snapshot for the restore run (not measured):
                // the same rows a feed of the prefix alone computes.
                if (agm_session_truncate(s, (uint32_t)prefix, &e) != AGM_OK) return fail("truncate", e);
                snap.resize(agm_session_state_size(s));
                size_t written = 0;
                if (agm_session_save(s, snap.data(), snap.size(), &written, &e) != AGM_OK) return fail("save", e);
                snapshot_bytes = written;
                FILE* f = std::fopen(snapshot_path.c_str(), "wb");
                if (f == nullptr || std::fwrite(snap.data(), 1, written, f) != written || std::fclose(f) != 0) {
                    std::fprintf(stderr, "agm_pizero_driver: cannot write %s\n", snapshot_path.c_str());
                    return 1;
                }
            }
        }
        tokens = 1;
    } else if (json) {
        std::string text;
        if (!read_text(grammar_path, &text)) {
            std::fprintf(stderr, "agm_pizero_driver: cannot read %s\n", grammar_path.c_str());
            return 1;
        }
        agm_grammar* g = nullptr;
        agm_matcher* mt = nullptr;
        agm_grammar_options go;
        agm_grammar_options_default(&go);
        go.precompute = jr.precompute ? 1 : 0;
        if (agm_grammar_create(model, text.data(), text.size(), &go, &g, &e) != AGM_OK) return fail("grammar", e);
        if (jr.reports == 0) agm_perf_begin();
        agm_perf_region(AGM_REGION_GRAMMAR);
        if (agm_matcher_create(g, &mt, &e) != AGM_OK) return fail("matcher", e);
        agm_perf_region(AGM_REGION_REST);
        if (jr.reports == 0) {
            agm_perf_step();
            agm_perf_end();
            agm_matcher_stats ms;
            agm_matcher_get_stats(mt, &ms);
            std::printf("precomputed=%u\n", ms.precomputed);
            jr.out_tokens = 1;
        } else {
            const int rc = run_json(model, s, mt, c, by, c.n_layers, tokens, &jr);
            if (rc != 0) return rc;
        }
        agm_matcher_free(mt);
        agm_grammar_free(g);
        tokens = jr.out_tokens;
        if (tokens == 0) {
            std::fprintf(stderr, "agm_pizero_driver: the grammar produced no token\n");
            return 1;
        }
        weight_bytes = jr.weight_bytes / (double)tokens;
        kv_bytes = jr.kv_bytes / (double)tokens;
        next = jr.last;
    } else {
        // Decode: every weight once per token; prompt: tl5_r4 matrices once per
        // two tokens, the classifier once per prompt.
        weight_bytes = (double)by.other + (decode ? (double)by.tl5 : (double)by.tl5 / 2.0) +
                       (decode ? (double)by.classifier : (double)by.classifier / (double)tokens);
        const long first = decode ? 1 : 0;  // the measured positions: first .. first + tokens - 1
        const double mean_read_rows = (double)first + ((double)tokens + 1.0) / 2.0;  // positions 0..p
        kv_bytes = 2.0 * c.n_layers * by.kv_row * (mean_read_rows + 1.0);

        std::vector<int32_t> ids((size_t)tokens + 1);
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
    }

    std::printf("mode=%s\ntokens=%ld\nkv=%s\n", mode.c_str(), tokens,
                kv == AGM_KV_F16 ? "f16" : kv == AGM_KV_Q8 ? "q8" : "f32");
    std::printf("n_layers=%u\ndim=%u\nhidden_dim=%u\nvocab=%u\n", c.n_layers, c.dim, c.hidden_dim,
                c.vocab_size);
    std::printf("file_bytes=%llu\n", (unsigned long long)view.size);
    std::printf("ternary_weights_per_token=%llu\n", (unsigned long long)ternary);
    std::printf("classifier_weights=%llu\n", (unsigned long long)c.vocab_size * c.dim);
    std::printf("weight_bytes_per_token=%.0f\nkv_bytes_per_token=%.0f\n", weight_bytes, kv_bytes);
    if (json) {
        std::printf("out_tokens=%ld\nforced_tokens=%ld\nsampled_steps=%ld\nclassifier_rows=%llu\n", jr.out_tokens,
                    jr.forced, jr.sampled, (unsigned long long)jr.classifier_rows);
        std::printf("jump_forward=%d\nsparse_classifier=%d\n", jr.jump_forward ? 1 : 0, jr.sparse ? 1 : 0);
    }
    if (ttft) {
        std::printf("prefix=%ld\nquery=%ld\nrestore=%d\nsnapshot_bytes=%llu\n", prefix, query, restore ? 1 : 0,
                    (unsigned long long)snapshot_bytes);
        agm::SnapshotShape shape;
        shape.n_layers = c.n_layers;
        shape.kv_dim = c.kv_dim();
        shape.n_kv_heads = c.n_kv_heads;
        shape.vocab_size = c.vocab_size;
        const char* names[] = {"f32", "f16", "q8"};
        for (uint32_t k : {(uint32_t)AGM_KV_F32, (uint32_t)AGM_KV_F16, (uint32_t)AGM_KV_Q8}) {
            shape.kv_type = k;
            agm::SnapshotLayout l;
            if (!agm::snapshot_layout(shape, 100, &l)) return 1;
            std::printf("snapshot_bytes_per_100.%s=%llu\n", names[k], (unsigned long long)l.total);
        }
    }
    std::printf("last_token=%d\n", next);  // the work's result, so none of it is dead
    agm_session_free(s);
    agm_model_close(model);
    return 0;
}
