/*
 * generate.c: greedy text generation through agmodel.h alone, the way
 * firmware would do it: the model file is read into one buffer (in firmware:
 * flash, used in place), the model and the session go into arenas sized by
 * the memory-size queries, and nothing is allocated after that.
 *
 *   agm-generate MODEL [PROMPT [STEPS]]
 *
 * Prints what `agmodel-run -m MODEL -p PROMPT -n STEPS` prints (STEPS counts
 * positions, the prompt's included; default 256). C99; the only header of
 * the engine it uses is agmodel.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agmodel.h"
#include "read_file.h"

static int fail(const char* what, agm_status st, const agm_error* e) {
    fprintf(stderr, "agm-generate: %s: %s (%s)\n", what, e->message, agm_status_name(st));
    return 1;
}

static void emit(const agm_model* m, int32_t prev, int32_t token) {
    char piece[256];
    size_t n = 0;
    if (agm_detokenize(m, prev, token, AGM_PIECE_PRINTABLE, piece, sizeof piece, &n, NULL) == AGM_OK)
        fwrite(piece, 1, n, stdout);
}

int main(int argc, char** argv) {
    const char* prompt = argc > 2 ? argv[2] : "";
    long steps = argc > 3 ? strtol(argv[3], NULL, 10) : 256;
    void* file_block = NULL;
    size_t file_size = 0, model_bytes = 0, session_bytes = 0, n_prompt = 0, n_feed, done;
    unsigned char* data;
    void *model_arena = NULL, *session_arena = NULL;
    agm_open_options oo;
    agm_model* model = NULL;
    agm_session* session = NULL;
    agm_model_info info;
    agm_sampler sampler;
    agm_error e;
    agm_status st;
    int32_t* ids = NULL;
    int32_t token, next;
    int add_bos, rc = 1;
    uint32_t ctx;

    if (argc < 2 || steps < 1) {
        fprintf(stderr, "usage: agm-generate MODEL [PROMPT [STEPS]]\n");
        return 2;
    }
    data = agm_ex_read_file(argv[1], &file_size, &file_block);
    if (data == NULL) {
        fprintf(stderr, "agm-generate: cannot read %s\n", argv[1]);
        return 1;
    }

    /* Init: size both arenas, then open the model and the session in them. */
    agm_open_options_default(&oo);
    if (strlen(prompt) > oo.max_text_bytes) oo.max_text_bytes = (uint32_t)strlen(prompt);
    st = agm_model_memory_size(data, file_size, &oo, &model_bytes, &e);
    if (st != AGM_OK) { rc = fail("model size", st, &e); goto out; }
    model_arena = malloc(model_bytes);
    if (model_arena == NULL) { fprintf(stderr, "agm-generate: no memory\n"); goto out; }
    st = agm_model_init(data, file_size, &oo, model_arena, model_bytes, &model, &e);
    if (st != AGM_OK) { rc = fail("cannot open the model", st, &e); goto out; }
    st = agm_session_memory_size(model, NULL, &session_bytes, &e);
    if (st != AGM_OK) { rc = fail("session size", st, &e); goto out; }
    session_arena = malloc(session_bytes);
    if (session_arena == NULL) { fprintf(stderr, "agm-generate: no memory\n"); goto out; }
    st = agm_session_init(model, NULL, session_arena, session_bytes, &session, &e);
    if (st != AGM_OK) { rc = fail("cannot start a session", st, &e); goto out; }
    agm_model_get_info(model, &info);
    ctx = agm_session_context(session);
    if (steps > (long)ctx) steps = (long)ctx;
    ids = (int32_t*)malloc((strlen(prompt) + 3) * sizeof *ids);
    if (ids == NULL) { fprintf(stderr, "agm-generate: no memory\n"); goto out; }

    /* From here on the engine makes no heap calls. BOS first when the model
       takes it, and always for an empty prompt. */
    add_bos = info.add_bos || (prompt[0] == '\0' && info.bos_id >= 0);
    st = agm_tokenize(model, prompt, strlen(prompt), add_bos, ids, strlen(prompt) + 3, &n_prompt, &e);
    if (st != AGM_OK) { rc = fail("cannot encode the prompt", st, &e); goto out; }
    if (n_prompt == 0 || n_prompt > ctx) { fprintf(stderr, "agm-generate: bad prompt length\n"); goto out; }
    n_feed = n_prompt < (size_t)steps ? n_prompt : (size_t)steps;
    st = agm_session_feed(session, ids, n_feed, &e);
    if (st != AGM_OK) { rc = fail("prompt failed", st, &e); goto out; }
    for (done = 1; done < n_feed; ++done) emit(model, ids[done - 1], ids[done]);

    /* The reference's loop: pick the next token (from the prompt while it
       lasts), stop at BOS/EOS, print it, run it unless all steps are used. */
    agm_sampler_init(&sampler, NULL); /* greedy */
    token = ids[n_feed - 1];
    done = n_feed;
    if (done < n_prompt) {
        next = ids[done];
    } else if ((st = agm_session_sample(session, &sampler, &next, &e)) != AGM_OK) {
        rc = fail("sampling failed", st, &e);
        goto out;
    }
    for (;;) {
        if (next == info.bos_id || next == info.eos_id) break;
        emit(model, token, next);
        token = next;
        if (done >= (size_t)steps) break;
        if (done + 1 < n_prompt) {
            st = agm_session_feed(session, &token, 1, &e);
            next = ids[done + 1];
        } else {
            st = agm_session_step(session, &sampler, token, &next, &e); /* feed, then sample */
        }
        if (st != AGM_OK) { rc = fail("decoding failed", st, &e); goto out; }
        ++done;
    }
    fputc('\n', stdout);
    rc = 0;
out:
    fflush(stdout);
    agm_session_free(session);
    agm_model_close(model);
    free(ids);
    free(session_arena);
    free(model_arena);
    free(file_block);
    return rc;
}
