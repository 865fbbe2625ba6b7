// The firmware's text generation: the only file that calls the agmodel API
// (generate.cpp), so that switching to another API shape touches one file.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*agm_fw_writer)(const char* bytes, size_t n);

// Opens the model at [model, model + model_bytes) in place, encodes the
// prompt and generates greedily for `steps` positions (prompt included), as
// `agmodel-run -n steps -p prompt` does, writing exactly what agmodel-run
// prints on its standard output to `out`. On an error, writes one line
// "agm-fw: what: message (status)" to `out` and returns 1; 0 on success.
// *memory_used: the session's and the model's working memory (may be NULL).
int agm_fw_generate(const void* model, size_t model_bytes, const char* prompt,
                    size_t prompt_len, uint32_t steps, agm_fw_writer out, size_t* memory_used);

// What agm_fw_generate_cached restored.
typedef struct agm_fw_cache_report {
    size_t restored;       // prompt tokens restored from the snapshot
    size_t prompt_tokens;  // prompt tokens in all (BOS included)
    char refused[200];     // why the snapshot was refused ("" if it was not)
} agm_fw_cache_report;

// agm_fw_generate with a session snapshot (agm_session_save's bytes,
// read in place) of an earlier prompt: the snapshot's tokens that begin
// this prompt are restored instead of recomputed (all but the prompt's last
// token at most), the rest fed, with agmodel-run --prompt-cache's rule; the
// output is the same bytes. snapshot NULL: everything computed. A snapshot
// of another model or KV type, or a damaged one, is refused (report->refused
// says why) and everything computed: the same output, only slower.
// *report (may be NULL): what was restored.
int agm_fw_generate_cached(const void* model, size_t model_bytes, const void* snapshot,
                           size_t snapshot_bytes, const char* prompt, size_t prompt_len,
                           uint32_t steps, agm_fw_writer out, size_t* memory_used,
                           agm_fw_cache_report* report);

// The same with the output constrained to the GBNF grammar[grammar_len]
// (engine/examples/constrained.c's loop: jump-forward, sparse classifier),
// as `agmodel-run -n steps -p prompt --grammar G` prints it. The grammar
// and its matcher live in the same static arena, sized by their queries.
int agm_fw_generate_constrained(const void* model, size_t model_bytes, const char* prompt,
                                size_t prompt_len, uint32_t steps, const char* grammar,
                                size_t grammar_len, agm_fw_writer out, size_t* memory_used);

#ifdef __cplusplus
}
#endif
