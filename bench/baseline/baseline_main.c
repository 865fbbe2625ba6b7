/*
 * agm-baseline: greedy generation with the scalar baseline, to check it
 * against the model's golden outputs (golden/<name>.ids) and to time it.
 *
 *   agm-baseline MODEL.bin TOKENIZER.bin [-p PROMPT] [-n STEPS]
 *                [--ids FILE --prompt-len K] [--text] [--time]
 *
 * Prints every token id (BOS, the prompt, the generated ones) space-separated
 * on one line, like golden/<name>.ids; --text prints the decoded text instead.
 * Decoding is greedy, STEPS (default 256) positions counting the prompt,
 * stopping early at a BOS. The prompt comes from -p (llama2.c-style BPE over
 * TOKENIZER.bin: dummy space prefix, best-scoring merges, byte fallback) or
 * from the first K ids of FILE (which must start with BOS).
 * --time reports decode speed on stderr.
 */
#include "baseline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BOS 1
#define BYTE_TOKEN_BASE 3 /* <0x00> is id 3 in llama2.c vocabularies */

typedef struct vocab {
    int n;
    char** piece; /* [n] NUL-terminated */
    float* score; /* [n] merge priority */
} vocab;

static unsigned char* read_file(const char* path, size_t* size)
{
    FILE* f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char* buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            unsigned char* nb = (unsigned char*)realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *size = n;
    return buf;
}

/* tokenizer.bin: int32 max_len, then per token: float score, int32 len, bytes. */
static int load_vocab(vocab* v, const char* path, int n)
{
    size_t size = 0;
    unsigned char* buf = read_file(path, &size);
    if (!buf)
        return 0;
    v->n = n;
    v->piece = (char**)calloc((size_t)n, sizeof(char*));
    v->score = (float*)calloc((size_t)n, sizeof(float));
    size_t at = 4;
    for (int i = 0; i < n; i++) {
        int32_t len;
        if (at + 8 > size)
            goto bad;
        memcpy(&v->score[i], buf + at, 4);
        memcpy(&len, buf + at + 4, 4);
        at += 8;
        if (len < 0 || at + (size_t)len > size)
            goto bad;
        v->piece[i] = (char*)malloc((size_t)len + 1);
        memcpy(v->piece[i], buf + at, (size_t)len);
        v->piece[i][len] = '\0';
        at += (size_t)len;
    }
    free(buf);
    return 1;
bad:
    free(buf);
    return 0;
}

static int lookup(const vocab* v, const char* s, size_t len)
{
    for (int i = 0; i < v->n; i++)
        if (v->piece[i] && strlen(v->piece[i]) == len && memcmp(v->piece[i], s, len) == 0)
            return i;
    return -1;
}

/* Encodes text after a BOS into out (capacity cap); returns the count. */
static int encode(const vocab* v, const char* text, int* out, int cap)
{
    int n = 0;
    out[n++] = BOS;
    if (!text[0])
        return n;
    int sp = lookup(v, " ", 1);
    if (sp >= 0 && n < cap)
        out[n++] = sp;
    /* one token per UTF-8 code point, or its bytes when it has none */
    for (size_t i = 0; text[i] && n < cap;) {
        size_t len = 1;
        while (len < 4 && ((unsigned char)text[i + len] & 0xC0) == 0x80)
            len++;
        int id = lookup(v, text + i, len);
        if (id >= 0) {
            out[n++] = id;
        } else {
            for (size_t b = 0; b < len && n < cap; b++)
                out[n++] = (unsigned char)text[i + b] + BYTE_TOKEN_BASE;
        }
        i += len;
    }
    /* merge the best-scoring adjacent pair until none is in the vocabulary */
    char buf[512];
    for (;;) {
        int best = -1, best_id = -1;
        float best_score = 0.0f;
        for (int i = 1; i + 1 < n; i++) {
            size_t la = strlen(v->piece[out[i]]), lb = strlen(v->piece[out[i + 1]]);
            if (la + lb >= sizeof buf)
                continue;
            memcpy(buf, v->piece[out[i]], la);
            memcpy(buf + la, v->piece[out[i + 1]], lb);
            int id = lookup(v, buf, la + lb);
            if (id >= 0 && (best < 0 || v->score[id] > best_score)) {
                best = i;
                best_id = id;
                best_score = v->score[id];
            }
        }
        if (best < 0)
            break;
        out[best] = best_id;
        memmove(out + best + 1, out + best + 2, sizeof(int) * (size_t)(n - best - 2));
        n--;
    }
    return n;
}

static void print_piece(const vocab* v, int prev, int tok)
{
    const char* p = v->piece[tok];
    if (prev == BOS && p[0] == ' ')
        p++;
    unsigned int byte;
    if (sscanf(p, "<0x%02X>", &byte) == 1 && strlen(p) == 6) {
        if ((byte >= 32 && byte < 127) || byte == '\n' || byte == '\t' || byte == '\r' ||
            byte == ' ' || byte == '\v' || byte == '\f')
            putchar((int)byte);
        return;
    }
    fputs(p, stdout);
}

static int read_ids(const char* path, int* out, int cap)
{
    FILE* f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0;
    while (n < cap && fscanf(f, "%d", &out[n]) == 1)
        n++;
    fclose(f);
    return n;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int usage(void)
{
    fprintf(stderr, "usage: agm-baseline MODEL.bin TOKENIZER.bin [-p PROMPT] [-n STEPS]\n"
                    "                    [--ids FILE --prompt-len K] [--text] [--time]\n");
    return 2;
}

int main(int argc, char** argv)
{
    if (argc < 3)
        return usage();
    const char* model_path = argv[1];
    const char* tok_path = argv[2];
    const char* prompt = "";
    const char* ids_path = NULL;
    int prompt_len = -1, steps = 256, text = 0, timing = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "-p") && i + 1 < argc)
            prompt = argv[++i];
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ids") && i + 1 < argc)
            ids_path = argv[++i];
        else if (!strcmp(argv[i], "--prompt-len") && i + 1 < argc)
            prompt_len = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--text"))
            text = 1;
        else if (!strcmp(argv[i], "--time"))
            timing = 1;
        else
            return usage();
    }

    size_t size = 0;
    unsigned char* data = read_file(model_path, &size);
    if (!data) {
        fprintf(stderr, "agm-baseline: cannot read %s\n", model_path);
        return 1;
    }
    char err[256];
    bl_model* m = bl_load(data, size, err, sizeof err);
    if (!m) {
        fprintf(stderr, "agm-baseline: %s: %s\n", model_path, err);
        return 1;
    }
    const bl_config* c = bl_get_config(m);
    vocab v;
    if (!load_vocab(&v, tok_path, c->vocab_size)) {
        fprintf(stderr, "agm-baseline: cannot read tokenizer %s\n", tok_path);
        return 1;
    }
    if (steps <= 0 || steps > c->seq_len)
        steps = c->seq_len;

    int cap = c->seq_len + 1;
    int* ids = (int*)malloc(sizeof(int) * (size_t)(cap + 4 * (int)strlen(prompt) + 2));
    int n_prompt;
    if (ids_path) {
        n_prompt = read_ids(ids_path, ids, cap);
        if (n_prompt < 1 || ids[0] != BOS) {
            fprintf(stderr, "agm-baseline: %s: no ids starting with BOS\n", ids_path);
            return 1;
        }
        if (prompt_len > 0 && prompt_len < n_prompt)
            n_prompt = prompt_len;
    } else {
        n_prompt = encode(&v, prompt, ids, cap + 4 * (int)strlen(prompt) + 2);
    }
    for (int i = 0; i < n_prompt; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab_size) {
            fprintf(stderr, "agm-baseline: prompt id %d out of range\n", ids[i]);
            return 1;
        }

    /* positions 0..steps-1; the id at pos+1 is the prompt's, or greedy's */
    int n = 1, ran = 0;
    double t0 = now_seconds();
    for (int pos = 0; pos < steps; pos++) {
        float* logits = bl_forward(m, ids[pos], pos);
        if (!logits) {
            fprintf(stderr, "agm-baseline: forward failed at pos %d\n", pos);
            return 1;
        }
        ran++;
        if (pos + 1 < n_prompt) {
            n = pos + 2;
            continue;
        }
        int next = bl_argmax(logits, c->vocab_size);
        if (next == BOS)
            break;
        ids[pos + 1] = next;
        n = pos + 2;
    }
    double t1 = now_seconds();

    if (text) {
        for (int i = 1; i < n; i++)
            print_piece(&v, ids[i - 1], ids[i]);
        putchar('\n');
    } else {
        for (int i = 0; i < n; i++)
            printf(i ? " %d" : "%d", ids[i]);
        putchar('\n');
    }
    if (timing)
        fprintf(stderr, "agm-baseline: %d positions in %.3f s, %.1f tokens/s\n", ran, t1 - t0,
                (double)ran / (t1 - t0));

    for (int i = 0; i < v.n; i++)
        free(v.piece[i]);
    free(v.piece);
    free(v.score);
    free(ids);
    bl_free(m);
    free(data);
    return 0;
}
