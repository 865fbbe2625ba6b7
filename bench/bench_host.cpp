// agm_bench_host: the engine's speed on the host, one thread, every kernel
// variant this CPU runs side by side in one run (the portable "lut" variant
// is the scalar baseline of the ratio; "ref" only with --with_ref: it is
// slow), on any model files (the LITE and M300 files of agmodel-synth).
//
//   agm_bench_host MODEL.agm... [--tokens=N] [--prompt=N] [--with_ref] [benchmark flags...]
//
// decode/<model>/<variant>: from an empty context, one token per feed for N
// positions (default 64), the greedy token fed back; "tok/s" per token.
// prompt/<model>/<variant>: N tokens (default 64) in one agm_session_feed
// (two per pass); "tok/s" per prompt token.
// Each variant's tokens are compared with the first variant's: "same" is 1
// when they agree (every variant computes the same bits).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "agmodel.h"
#include "kernels/kernels.h"

namespace {

int g_tokens = 64, g_prompt = 64;
std::map<std::string, std::vector<int32_t>> g_first;  // model/mode: the first variant's tokens

struct Opened {
    agm_model* m = nullptr;
    agm_session* s = nullptr;
    bool open(const std::string& path, const char* kernels, uint32_t n_ctx, benchmark::State& st) {
        agm_error e;
        agm_open_options oo;
        agm_open_options_default(&oo);
        oo.verify_checksum = 0;
        agm_session_options so;
        agm_session_options_default(&so);
        so.n_ctx = n_ctx;
        so.kernels = kernels;
        if (agm_model_open_file(path.c_str(), &oo, &m, &e) != AGM_OK || agm_session_create(m, &so, &s, &e) != AGM_OK) {
            st.SkipWithError(e.message);
            return false;
        }
        return true;
    }
    ~Opened() {
        agm_session_free(s);
        agm_model_close(m);
    }
};

void same_as_first(benchmark::State& st, const std::string& key, const std::vector<int32_t>& got) {
    auto it = g_first.find(key);
    if (it == g_first.end()) it = g_first.emplace(key, got).first;
    st.counters["same"] = it->second == got ? 1 : 0;
}

void decode(benchmark::State& st, std::string path, std::string name, const char* kernels) {
    Opened o;
    if (!o.open(path, kernels, (uint32_t)g_tokens + 1, st)) return;
    std::vector<int32_t> out;
    agm_error e;
    for (auto _ : st) {
        agm_session_reset(o.s);
        agm_sampler smp;
        agm_sampler_init(&smp, nullptr);
        out.clear();
        int32_t t = 1;
        for (int i = 0; i < g_tokens; ++i) {
            if (agm_session_feed(o.s, &t, 1, &e) != AGM_OK || agm_session_sample(o.s, &smp, &t, &e) != AGM_OK) {
                st.SkipWithError(e.message);
                return;
            }
            out.push_back(t);
        }
    }
    st.counters["tok/s"] = benchmark::Counter((double)g_tokens, benchmark::Counter::kIsIterationInvariantRate);
    same_as_first(st, name + "/decode", out);
}

void prompt(benchmark::State& st, std::string path, std::string name, const char* kernels) {
    Opened o;
    if (!o.open(path, kernels, (uint32_t)g_prompt + 1, st)) return;
    agm_model_info info;
    agm_model_get_info(o.m, &info);
    std::vector<int32_t> ids((size_t)g_prompt);
    for (int i = 0; i < g_prompt; ++i) ids[(size_t)i] = i == 0 ? 1 : (int32_t)(3 + (i * 7919) % (info.vocab_size - 3));
    agm_error e;
    int32_t next = -1;
    for (auto _ : st) {
        agm_session_reset(o.s);
        agm_sampler smp;
        agm_sampler_init(&smp, nullptr);
        if (agm_session_feed(o.s, ids.data(), ids.size(), &e) != AGM_OK ||
            agm_session_sample(o.s, &smp, &next, &e) != AGM_OK) {
            st.SkipWithError(e.message);
            return;
        }
    }
    st.counters["tok/s"] = benchmark::Counter((double)g_prompt, benchmark::Counter::kIsIterationInvariantRate);
    same_as_first(st, name + "/prompt", {next});
}

std::string base(const std::string& p) {
    std::string b = p.substr(p.find_last_of('/') + 1);
    return b.size() > 4 && b.compare(b.size() - 4, 4, ".agm") == 0 ? b.substr(0, b.size() - 4) : b;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> models;
    bool with_ref = false;
    int out = 1;
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (std::strncmp(a, "--tokens=", 9) == 0) g_tokens = std::atoi(a + 9);
        else if (std::strncmp(a, "--prompt=", 9) == 0) g_prompt = std::atoi(a + 9);
        else if (std::strcmp(a, "--with_ref") == 0) with_ref = true;
        else if (std::strncmp(a, "--", 2) != 0) models.push_back(a);
        else argv[out++] = argv[i];
    }
    argc = out;
    if (models.empty() || g_tokens < 1 || g_tokens > 4000 || g_prompt < 1 || g_prompt > 4000) {
        std::fprintf(stderr, "usage: agm_bench_host MODEL.agm... [--tokens=N] [--prompt=N] [--with_ref]\n");
        return 2;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    size_t n_sets;
    const agm::KernelSet* sets = agm::kernel_sets(&n_sets);
    for (const std::string& path : models)
        for (int mode = 0; mode < 2; ++mode)
            for (size_t k = with_ref ? 0 : 1; k < n_sets; ++k) {
                if (!agm::kernel_set_runs(sets[k])) continue;
                const std::string name = base(path);
                const char* ks = sets[k].name;
                benchmark::RegisterBenchmark(((mode == 0 ? "decode/" : "prompt/") + name + "/" + ks).c_str(),
                                             mode == 0 ? decode : prompt, path, name, ks)
                    ->Unit(benchmark::kMillisecond)
                    ->MinTime(1.0);
            }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
