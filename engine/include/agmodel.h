/*
 * agmodel: ternary (BitNet b1.58) transformer inference for small ARM cores.
 *
 * The whole public interface of the engine library. Plain C (C89/C99, no
 * C++ needed by the caller), opaque handles, a status code from every call
 * that can fail, and an optional agm_error that receives a one-line message
 * saying what failed and where. The library never exits, aborts or prints.
 *
 * Memory contract (firmware use):
 *   - init: agm_model_memory_size() / agm_model_init() place the model's
 *     runtime state (layer table, tokenizer index and tokenizer scratch) in
 *     a caller-provided arena; the weights are used in place from the
 *     caller's buffer (RAM or flash). agm_session_memory_size() /
 *     agm_session_init() place a session (KV cache, activations, sampler
 *     scratch) in a second arena. These make no heap calls.
 *   - after init, every call (tokenize, token pieces, feed, step, sample,
 *     reset, logits, control) makes zero heap calls and no system calls.
 *   - conveniences that allocate, for hosts with a heap: agm_model_open_*()
 *     (malloc the model arena; _file also maps the file) and
 *     agm_session_create() (malloc the session arena). Their sessions behave
 *     the same after creation.
 *   - agm_model_init_file() / _open_file() need a POSIX file system
 *     (open, fstat, mmap); bare-metal builds may leave them out.
 *
 * Threads: a model may be shared by sessions, but agm_tokenize() uses the
 * model's scratch: tokenize from one thread at a time per model. A session
 * is used by one thread at a time; its cancel flag may be set from anywhere
 * (an interrupt handler, another thread).
 *
 * Typical firmware use (no heap; see engine/examples/generate.c):
 *   agm_open_options oo; agm_open_options_default(&oo);
 *   agm_model_memory_size(data, size, &oo, &mbytes, &e);      (size the arenas)
 *   agm_model_init(data, size, &oo, model_arena, mbytes, &m, &e);
 *   agm_session_memory_size(m, NULL, &sbytes, &e);
 *   agm_session_init(m, NULL, session_arena, sbytes, &s, &e);
 *   agm_tokenize(m, "Once upon a time", 16, 1, ids, cap, &n, &e);
 *   agm_session_feed(s, ids, n, &e);
 *   agm_sampler smp; agm_sampler_init(&smp, NULL);
 *   agm_session_sample(s, &smp, &next, &e);
 *   while (...) { print piece of next; agm_session_step(s, &smp, next, &next, &e); }
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
    AGM_ERR_BUFFER = 7,       /* an output buffer or an arena is too small, or a text is longer
                                 than the model's tokenizer scratch (max_text_bytes) */
    AGM_ERR_CANCELLED = 8,    /* the session's cancel flag was set: the call stopped between
                                 two units of work; it can be resumed (see agm_control) */
    AGM_ERR_BUDGET = 9        /* the call's work budget is spent: call again with the same
                                 arguments to continue (see agm_control) */
} agm_status;

/* A one-line, NUL-terminated message filled in by a failing call. */
typedef struct agm_error {
    char message[256];
} agm_error;

/* Short name of a status ("format error", ...); never NULL. */
const char* agm_status_name(agm_status status);

/* ---- Model ------------------------------------------------------------- */

typedef struct agm_model agm_model;

typedef struct agm_open_options {
    int verify_checksum;     /* 1 (default): read the whole file once and check its CRC-32 */
    uint32_t max_text_bytes; /* longest text agm_tokenize() accepts (default 1024): the
                                model's arena holds the tokenizer's scratch for it (about
                                150 bytes per text byte for SentencePiece vocabularies on a
                                32-bit target, 44 for byte-level BPE); a longer text gets
                                AGM_ERR_BUFFER */
} agm_open_options;

/* Fills *options with the defaults.
 * [out] options: verify_checksum 1, max_text_bytes 1024. */
void agm_open_options_default(agm_open_options* options);

/* Bytes of arena agm_model_init() needs for this model file (the model's
 * runtime state: its layer table, the tokenizer's index and scratch; not
 * the weights, which stay in data). Reads the file's header and tables only.
 * [in]  data, size: the model file in memory (as for agm_model_init)
 * [in]  options: NULL for the defaults (max_text_bytes matters here)
 * [out] bytes: the arena size, alignment slack included
 * [out] error: NULL or a message on failure */
agm_status agm_model_memory_size(const void* data, size_t size, const agm_open_options* options,
                                 size_t* bytes, agm_error* error);

/* The same for a file (maps it, reads its header and tables, unmaps it).
 * POSIX file systems only. [in] path. Other parameters as above. */
agm_status agm_model_memory_size_file(const char* path, const agm_open_options* options,
                                      size_t* bytes, agm_error* error);

/* Validates the model in data[size] and opens it in arena[arena_bytes]: no
 * heap calls. The weights are used in place.
 * [in]  data: the model file, at least 64-byte aligned (RAM or flash);
 *       must outlive the model
 * [in]  options: NULL for the defaults
 * [in]  arena: any alignment; arena_bytes >= agm_model_memory_size()
 *       (else AGM_ERR_BUFFER); must outlive the model; the model does not
 *       free it
 * [out] out: the model; agm_model_close() ends it
 * [out] error: NULL or a message on failure */
agm_status agm_model_init(const void* data, size_t size, const agm_open_options* options,
                          void* arena, size_t arena_bytes, agm_model** out, agm_error* error);

/* As agm_model_init() for the file at path, mapped read-only (the mapping is
 * released by agm_model_close()). POSIX file systems only. */
agm_status agm_model_init_file(const char* path, const agm_open_options* options, void* arena,
                               size_t arena_bytes, agm_model** out, agm_error* error);

/* Convenience (allocates the model's arena with malloc): maps the file at
 * `path` read-only and validates it. options may be NULL. */
agm_status agm_model_open_file(const char* path, const agm_open_options* options,
                               agm_model** out, agm_error* error);

/* Convenience (allocates the model's arena with malloc): uses a model that
 * is already in memory (flash, a firmware buffer) in place.
 * [in] data: at least 64-byte aligned, `size` bytes; must outlive the model. */
agm_status agm_model_open_memory(const void* data, size_t size, const agm_open_options* options,
                                 agm_model** out, agm_error* error);

/* Ends a model from any of the calls above (frees what they allocated,
 * unmaps what they mapped; a caller's arena is left to the caller).
 * Sessions of the model must be ended first. NULL is ignored. */
void agm_model_close(agm_model* model);

typedef struct agm_model_info {
    uint32_t arch;          /* agm_arch (agm/format.h) */
    uint32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, head_dim;
    uint32_t vocab_size, max_seq_len;
    int32_t bos_id, eos_id; /* -1: none */
    int32_t add_bos;        /* 1: the model's text starts with BOS (pass it as agm_tokenize's
                               add_bos); 0: not (GPT-2-style vocabularies) */
    uint64_t file_bytes;    /* the model file (mapped, not copied) */
    uint64_t model_bytes;   /* memory the model holds beyond the file: its arena */
} agm_model_info;

void agm_model_get_info(const agm_model* model, agm_model_info* info);

/* The model's chat template as its source wrote it (GGUF
 * tokenizer.chat_template, Hugging Face tokenizer_config.json's
 * chat_template; the converter keeps it), in place in the model file: not
 * NUL-terminated, *len bytes. NULL (and *len 0) if the file has none.
 * [in] model [out] len (may be NULL) */
const char* agm_model_chat_template(const agm_model* model, size_t* len);

/* ---- Tokenizer --------------------------------------------------------- */

/* Encodes `len` bytes of text (any bytes: invalid UTF-8 falls back to byte
 * tokens). Writes at most `cap` ids to out and the full count to *n_out;
 * AGM_ERR_BUFFER if cap is too small (call again with *n_out), or, with
 * *n_out 0, if len exceeds the max_text_bytes the model was opened with.
 * With a byte-level BPE vocabulary (GPT-2, LLaMA-3), control and
 * user-defined tokens written in the text ("<|endoftext|>") become those
 * tokens. No heap calls (the model's scratch; see Threads above).
 * [in]  model, text[len], add_bos (1: BOS first)
 * [out] out[cap] ids, n_out the count, error NULL or a message */
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

/* agm_token_piece() with a status: AGM_ERR_BUFFER (and the first cap bytes)
 * if the piece is longer than cap, AGM_ERR_ARGUMENT for a NULL model or a
 * model without tokenizer.
 * [in]  model, prev (the previous token, -1 if none), token, flags
 * [out] buf[cap] the bytes (no NUL), n_out their full count, error */
agm_status agm_detokenize(const agm_model* model, int32_t prev, int32_t token, uint32_t flags,
                          char* buf, size_t cap, size_t* n_out, agm_error* error);

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
    const char* kernels; /* NULL (default): the fastest kernels this CPU runs; else a variant's
                            name ("ref", "lut", "armv6", "avx2": docs/kernels.md), for tests
                            and measurements; AGM_ERR_ARGUMENT if this build or CPU has none
                            of that name. Every variant computes the same bits. */
} agm_session_options;

void agm_session_options_default(agm_session_options* options);

/* Bytes of arena a session with these options needs (the session object,
 * KV cache of the chosen type, activations, scratch, alignment slack).
 * AGM_ERR_ARGUMENT for an unknown kv_type or a context longer than the model's.
 * [in] model, options (NULL: defaults) [out] bytes, error */
agm_status agm_session_memory_size(const agm_model* model, const agm_session_options* options,
                                   size_t* bytes, agm_error* error);

/* Initialises a session in arena[arena_bytes] (any alignment; at least
 * agm_session_memory_size(), else AGM_ERR_BUFFER): no heap calls, and none
 * after. The arena must outlive the session; agm_session_free() does not
 * free it.
 * [in] model (must outlive the session), options (NULL: defaults), arena
 * [out] out the session, error */
agm_status agm_session_init(const agm_model* model, const agm_session_options* options,
                            void* arena, size_t arena_bytes, agm_session** out, agm_error* error);

/* Convenience: agm_session_init() in an arena from malloc, freed by
 * agm_session_free(); nothing is allocated after this. */
agm_status agm_session_create(const agm_model* model, const agm_session_options* options,
                              agm_session** out, agm_error* error);

/* Ends a session (frees the arena of agm_session_create(); a caller's arena
 * is left to the caller). NULL is ignored. */
void agm_session_free(agm_session* session);

/* Forgets all tokens, and any interrupted call; the next token goes to
 * position 0. AGM_ERR_ARGUMENT for NULL. */
agm_status agm_session_reset(agm_session* session);

/* Cancellation and work budget (firmware: keep each call short).
 * A unit of work is one transformer layer run for one token, or the
 * classifier run once. The cancel flag is read and the budget checked
 * before each unit: a call of agm_session_feed() or agm_session_step()
 * that stops there returns AGM_ERR_CANCELLED (the flag was nonzero) or
 * AGM_ERR_BUDGET (work_budget units done in this call; at least one unit is
 * always done, so repeated calls finish). The session keeps the interrupted
 * call's progress: call again with the same arguments to continue (clear
 * the flag first after a cancel), or agm_session_reset(). Until the
 * interrupted call completes, agm_session_logits() is NULL and a call with
 * other tokens gets AGM_ERR_ARGUMENT. A token budget needs no option: feed
 * fewer tokens per call. */
typedef struct agm_control {
    const volatile int* cancel; /* NULL: none; nonzero: stop at the next unit */
    uint32_t work_budget;       /* units per call; 0: unlimited */
} agm_control;

/* [out] control: no cancel flag, no budget. */
void agm_control_default(agm_control* control);

/* Sets the session's control (copied; the flag is read through the pointer,
 * which must stay valid). [in] session, control (NULL: the defaults) */
agm_status agm_session_set_control(agm_session* session, const agm_control* control,
                                   agm_error* error);

/* Runs the model on n tokens at the next positions. Afterwards
 * agm_session_logits() holds the logits that follow the last one (the
 * classifier runs for the last token only: feed a prompt in one call).
 * AGM_ERR_CONTEXT_FULL if the tokens do not fit the context;
 * AGM_ERR_CANCELLED / AGM_ERR_BUDGET: see agm_control.
 * [in] session, tokens[n] [out] error */
agm_status agm_session_feed(agm_session* session, const int32_t* tokens, size_t n,
                            agm_error* error);

/* agm_session_feed() with a sparse classifier: the logits after the last
 * token are computed only for the tokens in rows (bit t % 32 of
 * rows[t / 32], (vocab_size + 31) / 32 words; NULL: all, exactly
 * agm_session_feed), each bit for bit the value the full product gives; the
 * others are -infinity. With a grammar, rows is the mask of the next token
 * (agm_matcher_fill_mask after accepting the tokens fed), and the classifier
 * costs what the grammar allows instead of the whole vocabulary; rows
 * allowing none (before forced tokens) skip the classifier and the last
 * layer's work beyond the KV entries. An
 * interrupted call is continued with the same tokens and the same mask
 * contents. [in] session, tokens[n], rows [out] error */
agm_status agm_session_feed_rows(agm_session* session, const int32_t* tokens, size_t n,
                                 const uint32_t* rows, agm_error* error);

/* [vocab_size] logits after the last fed token; NULL before any. */
const float* agm_session_logits(const agm_session* session);

/* Tokens fed since creation or the last reset. */
uint32_t agm_session_position(const agm_session* session);

uint32_t agm_session_context(const agm_session* session);

/* Snapshots: what a session needs to go on from its position (the KV rows
 * of positions 0..position-1 and the token ids fed there), in the layout of
 * docs/format.md ("Session snapshots"): versioned, CRC-checked, bound to the
 * model file and the KV type. A long fixed prompt is fed once, saved, and
 * later loaded instead of fed again (agmodel-run --prompt-cache). No heap:
 * the caller owns the buffers; load reads the snapshot in place (it may be
 * in flash). Logits are not part of it: after load (and truncate) feed at
 * least one token before sampling. */

/* The token ids fed at positions 0..position-1 ([agm_session_position]). */
const int32_t* agm_session_tokens(const agm_session* session);

/* Bytes agm_session_save() writes for the session as it is now. */
size_t agm_session_state_size(const agm_session* session);

/* Writes the snapshot into buf[cap] (any alignment); *written = its size.
 * AGM_ERR_BUFFER if cap is smaller (nothing written); AGM_ERR_ARGUMENT
 * while an interrupted feed is pending. [in] session [out] buf, written, error */
agm_status agm_session_save(const agm_session* session, void* buf, size_t cap, size_t* written,
                            agm_error* error);

/* Replaces the session's state with the snapshot bytes[n] (any alignment).
 * It must come from a session of the same model file (its checksum and
 * shapes) with the same KV type, and fit this session's context. Any
 * failure (damaged, truncated, another model, another KV type, too long)
 * says why and leaves the session as it was. [in] bytes [out] error */
agm_status agm_session_load(agm_session* session, const void* bytes, size_t n, agm_error* error);

/* The tokens a snapshot holds, copied into tokens[cap] (*n_tokens: how many
 * it holds; AGM_ERR_BUFFER, with *n_tokens set, if cap is smaller), after
 * the same checks as load (the model's): to find the common prefix of a
 * cached prompt before loading it. */
agm_status agm_snapshot_tokens(const agm_model* model, const void* bytes, size_t n, int32_t* tokens, size_t cap,
                               size_t* n_tokens, agm_error* error);

/* Keeps positions 0..n-1 and forgets the rest (n <= position): a prompt
 * that shares only a prefix with what was fed goes on from there. No
 * logits afterwards. [in] n [out] error */
agm_status agm_session_truncate(agm_session* session, uint32_t n, agm_error* error);

/* How many of the positions held (held[n_held]: agm_session_tokens, or a
 * snapshot's agm_snapshot_tokens) can serve prompt[n]: their common
 * prefix, but never all of the prompt (its last token must be fed: the
 * logits after it are not kept). Truncate to it, feed prompt from there.
 * [in] held[n_held], prompt[n] */
size_t agm_reusable_prefix(const int32_t* held, size_t n_held, const int32_t* prompt, size_t n);

/* Bytes of the session's arena (its whole working memory): what
 * agm_session_memory_size() gave for its options. */
size_t agm_session_memory_used(const agm_session* session);

/* ---- Sampling ---------------------------------------------------------- */

/* Bounds of the fixed arrays below (the sampler makes no heap calls). */
#define AGM_SAMPLER_MAX_LAST_N 256 /* tokens of history the penalties can look at */
#define AGM_SAMPLER_MAX_BIAS 16    /* logit biases */

typedef struct agm_logit_bias {
    int32_t token;
    float bias; /* added to the token's logit; -INFINITY bans it */
} agm_logit_bias;

/* The order: logit biases, then the penalties over the last repeat_last_n
 * tokens of the history, then min-p (on those logits, before the
 * temperature, as llama.cpp), then temperature, top-k and top-p (top-p on
 * the tempered distribution: llama.cpp applies it before the temperature;
 * docs/sampling.md). Penalties, as llama.cpp: a token seen c > 0
 * times has its logit l made l / repeat_penalty when l > 0, l *
 * repeat_penalty otherwise, then lowered by c * frequency_penalty +
 * presence_penalty. Defaults leave every control off (the logits as they
 * are); out-of-range values are clamped as agm_sampler_params_check() says. */
typedef struct agm_sampler_params {
    float temperature; /* 0: greedy (first index of the largest logit) */
    uint32_t top_k;    /* 0: off */
    float top_p;       /* >= 1 or <= 0: off */
    uint64_t seed;     /* same seed, same logits => same tokens */
    float min_p;       /* keep tokens with p >= min_p * p(most likely); 0: off */
    float repeat_penalty;    /* 1: off */
    float presence_penalty;  /* 0: off */
    float frequency_penalty; /* 0: off */
    uint32_t repeat_last_n;  /* history the penalties look at (default 64, at most AGM_SAMPLER_MAX_LAST_N) */
    uint32_t n_logit_bias;   /* entries of logit_bias in use */
    agm_logit_bias logit_bias[AGM_SAMPLER_MAX_BIAS];
} agm_sampler_params;

/* A sampler remembers the tokens it picked (and those given to
 * agm_sampler_accept) for the penalties: a ring of the last
 * AGM_SAMPLER_MAX_LAST_N. */
typedef struct agm_sampler {
    agm_sampler_params params;
    uint64_t rng_state;
    int32_t history[AGM_SAMPLER_MAX_LAST_N];
    uint32_t history_len; /* tokens in the ring (at most AGM_SAMPLER_MAX_LAST_N) */
    uint32_t history_pos; /* where the next one goes */
} agm_sampler;

void agm_sampler_params_default(agm_sampler_params* params); /* greedy, seed 42, controls off */

/* AGM_ERR_ARGUMENT (and why) when a value is out of range: temperature,
 * top_p, min_p, penalties not finite or negative (repeat_penalty must be
 * > 0), min_p above 1, repeat_last_n or n_logit_bias above the bounds, a
 * bias NaN or +infinity. The sampler itself never fails on such values:
 * it clamps the counts to the bounds and takes a bad control as off. */
agm_status agm_sampler_params_check(const agm_sampler_params* params, agm_error* error);

/* params may be NULL (defaults). The history starts empty. */
void agm_sampler_init(agm_sampler* sampler, const agm_sampler_params* params);

/* Adds a token the sampler did not pick to its history: the prompt's tokens
 * (llama.cpp's penalties see them too) and tokens fed without sampling
 * (jump-forward). The sample calls add the token they return themselves. */
void agm_sampler_accept(agm_sampler* sampler, int32_t token);

/* Picks the next token from the session's current logits, using the
 * session's scratch (no allocation), and adds it to the sampler's history.
 * AGM_ERR_ARGUMENT before any token.
 * [in] session [in,out] sampler (its random state advances) [out] token, error */
agm_status agm_session_sample(agm_session* session, agm_sampler* sampler, int32_t* token,
                              agm_error* error);

/* As agm_session_sample(), restricted to the tokens whose bit is set in mask
 * (bit t % 32 of mask[t / 32]; (vocab_size + 31) / 32 words; NULL: all):
 * exactly agm_session_sample() with every other logit at -infinity (greedy:
 * the first index of the largest allowed logit), and no other logit is read.
 * AGM_ERR_ARGUMENT when the mask allows nothing, or when logit biases of
 * -infinity ban every token it allows. Work: O(allowed + vocab/32).
 * [in] session, mask [in,out] sampler [out] token, error */
agm_status agm_session_sample_masked(agm_session* session, agm_sampler* sampler, const uint32_t* mask,
                                     int32_t* token, agm_error* error);

/* ---- Stop strings -------------------------------------------------------
 *
 * Ends the output at the first of up to AGM_STOP_MAX strings, found across
 * token boundaries: the output's bytes go in as they are made; what comes
 * out is the text safe to show (bytes that may start a stop string are held
 * back until the next bytes tell), never the stop string itself. Fixed
 * size, no heap calls. */
#define AGM_STOP_MAX 8
#define AGM_STOP_MAX_BYTES 64

typedef struct agm_stop {
    char text[AGM_STOP_MAX][AGM_STOP_MAX_BYTES];
    uint8_t fail[AGM_STOP_MAX][AGM_STOP_MAX_BYTES]; /* KMP failure function */
    uint8_t len[AGM_STOP_MAX];
    uint8_t state[AGM_STOP_MAX]; /* bytes of each string matched at the end of the output */
    char held[AGM_STOP_MAX_BYTES];
    uint32_t n, n_held;
    int32_t matched; /* -1: none yet */
} agm_stop;

/* strings[i] has lengths[i] bytes (lengths NULL: NUL-terminated), 1 to
 * AGM_STOP_MAX_BYTES each; n <= AGM_STOP_MAX (0: nothing stops). */
agm_status agm_stop_init(agm_stop* stop, const char* const* strings, const size_t* lengths, size_t n,
                         agm_error* error);

/* Takes bytes[n] of output; writes the bytes now safe to show to out
 * (*n_out of them; cap >= n + AGM_STOP_MAX_BYTES, else AGM_ERR_BUFFER and
 * nothing is taken). Once a stop string is complete, out ends before it and
 * later calls write nothing. */
agm_status agm_stop_feed(agm_stop* stop, const char* bytes, size_t n, char* out, size_t cap,
                         size_t* n_out, agm_error* error);

/* Index of the stop string found, or -1. */
int agm_stop_matched(const agm_stop* stop);

/* At the end of the output: the bytes still held back (none after a
 * match); cap >= AGM_STOP_MAX_BYTES. Returns their count. */
size_t agm_stop_flush(agm_stop* stop, char* out, size_t cap);

/* One decoding step: feeds `token` (the last one picked) and samples the
 * next into *next. After AGM_ERR_CANCELLED / AGM_ERR_BUDGET call again with
 * the same token to continue (see agm_control).
 * [in] session, token [in,out] sampler [out] next, error */
agm_status agm_session_step(agm_session* session, agm_sampler* sampler, int32_t token,
                            int32_t* next, agm_error* error);

/* ---- Grammars (constrained decoding) ------------------------------------
 *
 * A grammar in llama.cpp's GBNF dialect (docs/structured-output.md) is
 * compiled once into a caller arena (agm_grammar: read-only afterwards, may
 * be shared) and bound to a model's vocabulary; a matcher (agm_matcher, a
 * second arena) holds the parse state of one output. The grammar is matched
 * on bytes: a token is allowed when its bytes (agm_token_piece after the
 * previous token) keep the output a prefix of a sentence of the grammar; EOS
 * is allowed only where the output is a whole sentence. No heap calls in any
 * of these but the _create conveniences. */

typedef struct agm_grammar agm_grammar;
typedef struct agm_matcher agm_matcher;

typedef struct agm_grammar_options {
    const char* root;    /* start rule (NUL-terminated); NULL: "root" */
    uint32_t max_stacks; /* parse stacks a matcher keeps at once (ambiguity bound; default 64) */
    uint32_t max_depth;  /* nesting depth of one stack (default 128) */
    uint32_t mask_cache; /* masks a matcher remembers per stack top (default 64; 0: none, every
                            mask walks the vocabulary); each costs vocab_size * 5 / 4 bytes
                            of the matcher's arena (two bit masks and a byte per token:
                            64 entries are 2.5 MB at 32,000 tokens). Kept across
                            agm_matcher_reset. Masks are the same either way. */
    uint32_t precompute; /* 1 (default): agm_matcher_init computes the entries of every
                            repetition's first bytes (a JSON string's characters, ...), so
                            the first output's masks cost what later ones do; init takes
                            longer instead (docs/structured-output.md). 0: on first use. */
} agm_grammar_options;

void agm_grammar_options_default(agm_grammar_options* options);

/* Exact bytes of arena agm_grammar_init() needs for text[len] with this
 * model (NULL: no vocabulary; the grammar can then only check bytes).
 * A grammar that does not parse, or is too large, fails here with the same
 * message as init; the checks that work in the arena (left recursion, a
 * rule that can never complete) run in init. */
agm_status agm_grammar_memory_size(const agm_model* model, const char* text, size_t len,
                                   const agm_grammar_options* options, size_t* bytes,
                                   agm_error* error);

/* Parses, checks and compiles text[len] into arena[arena_bytes] (any
 * alignment; AGM_ERR_BUFFER if smaller than agm_grammar_memory_size()).
 * Messages: "grammar: line 3, column 7: expected ...", "grammar: rule x is
 * left-recursive", ... The text is not kept; the model must outlive it. */
agm_status agm_grammar_init(const agm_model* model, const char* text, size_t len,
                            const agm_grammar_options* options, void* arena, size_t arena_bytes,
                            agm_grammar** out, agm_error* error);

/* Convenience: agm_grammar_init() in an arena from malloc, freed by agm_grammar_free(). */
agm_status agm_grammar_create(const agm_model* model, const char* text, size_t len,
                              const agm_grammar_options* options, agm_grammar** out,
                              agm_error* error);
void agm_grammar_free(agm_grammar* grammar);

/* Exact bytes of arena a matcher of this grammar needs. */
agm_status agm_matcher_memory_size(const agm_grammar* grammar, size_t* bytes, agm_error* error);
agm_status agm_matcher_init(const agm_grammar* grammar, void* arena, size_t arena_bytes,
                            agm_matcher** out, agm_error* error);
agm_status agm_matcher_create(const agm_grammar* grammar, agm_matcher** out, agm_error* error);
void agm_matcher_free(agm_matcher* matcher);

/* Back to the start of the grammar. prev: the token the output follows (the
 * prompt's last token; -1: none), which decides a SentencePiece piece's
 * leading space after BOS. */
agm_status agm_matcher_reset(agm_matcher* matcher, int32_t prev);

/* Advances over one token (its bytes after the previous token), or over
 * bytes. AGM_ERR_ARGUMENT if the grammar does not allow them: the state is
 * then unchanged. EOS is accepted only when agm_matcher_is_complete(), and
 * ends the matcher (nothing is allowed after it). */
agm_status agm_matcher_accept_token(agm_matcher* matcher, int32_t token, agm_error* error);
agm_status agm_matcher_accept_bytes(agm_matcher* matcher, const char* bytes, size_t n,
                                    agm_error* error);

/* 1 when the output so far is a whole sentence of the grammar (EOS allowed). */
int agm_matcher_is_complete(const agm_matcher* matcher);
/* 1 after EOS was accepted, or when nothing can follow. */
int agm_matcher_is_done(const agm_matcher* matcher);

/* The tokens allowed next as a bitmask: bit (t % 32) of mask[t / 32] is 1
 * when token t is allowed. words >= (vocab_size + 31) / 32. *n_allowed (may
 * be NULL): how many bits are set. Needs a grammar with a model. */
agm_status agm_matcher_fill_mask(agm_matcher* matcher, uint32_t* mask, size_t words,
                                 uint32_t* n_allowed, agm_error* error);

/* The bytes every continuation of the output starts with (jump-forward):
 * writes at most cap of them to buf, *n_out their count (0 when the next
 * byte is not forced, or the output may end here). */
agm_status agm_matcher_forced_bytes(agm_matcher* matcher, char* buf, size_t cap,
                                    size_t* n_out, agm_error* error);

/* Jump-forward: the tokens that write the forced bytes (as
 * agm_matcher_forced_bytes finds them, up to 256), chosen by this library,
 * not sampled: at each point the longest vocabulary token that is a prefix
 * of the bytes still forced. Writes at most cap ids, *n_out their count (0:
 * nothing is forced, or the output follows BOS). The matcher is not
 * advanced: feed the tokens to the session and to agm_matcher_accept_token.
 * The model would not always have chosen these tokens (it might have
 * written the forced text with a token that also starts what follows);
 * docs/structured-output.md measures the difference. */
agm_status agm_matcher_forced_tokens(agm_matcher* matcher, int32_t* tokens, size_t cap, size_t* n_out,
                                     agm_error* error);

/* What the matcher's mask cache has done since init (for tuning
 * mask_cache and for benchmarks). */
typedef struct agm_matcher_stats {
    uint64_t cache_hits;    /* stack tops whose mask came from an entry */
    uint64_t cache_misses;  /* entries computed (at init included) */
    uint32_t precomputed;   /* entries computed by agm_matcher_init */
    uint32_t entries_used;  /* entries holding a mask now */
} agm_matcher_stats;

void agm_matcher_get_stats(const agm_matcher* matcher, agm_matcher_stats* stats);

#ifdef __cplusplus
}
#endif

#endif /* AGMODEL_H */
