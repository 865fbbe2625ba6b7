/*
 * agmodel: ternary (BitNet b1.58) transformer inference for small ARM cores.
 *
 * The whole public interface of the engine library. Plain C, opaque handles,
 * a status code from every call that can fail, and an optional agm_error that
 * receives a one-line message saying what failed and where. The library never
 * exits, aborts or prints.
 *
 * Typical use:
 *   agm_model* m; agm_session* s; agm_error e;
 *   agm_model_open_file("model.agm", NULL, &m, &e);
 *   agm_session_create(m, NULL, &s, &e);
 *   agm_tokenize(m, "Once upon a time", 16, 1, ids, cap, &n, &e);
 *   agm_session_feed(s, ids, n, &e);
 *   agm_sampler smp; agm_sampler_init(&smp, NULL);
 *   agm_session_sample(s, &smp, &next);  ... agm_session_feed(s, &next, 1, &e) ...
 *   agm_session_free(s); agm_model_close(m);
 */
#ifndef AGMODEL_H
#define AGMODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum agm_status {
    AGM_OK = 0,
    AGM_ERR_ARGUMENT = 1,     /* a parameter is out of range or NULL */
    AGM_ERR_IO = 2,           /* the file could not be opened, read or mapped */
    AGM_ERR_FORMAT = 3,       /* the file is damaged or inconsistent */
    AGM_ERR_UNSUPPORTED = 4,  /* valid, but needs something this build lacks */
    AGM_ERR_NO_MEMORY = 5,    /* an allocation failed */
    AGM_ERR_CONTEXT_FULL = 6, /* the session's context length is reached */
    AGM_ERR_BUFFER = 7        /* an output buffer is too small */
} agm_status;

/* A one-line, NUL-terminated message filled in by a failing call. */
typedef struct agm_error {
    char message[256];
} agm_error;

/* Short name of a status ("format error", ...). */
const char* agm_status_name(agm_status status);

/* ---- Model ------------------------------------------------------------- */

typedef struct agm_model agm_model;

typedef struct agm_open_options {
    int verify_checksum; /* 1 (default): read the whole file once and check its CRC-32 */
} agm_open_options;

/* Fills *options with the defaults. */
void agm_open_options_default(agm_open_options* options);

/* Maps the file at `path` read-only and validates it. options may be NULL. */
agm_status agm_model_open_file(const char* path, const agm_open_options* options,
                               agm_model** out, agm_error* error);

/* Uses a model that is already in memory (flash, a firmware buffer) in place.
 * [in] data: at least 64-byte aligned, `size` bytes; must outlive the model. */
agm_status agm_model_open_memory(const void* data, size_t size, const agm_open_options* options,
                                 agm_model** out, agm_error* error);

void agm_model_close(agm_model* model);

typedef struct agm_model_info {
    uint32_t arch;          /* agm_arch (agm/format.h) */
    uint32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, head_dim;
    uint32_t vocab_size, max_seq_len;
    int32_t bos_id, eos_id; /* -1: none */
    int32_t add_bos;        /* 1: the model's text starts with BOS (pass it as agm_tokenize's
                               add_bos); 0: not (GPT-2-style vocabularies) */
    uint64_t file_bytes;    /* the model file (mapped, not copied) */
    uint64_t model_bytes;   /* memory the model holds beyond the file (tokenizer index) */
} agm_model_info;

void agm_model_get_info(const agm_model* model, agm_model_info* info);

/* ---- Tokenizer --------------------------------------------------------- */

/* Encodes `len` bytes of text (any bytes: invalid UTF-8 falls back to byte
 * tokens). Writes at most `cap` ids to out and the full count to *n_out;
 * AGM_ERR_BUFFER if cap is too small (call again with *n_out). With a
 * byte-level BPE vocabulary (GPT-2, LLaMA-3), control and user-defined
 * tokens written in the text ("<|endoftext|>") become those tokens. */
agm_status agm_tokenize(const agm_model* model, const char* text, size_t len, int add_bos,
                        int32_t* out, size_t cap, size_t* n_out, agm_error* error);

#define AGM_PIECE_PRINTABLE 1u /* drop single raw bytes that are neither printable nor space
                                  (byte-level BPE: only such ASCII bytes; bytes >= 0x80 are
                                  parts of characters split across tokens) */

/* The bytes that `token` contributes to text when it follows `prev`
 * (SentencePiece: a space after BOS is dropped, <0xNN> becomes its byte;
 * byte-level BPE: the token's bytes). Control and unknown tokens contribute
 * nothing. Returns the full length; writes at most cap bytes (no NUL). */
size_t agm_token_piece(const agm_model* model, int32_t prev, int32_t token, uint32_t flags,
                       char* buf, size_t cap);

/* ---- Session ----------------------------------------------------------- */

typedef struct agm_session agm_session;

/* What the KV cache stores (agm_session_options.kv_type). Bytes per layer
 * and position, kv_dim = n_kv_heads * head_dim, for K and V each:
 *   AGM_KV_F32: 4 * kv_dim. Exact: the reference's float cache, the only type
 *               the golden outputs are defined for.
 *   AGM_KV_F16: 2 * kv_dim. IEEE binary16, round to nearest even (relative
 *               error <= 2^-11; finite values beyond 65504 saturate).
 *   AGM_KV_Q8:  kv_dim + 4 * n_kv_heads. int8 per block of head_dim values
 *               (one position, one KV head) with a float scale max|x|/127;
 *               error <= max|x|/254 per value.
 * Attention converts the stored rows back to float as it reads them. */
typedef enum agm_kv_type {
    AGM_KV_F32 = 0,
    AGM_KV_F16 = 1,
    AGM_KV_Q8 = 2
} agm_kv_type;

typedef struct agm_session_options {
    uint32_t n_ctx;   /* context length in tokens, at most the model's max_seq_len;
                         0: max_seq_len, capped at 4096 */
    uint32_t kv_type; /* agm_kv_type: AGM_KV_F32 (default) | AGM_KV_F16 | AGM_KV_Q8 */
} agm_session_options;

void agm_session_options_default(agm_session_options* options);

/* Bytes a session with these options needs (KV cache of the chosen type,
 * activations, scratch). AGM_ERR_ARGUMENT for an unknown kv_type. */
agm_status agm_session_memory_size(const agm_model* model, const agm_session_options* options,
                                   size_t* bytes, agm_error* error);

/* Allocates the session's arena once; nothing is allocated after this. */
agm_status agm_session_create(const agm_model* model, const agm_session_options* options,
                              agm_session** out, agm_error* error);

void agm_session_free(agm_session* session);

/* Forgets all tokens; the next token goes to position 0. */
void agm_session_reset(agm_session* session);

/* Runs the model on n tokens at the next positions. Afterwards
 * agm_session_logits() holds the logits that follow the last one (the
 * classifier runs for the last token only: feed a prompt in one call). */
agm_status agm_session_feed(agm_session* session, const int32_t* tokens, size_t n,
                            agm_error* error);

/* [vocab_size] logits after the last fed token; NULL before any. */
const float* agm_session_logits(const agm_session* session);

/* Tokens fed since creation or the last reset. */
uint32_t agm_session_position(const agm_session* session);

uint32_t agm_session_context(const agm_session* session);

/* Bytes of the session's arena (its whole working memory). */
size_t agm_session_memory_used(const agm_session* session);

/* ---- Sampling ---------------------------------------------------------- */

typedef struct agm_sampler_params {
    float temperature; /* 0: greedy (first index of the largest logit) */
    uint32_t top_k;    /* 0: off */
    float top_p;       /* >= 1 or <= 0: off */
    uint64_t seed;     /* same seed, same logits => same tokens */
} agm_sampler_params;

typedef struct agm_sampler {
    agm_sampler_params params;
    uint64_t rng_state;
} agm_sampler;

void agm_sampler_params_default(agm_sampler_params* params); /* greedy, seed 42 */

/* params may be NULL (defaults). */
void agm_sampler_init(agm_sampler* sampler, const agm_sampler_params* params);

/* Picks the next token from the session's current logits, using the
 * session's scratch (no allocation). */
agm_status agm_session_sample(agm_session* session, agm_sampler* sampler, int32_t* token,
                              agm_error* error);

#ifdef __cplusplus
}
#endif

#endif /* AGMODEL_H */
