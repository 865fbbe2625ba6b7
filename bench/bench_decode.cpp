// agm_bench_decode: single-thread decode speed of the 3M model, the scalar
// baseline (bench/baseline, one branch per weight) and the engine side by
// side in one run, so the acceptance ratio (engine >= 10x baseline) is read
// from one report.
//
//   agm_bench_decode [--model=ak42.bin] [--agm_model=model.agm] [--tokens=N]
//                    [--iterations=N] [benchmark flags...]
//
// Each iteration decodes the first N tokens (default 256) of the golden
// "Once upon a time" generation at positions 0..N-1 from an empty context,
// one token per forward/feed, and the "tok/s" counter is tokens per second.
// --iterations (or -DAGM_BENCH_ITERATIONS=N at build time) fixes the
// iteration count, for instruction counting under QEMU where the automatic
// calibration would only waste time. After the timed loop each benchmark
// checks that the greedy token after the last position is the golden one
// ("golden_ok" 1/0), so a fast-but-wrong engine shows up in the same table.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "baseline.h"

#if AGM_BENCH_HAVE_ENGINE
#include "agmodel.h"
#endif

#ifndef AGM_BENCH_DEFAULT_MODEL
#define AGM_BENCH_DEFAULT_MODEL "/work/shared/models/bitnet-tinystories-3m/model.bin"
#endif
#ifndef AGM_BENCH_DEFAULT_AGM_MODEL
#define AGM_BENCH_DEFAULT_AGM_MODEL "models/tinystories-3m.agm"
#endif
#ifndef AGM_BENCH_ITERATIONS
#define AGM_BENCH_ITERATIONS 0 // 0: let the library choose
#endif

namespace {

// golden/once-upon-a-time.ids: BOS, the prompt, then the greedy tokens [257].
const int32_t kGolden[] = {
    1,   403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426,
    338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 269, 344, 444, 427, 421, 414,
    276, 265, 263, 304, 341, 261, 420, 277, 264, 311, 426, 385, 328, 432, 358, 394,
    261, 370, 432, 352, 266, 268, 388, 426, 338, 286, 384, 393, 269, 391, 266, 267,
    337, 335, 312, 426, 13,  445, 323, 265, 416, 432, 358, 394, 261, 370, 268, 388,
    426, 338, 286, 262, 429, 295, 266, 269, 279, 292, 416, 439, 413, 409, 416, 327,
    263, 415, 294, 267, 400, 426, 338, 261, 419, 355, 311, 357, 343, 432, 313, 448,
    415, 294, 439, 419, 263, 420, 289, 428, 432, 376, 268, 414, 422, 450, 436, 13,
    440, 285, 357, 343, 336, 432, 313, 442, 413, 439, 419, 334, 433, 283, 432, 317,
    426, 410, 448, 411, 280, 303, 272, 417, 264, 261, 273, 422, 267, 272, 417, 264,
    312, 426, 436, 13,  438, 310, 286, 393, 269, 336, 432, 313, 434, 415, 303, 433,
    364, 432, 357, 343, 426, 359, 401, 360, 364, 432, 357, 343, 426, 436, 13,  440,
    285, 357, 343, 262, 423, 290, 266, 269, 336, 432, 313, 452, 277, 439, 276, 382,
    421, 429, 287, 411, 432, 317, 426, 410, 452, 277, 261, 276, 261, 298, 347, 418,
    374, 426, 436, 13,  438, 310, 272, 411, 421, 413, 393, 351, 358, 280, 389, 281,
    421, 427, 269, 311, 357, 343, 426, 338, 336, 432, 313, 434, 415, 303, 433, 364,
    432,
};
const int kGoldenLen = (int)(sizeof kGolden / sizeof kGolden[0]);

struct Options {
    std::string model = AGM_BENCH_DEFAULT_MODEL;         // ak42 checkpoint (baseline)
    std::string agm_model = AGM_BENCH_DEFAULT_AGM_MODEL; // converted file (engine)
    int tokens = kGoldenLen - 1;                         // positions per iteration
    long iterations = AGM_BENCH_ITERATIONS;
};
Options g_opt;

bool read_file(const std::string& path, std::vector<unsigned char>* out) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    unsigned char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + n);
    std::fclose(f);
    return true;
}

int argmax(const float* v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

void set_counters(benchmark::State& state, int n, int last_argmax) {
    state.counters["tok/s"] =
        benchmark::Counter(double(n) * double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["golden_ok"] = last_argmax == kGolden[n] ? 1 : 0;
}

void BM_decode_baseline(benchmark::State& state) {
    std::vector<unsigned char> file;
    if (!read_file(g_opt.model, &file)) {
        state.SkipWithError(("cannot read " + g_opt.model).c_str());
        return;
    }
    char err[256] = "";
    bl_model* m = bl_load(file.data(), file.size(), err, sizeof err);
    if (!m) {
        state.SkipWithError(err);
        return;
    }
    const int vocab = bl_get_config(m)->vocab_size;
    const int n = g_opt.tokens;
    const float* logits = nullptr;
    for (auto _ : state) {
        // the KV cache rows 0..n-1 are simply overwritten: no reset needed
        for (int pos = 0; pos < n; pos++) logits = bl_forward(m, kGolden[pos], pos);
        benchmark::DoNotOptimize(logits);
    }
    set_counters(state, n, logits ? argmax(logits, vocab) : -1);
    bl_free(m);
}

#if AGM_BENCH_HAVE_ENGINE
void BM_decode_engine(benchmark::State& state) {
    agm_error e;
    agm_model* m = nullptr;
    if (agm_model_open_file(g_opt.agm_model.c_str(), nullptr, &m, &e) != AGM_OK) {
        state.SkipWithError(e.message);
        return;
    }
    agm_session* s = nullptr;
    if (agm_session_create(m, nullptr, &s, &e) != AGM_OK) {
        state.SkipWithError(e.message);
        agm_model_close(m);
        return;
    }
    agm_model_info info;
    agm_model_get_info(m, &info);
    const int n = g_opt.tokens;
    bool ok = true;
    for (auto _ : state) {
        agm_session_reset(s);
        for (int pos = 0; pos < n; pos++)
            if (agm_session_feed(s, &kGolden[pos], 1, &e) != AGM_OK) ok = false;
        benchmark::DoNotOptimize(agm_session_logits(s));
    }
    if (!ok) {
        state.SkipWithError(e.message);
    } else {
        const float* logits = agm_session_logits(s);
        set_counters(state, n, logits ? argmax(logits, (int)info.vocab_size) : -1);
    }
    agm_session_free(s);
    agm_model_close(m);
}
#endif

// Takes our own --name=value flags out of argv before the library sees them.
bool parse_own_flags(int* argc, char** argv) {
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char* a = argv[i];
        auto value = [&](const char* name) -> const char* {
            size_t len = std::strlen(name);
            return std::strncmp(a, name, len) == 0 && a[len] == '=' ? a + len + 1 : nullptr;
        };
        const char* v;
        if ((v = value("--model"))) {
            g_opt.model = v;
        } else if ((v = value("--agm_model"))) {
            g_opt.agm_model = v;
        } else if ((v = value("--tokens"))) {
            g_opt.tokens = std::atoi(v);
            if (g_opt.tokens < 1 || g_opt.tokens > kGoldenLen - 1) {
                std::fprintf(stderr, "--tokens must be 1..%d\n", kGoldenLen - 1);
                return false;
            }
        } else if ((v = value("--iterations"))) {
            g_opt.iterations = std::atol(v);
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = nullptr;
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (!parse_own_flags(&argc, argv)) return 2;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

    auto* b = benchmark::RegisterBenchmark("BM_decode_baseline", BM_decode_baseline);
    b->Unit(benchmark::kMillisecond);
    if (g_opt.iterations > 0) b->Iterations(g_opt.iterations);
#if AGM_BENCH_HAVE_ENGINE
    auto* e = benchmark::RegisterBenchmark("BM_decode_engine", BM_decode_engine);
    e->Unit(benchmark::kMillisecond);
    if (g_opt.iterations > 0) e->Iterations(g_opt.iterations);
#else
    std::fprintf(stderr, "agm_bench_decode: built without the engine (agm_engine target missing)\n");
#endif
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
