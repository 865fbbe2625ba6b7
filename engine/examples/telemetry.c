/*
 * telemetry.c: a JSON telemetry report from a compiled-in grammar, through
 * agmodel.h alone, the way firmware does it: the model file in one buffer
 * (in firmware: flash, used in place), the model, the session, the grammar
 * and its matcher in arenas sized by the memory-size queries, and no heap
 * call after that (engine/examples/constrained.c runs the loop).
 *
 *   agm-telemetry MODEL [PROMPT [STEPS]]
 *   agm-telemetry --grammar            prints the compiled-in grammar
 *
 * Prints what `agmodel-run -m MODEL -p PROMPT -n STEPS --grammar G` prints,
 * G being the compiled-in grammar (STEPS counts positions, the prompt's
 * included; default 256). C99.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agmodel.h"
#include "read_file.h"
#include "constrained.h"

static int fail(const char* what, agm_status st, const agm_error* e) {
    fprintf(stderr, "agm-telemetry: %s: %s (%s)\n", what, e->message, agm_status_name(st));
    return 1;
}

static void write_stdout(void* ctx, const char* bytes, size_t n) {
    (void)ctx;
    fwrite(bytes, 1, n, stdout);
}

int main(int argc, char** argv) {
    const char* prompt = argc > 2 ? argv[2] : "";
    long steps = argc > 3 ? strtol(argv[3], NULL, 10) : 256;
    const size_t grammar_len = strlen(agm_ex_telemetry_grammar);
    void* file_block = NULL;
    size_t file_size = 0, model_bytes = 0, session_bytes = 0, grammar_bytes = 0, matcher_bytes = 0;
    size_t n_prompt = 0, i;
    unsigned char* data;
    void *model_arena = NULL, *session_arena = NULL, *grammar_arena = NULL, *matcher_arena = NULL;
    agm_open_options oo;
    agm_model* model = NULL;
    agm_session* session = NULL;
    agm_grammar* grammar = NULL;
    agm_matcher* matcher = NULL;
    agm_model_info info;
    agm_sampler sampler;
    agm_ex_buffers buf;
    agm_error e;
    agm_status st;
    int32_t* ids = NULL;
    int add_bos, complete = 0, rc = 1;
    uint32_t ctx;

    if (argc == 2 && strcmp(argv[1], "--grammar") == 0) {
        fwrite(agm_ex_telemetry_grammar, 1, grammar_len, stdout);
        return 0;
    }
    if (argc < 2 || steps < 1) {
        fprintf(stderr, "usage: agm-telemetry MODEL [PROMPT [STEPS]] | agm-telemetry --grammar\n");
        return 2;
    }
    memset(&buf, 0, sizeof buf);
    data = agm_ex_read_file(argv[1], &file_size, &file_block);
    if (data == NULL) {
        fprintf(stderr, "agm-telemetry: cannot read %s\n", argv[1]);
        return 1;
    }

    /* Init: size every arena, then open the model, the session, the grammar
       (bound to the model's vocabulary) and its matcher in them. */
    agm_open_options_default(&oo);
    if (strlen(prompt) > oo.max_text_bytes) oo.max_text_bytes = (uint32_t)strlen(prompt);
    st = agm_model_memory_size(data, file_size, &oo, &model_bytes, &e);
    if (st != AGM_OK) { rc = fail("model size", st, &e); goto out; }
    if ((model_arena = malloc(model_bytes)) == NULL) goto no_memory;
    st = agm_model_init(data, file_size, &oo, model_arena, model_bytes, &model, &e);
    if (st != AGM_OK) { rc = fail("cannot open the model", st, &e); goto out; }
    st = agm_session_memory_size(model, NULL, &session_bytes, &e);
    if (st != AGM_OK) { rc = fail("session size", st, &e); goto out; }
    if ((session_arena = malloc(session_bytes)) == NULL) goto no_memory;
    st = agm_session_init(model, NULL, session_arena, session_bytes, &session, &e);
    if (st != AGM_OK) { rc = fail("cannot start a session", st, &e); goto out; }
    st = agm_grammar_memory_size(model, agm_ex_telemetry_grammar, grammar_len, NULL, &grammar_bytes, &e);
    if (st != AGM_OK) { rc = fail("grammar", st, &e); goto out; }
    if ((grammar_arena = malloc(grammar_bytes)) == NULL) goto no_memory;
    st = agm_grammar_init(model, agm_ex_telemetry_grammar, grammar_len, NULL, grammar_arena, grammar_bytes,
                          &grammar, &e);
    if (st != AGM_OK) { rc = fail("grammar", st, &e); goto out; }
    st = agm_matcher_memory_size(grammar, &matcher_bytes, &e);
    if (st != AGM_OK) { rc = fail("matcher size", st, &e); goto out; }
    if ((matcher_arena = malloc(matcher_bytes)) == NULL) goto no_memory;
    st = agm_matcher_init(grammar, matcher_arena, matcher_bytes, &matcher, &e);
    if (st != AGM_OK) { rc = fail("matcher", st, &e); goto out; }
    agm_model_get_info(model, &info);
    buf.mask_words = (info.vocab_size + 31) / 32;
    buf.mask = (uint32_t*)malloc(buf.mask_words * sizeof *buf.mask);
    buf.none = (uint32_t*)malloc(buf.mask_words * sizeof *buf.none);
    buf.forced_cap = 256;
    buf.forced = (int32_t*)malloc(buf.forced_cap * sizeof *buf.forced);
    ids = (int32_t*)malloc((strlen(prompt) + 3) * sizeof *ids);
    if (buf.mask == NULL || buf.none == NULL || buf.forced == NULL || ids == NULL) goto no_memory;
    ctx = agm_session_context(session);
    if (steps > (long)ctx) steps = (long)ctx;

    /* From here on the engine makes no heap calls. BOS first when the model
       takes it, and always for an empty prompt. */
    add_bos = info.add_bos || (prompt[0] == '\0' && info.bos_id >= 0);
    st = agm_tokenize(model, prompt, strlen(prompt), add_bos, ids, strlen(prompt) + 3, &n_prompt, &e);
    if (st != AGM_OK) { rc = fail("cannot encode the prompt", st, &e); goto out; }
    if (n_prompt == 0 || n_prompt >= (size_t)steps) {
        fprintf(stderr, "agm-telemetry: the prompt leaves no position to generate in\n");
        goto out;
    }
    for (i = 1; i < n_prompt; ++i) {
        char piece[256];
        size_t n = agm_token_piece(model, ids[i - 1], ids[i], AGM_PIECE_PRINTABLE, piece, sizeof piece);
        fwrite(piece, 1, n < sizeof piece ? n : sizeof piece, stdout);
    }
    agm_sampler_init(&sampler, NULL); /* greedy */
    st = agm_ex_constrained(model, session, &sampler, matcher, ids, n_prompt, (size_t)steps, &buf, write_stdout,
                            NULL, &complete, &e);
    fputc('\n', stdout);
    if (st != AGM_OK) { rc = fail("generation failed", st, &e); goto out; }
    if (!complete) {
        fprintf(stderr, "agm-telemetry: %ld positions ended the report before the grammar was complete\n", steps);
        goto out;
    }
    rc = 0;
    goto out;
no_memory:
    fprintf(stderr, "agm-telemetry: no memory\n");
out:
    fflush(stdout);
    agm_matcher_free(matcher);
    agm_grammar_free(grammar);
    agm_session_free(session);
    agm_model_close(model);
    free(ids);
    free(buf.forced);
    free(buf.none);
    free(buf.mask);
    free(matcher_arena);
    free(grammar_arena);
    free(session_arena);
    free(model_arena);
    free(file_block);
    return rc;
}
