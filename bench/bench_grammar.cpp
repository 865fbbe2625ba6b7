// Token-mask benchmarks: the grammar work of one constrained output, on
// the vocabularies of the reference models (the Llama 2 SentencePiece
// 32,000 of LITE and M300; GPT-2's byte-level 50,257) under the telemetry
// schema of bench/pizero-estimate --json (bench/data/telemetry.schema.json,
// converted to GBNF here).
//
//   agm_bench_grammar [--benchmark_filter=...]
//
// One iteration is one report: the matcher is reset, then each step takes
// the forced tokens (jump-forward) or computes the mask and picks an
// allowed token by a fixed pseudo-random rule, so every iteration walks
// the same text. "cold": a new matcher each iteration (what the first
// report after boot costs: its entries precomputed by the matcher's init,
// or, "lazy", computed on first use); "warm": one matcher reused (its cache
// kept across reports), with 8 cache entries or 64 (the default).
// Counters: ms per mask (average), the worst mask of the last iteration,
// masks per report; cold: init_ms (the matcher's creation, its precompute
// included) and the entries it precomputed; warm: the entries in use.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agm/convert.h"
#include "agm/gguf.h"
#include "agm/gguf_vocab.h"
#include "agm/json_schema.h"
#include "agm/synth.h"
#include "agmodel.h"

namespace {

std::string shared(const std::string& rel) { return std::string(AGM_BENCH_SHARED_DIR) + "/" + rel; }

bool read_all(const std::string& path, std::vector<uint8_t>* out) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    uint8_t buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + n);
    std::fclose(f);
    return true;
}

// A small random-weight model over a real vocabulary: masks depend on the
// vocabulary only.
struct Model {
    std::vector<uint8_t> file;
    void* mem = nullptr;
    agm_model* m = nullptr;
    std::string error;

    explicit Model(const std::string& kind) {
        agm::Vocab v;
        agm::Error err;
        std::string vk;
        if (kind == "llama32k") {
            if (!agm::load_tokenizer_file(shared("tokenizers/llama2-32k/tokenizer.model"), 32000, &v, &vk, &err)) {
                error = err.msg;
                return;
            }
        } else {
            std::vector<uint8_t> g;
            agm::GgufFile f;
            if (!read_all(shared("tokenizers/gpt2-50k/ggml-vocab-gpt-2.gguf"), &g) ||
                !agm::parse_gguf(g.data(), g.size(), &f, &err) || !agm::vocab_from_gguf(f, &v, &vk, &err)) {
                error = std::string("GPT-2 vocabulary: ") + err.msg;
                return;
            }
        }
        agm::SynthConfig c;
        agm::synth_preset("tiny", &c);
        c.n_layers = 1;
        c.vocab_size = (uint32_t)v.pieces.size();
        if (!agm::synth_model(c, &v, &file, &err)) {
            error = err.msg;
            return;
        }
        if (posix_memalign(&mem, 64, file.size()) != 0) return;
        std::memcpy(mem, file.data(), file.size());
        agm_error e;
        if (agm_model_open_memory(mem, file.size(), nullptr, &m, &e) != AGM_OK) error = e.message;
    }
    ~Model() {
        agm_model_close(m);
        std::free(mem);
    }
};

std::string telemetry_gbnf() {
    std::vector<uint8_t> schema;
    std::string gbnf, why;
    if (!read_all(std::string(AGM_BENCH_SOURCE_DIR) + "/bench/data/telemetry.schema.json", &schema)) return "";
    agm::SchemaOptions o;
    agm::Error err;
    if (!agm::json_schema_to_gbnf(schema.data(), schema.size(), o, &gbnf, &err)) return "";
    return gbnf;
}

struct Stats {
    double mask_s = 0, worst_s = 0;
    long masks = 0;
};

// One report: returns false on an error.
bool report(agm_matcher* mt, int32_t first_prev, uint32_t vocab, std::vector<uint32_t>* mask, Stats* st) {
    agm_error e;
    if (agm_matcher_reset(mt, first_prev) != AGM_OK) return false;
    int32_t ids[256];
    uint64_t pick = 0x9E3779B97F4A7C15ull;
    for (int step = 0; step < 400 && !agm_matcher_is_done(mt); ++step) {
        size_t n = 0;
        if (agm_matcher_forced_tokens(mt, ids, 256, &n, &e) != AGM_OK) return false;
        if (n > 0) {
            for (size_t i = 0; i < n; ++i)
                if (agm_matcher_accept_token(mt, ids[i], &e) != AGM_OK) return false;
            continue;
        }
        uint32_t allowed = 0;
        const auto t0 = std::chrono::steady_clock::now();
        if (agm_matcher_fill_mask(mt, mask->data(), mask->size(), &allowed, &e) != AGM_OK) return false;
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        st->mask_s += s;
        if (s > st->worst_s) st->worst_s = s;
        ++st->masks;
        if (allowed == 0) return false;
        // The k-th allowed token, k from a fixed sequence: the same text each time.
        pick = pick * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t k = (uint32_t)((pick >> 33) % allowed), t = 0;
        for (; t < vocab; ++t)
            if (((*mask)[t >> 5] >> (t & 31)) & 1 && k-- == 0) break;
        if (agm_matcher_accept_token(mt, (int32_t)t, &e) != AGM_OK) return false;
    }
    return true;
}

void bench(benchmark::State& state, const char* kind, bool warm, uint32_t cache, bool precompute = true,
           bool after_bos = false) {
    static Model* models[2] = {nullptr, nullptr};
    Model*& md = models[std::string(kind) == "llama32k" ? 0 : 1];
    if (md == nullptr) md = new Model(kind);
    const std::string gbnf = telemetry_gbnf();
    if (md->m == nullptr || gbnf.empty()) {
        state.SkipWithError(("setup failed: " + md->error).c_str());
        return;
    }
    agm_model_info info;
    agm_model_get_info(md->m, &info);
    agm_error e;
    agm_grammar* g = nullptr;
    agm_grammar_options go;
    agm_grammar_options_default(&go);
    go.mask_cache = cache;
    go.precompute = precompute ? 1 : 0;
    if (agm_grammar_create(md->m, gbnf.data(), gbnf.size(), &go, &g, &e) != AGM_OK) {
        state.SkipWithError(e.message);
        return;
    }
    std::vector<uint32_t> mask((info.vocab_size + 31) / 32);
    // The prompt's last token, as after "Report:" (or BOS: after_bos).
    int32_t ids[16];
    size_t n_ids = 0;
    if (agm_tokenize(md->m, "Report:", 7, 0, ids, 16, &n_ids, &e) != AGM_OK || n_ids == 0) {
        state.SkipWithError("cannot tokenize the prompt");
        return;
    }
    const int32_t prev = after_bos ? info.bos_id : ids[n_ids - 1];
    agm_matcher* kept = nullptr;
    if (warm && agm_matcher_create(g, &kept, &e) != AGM_OK) {
        state.SkipWithError(e.message);
        return;
    }
    Stats total, last;
    double init_s = 0;
    long inits = 0;
    uint32_t precomputed = 0;
    for (auto _ : state) {
        agm_matcher* mt = kept;
        if (!warm) {
            const auto t0 = std::chrono::steady_clock::now();
            if (agm_matcher_create(g, &mt, &e) != AGM_OK) {
                state.SkipWithError(e.message);
                break;
            }
            init_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            ++inits;
            agm_matcher_stats ms;
            agm_matcher_get_stats(mt, &ms);
            precomputed = ms.precomputed;
        }
        last = Stats{};
        if (!report(mt, prev, info.vocab_size, &mask, &last)) {
            state.SkipWithError("a report failed");
            break;
        }
        total.mask_s += last.mask_s;
        total.masks += last.masks;
        if (!warm) agm_matcher_free(mt);
    }
    if (kept != nullptr) {
        agm_matcher_stats ms;
        agm_matcher_get_stats(kept, &ms);
        state.counters["entries_used"] = ms.entries_used;
    }
    agm_matcher_free(kept);
    agm_grammar_free(g);
    state.counters["ms_per_mask"] = total.masks ? total.mask_s * 1e3 / (double)total.masks : 0.0;
    state.counters["worst_ms"] = last.worst_s * 1e3;
    state.counters["masks_per_report"] = (double)last.masks;
    if (inits > 0) {
        state.counters["init_ms"] = init_s * 1e3 / (double)inits;
        state.counters["precomputed"] = precomputed;
    }
}

// A cache of 8 entries and of 64 (the default); entries precomputed at
// init (the default) or on first use ("lazy").
BENCHMARK_CAPTURE(bench, llama32k_cold_cache8, "llama32k", false, 8)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench, llama32k_warm_cache8, "llama32k", true, 8)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench, llama32k_cold_cache64_lazy, "llama32k", false, 64, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench, llama32k_cold_cache64, "llama32k", false, 64)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench, llama32k_warm_cache64, "llama32k", true, 64)->Unit(benchmark::kMillisecond);
// The report right after BOS (an empty prompt: the first mask walks the
// SentencePiece pieces that lose their leading space apart).
BENCHMARK_CAPTURE(bench, llama32k_warm_cache64_after_bos, "llama32k", true, 64, true, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench, gpt2_50k_cold_cache8, "gpt2", false, 8)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench, gpt2_50k_warm_cache8, "gpt2", true, 8)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench, gpt2_50k_cold_cache64_lazy, "gpt2", false, 64, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench, gpt2_50k_cold_cache64, "gpt2", false, 64)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench, gpt2_50k_warm_cache64, "gpt2", true, 64)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
