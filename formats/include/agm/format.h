/*
 * agmodel native model file ("AGMF"), version 1: the on-disk layout.
 *
 * Everything is little-endian. docs/format.md is the specification; this
 * header is its machine-checked form (every struct size is asserted).
 *
 *   offset 0      agm_file_header            (64 bytes)
 *   offset 64     agm_section_entry[n]       (32 bytes each)
 *   ...           sections, each at a multiple of AGM_FILE_ALIGN
 *
 * Sections: CONFIG (typed key/value records), TOKENIZER, TENSORS (the index),
 * DATA (tensor bytes, each tensor at a multiple of AGM_FILE_ALIGN from the
 * start of the file), METADATA (free text, optional). A section whose kind a
 * reader does not know is skipped unless its REQUIRED flag is set, in which
 * case the file is refused with a message naming the kind.
 */
#ifndef AGM_FORMAT_H
#define AGM_FORMAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AGM_FILE_MAGIC 0x464D4741u /* "AGMF" read as a little-endian uint32 */
#define AGM_FILE_VERSION 1u
#define AGM_FILE_ALIGN 64u
#define AGM_CHECKSUM_CRC32 1u /* CRC-32/ISO-HDLC, the one of zlib and PNG */

typedef struct agm_file_header {
    uint32_t magic;          /* AGM_FILE_MAGIC */
    uint32_t version;        /* AGM_FILE_VERSION */
    uint32_t header_bytes;   /* sizeof(agm_file_header) */
    uint32_t n_sections;     /* entries in the section table */
    uint64_t file_bytes;     /* size of the whole file */
    uint64_t section_table;  /* offset of the section table (64) */
    uint32_t checksum_kind;  /* AGM_CHECKSUM_CRC32 */
    uint32_t checksum;       /* over all file_bytes, this field read as 0 */
    uint32_t alignment;      /* AGM_FILE_ALIGN */
    uint32_t flags;          /* 0 in version 1 */
    uint8_t reserved[16];    /* zero */
} agm_file_header;

enum agm_section_kind {
    AGM_SECTION_CONFIG = 1,
    AGM_SECTION_TOKENIZER = 2,
    AGM_SECTION_TENSORS = 3,
    AGM_SECTION_DATA = 4,
    AGM_SECTION_METADATA = 5,
    AGM_SECTION_CHAT_TEMPLATE = 6 /* the model's chat template as its source wrote it (optional) */
};
#define AGM_SECTION_REQUIRED 1u

typedef struct agm_section_entry {
    uint32_t kind;     /* agm_section_kind */
    uint32_t flags;    /* AGM_SECTION_REQUIRED if a reader must understand it */
    uint64_t offset;   /* from the start of the file, multiple of AGM_FILE_ALIGN */
    uint64_t bytes;    /* length of the section */
    uint64_t reserved; /* zero */
} agm_section_entry;

/* ---- CONFIG: an array of 12-byte typed records ------------------------- */

enum agm_value_type { AGM_VALUE_U32 = 1, AGM_VALUE_I32 = 2, AGM_VALUE_F32 = 3 };
#define AGM_CONFIG_REQUIRED 1u /* agm_config_entry.flags: unknown key => refuse */

typedef struct agm_config_entry {
    uint16_t key;   /* agm_config_key */
    uint16_t flags; /* AGM_CONFIG_REQUIRED */
    uint32_t type;  /* agm_value_type */
    uint32_t bits;  /* the value: u32, i32 or the f32 bit pattern */
} agm_config_entry;

enum agm_config_key {
    AGM_KEY_ARCH = 1,          /* u32 agm_arch */
    AGM_KEY_DIM = 2,           /* u32 residual width */
    AGM_KEY_HIDDEN_DIM = 3,    /* u32 FFN width */
    AGM_KEY_N_LAYERS = 4,      /* u32 */
    AGM_KEY_N_HEADS = 5,       /* u32 query heads */
    AGM_KEY_N_KV_HEADS = 6,    /* u32 key/value heads (grouped-query attention) */
    AGM_KEY_VOCAB_SIZE = 7,    /* u32 */
    AGM_KEY_MAX_SEQ_LEN = 8,   /* u32 longest context the model was trained for */
    AGM_KEY_HEAD_DIM = 9,      /* u32 per-head width (dim / n_heads if absent) */
    AGM_KEY_NORM_INPUT = 10,   /* u32 agm_norm_kind before attention and FFN */
    AGM_KEY_NORM_SUB = 11,     /* u32 agm_norm_kind before wo and w2 */
    AGM_KEY_NORM_OUTPUT = 12,  /* u32 agm_norm_kind before the classifier */
    AGM_KEY_NORM_EPS = 13,     /* f32 epsilon of AGM_NORM_RMS */
    AGM_KEY_FFN_ACT = 14,      /* u32 agm_ffn_act */
    AGM_KEY_ROPE_THETA = 15,   /* f32 RoPE base */
    AGM_KEY_ROPE_LAYOUT = 16,  /* u32 agm_rope_layout */
    AGM_KEY_TIED_CLASSIFIER = 17, /* u32 1: logits use the token embedding */
    AGM_KEY_ACT_QUANT = 18     /* u32 agm_act_quant of ternary matmul inputs */
};

enum agm_arch { AGM_ARCH_BITNET_LLAMA = 1 };

enum agm_norm_kind {
    AGM_NORM_NONE = 0,     /* identity */
    AGM_NORM_RMS = 1,      /* w_i * (x_i / sqrt(mean(x^2) + eps)), learned w */
    AGM_NORM_RMS_DIV_N = 2 /* x_i * (1 / sqrt(mean(x^2))) / n, no weight, no eps */
};

enum agm_ffn_act {
    AGM_FFN_SILU_GATED = 1, /* w2 * (silu(w1 x) * w3 x) */
    AGM_FFN_RELU2_GATED = 2 /* w2 * (relu(w1 x)^2 * w3 x) */
};

enum agm_rope_layout {
    AGM_ROPE_INTERLEAVED = 1, /* rotate pairs (2i, 2i+1) (Meta LLaMA, llama2.c) */
    AGM_ROPE_HALVES = 2       /* rotate pairs (i, i + head_dim/2) (GPT-NeoX, HF) */
};

enum agm_act_quant {
    AGM_ACT_ABSMAX_I8 = 1 /* per-vector absmax to int8, round half away from 0 */
};

/* ---- TOKENIZER ----------------------------------------------------------
 * Every kind starts with agm_tokenizer_header.
 *
 * AGM_TOKENIZER_SPM_BPE (SentencePiece BPE with scores): the header, then
 * float score[n_tokens], uint32 offset[n_tokens+1] (into the text blob,
 * nondecreasing, offset[n_tokens] == text_bytes), uint8 type[n_tokens]
 * (agm_token_type) zero-padded to a multiple of 4, then the text blob: the
 * pieces' bytes back to back.
 *
 * AGM_TOKENIZER_BPE_BYTES (byte-level BPE: GPT-2, LLaMA-3, Falcon): the
 * header (flags: AGM_TOK_IGNORE_MERGES or 0), agm_bpe_header, then
 *   uint32 offset[n_tokens + 1]   as above
 *   uint8  type[n_tokens]         agm_token_type, zero-padded to a multiple of 4
 *   agm_bpe_merge merge[n_merges] in rank order (merge[0] applies first)
 *   uint32 by_pair[n_merges]      merge indices ordered by (left, right),
 *                                 strictly increasing: a binary search finds
 *                                 the rank of a pair in place
 *   text blob                     the tokens' raw bytes (not GPT-2's
 *                                 byte-to-unicode spelling)
 * A merge joins two tokens into a third whose bytes are theirs concatenated
 * (checked at load; at most AGM_BPE_MAX_MERGED_BYTES). No scores.
 */
enum agm_tokenizer_kind { AGM_TOKENIZER_SPM_BPE = 1, AGM_TOKENIZER_BPE_BYTES = 2 };

enum agm_tokenizer_flag {
    AGM_TOK_ADD_DUMMY_PREFIX = 1u,   /* prepend a space to non-empty input */
    AGM_TOK_REMOVE_EXTRA_WS = 2u,    /* SentencePiece: trim and collapse runs of spaces */
    AGM_TOK_ESCAPE_WS = 4u,          /* pieces spell a space as U+2581 (SentencePiece);
                                        without it as ' ' (llama2.c tokenizer.bin) */
    AGM_TOK_BYTE_FALLBACK = 8u,      /* unknown characters become <0xNN> byte tokens */
    AGM_TOK_IGNORE_MERGES = 16u,     /* byte-level BPE: a pre-token that is itself a
                                        NORMAL token is emitted whole (LLaMA-3) */
    AGM_TOK_NO_BOS = 32u             /* the model's text does not start with BOS (GGUF
                                        tokenizer.ggml.add_bos_token false, a tokenizer.json
                                        post-processor that adds none): agm_model_info.add_bos
                                        is 0, and agmodel-run does not prepend it */
};

/* SentencePiece's piece types, same numbers as its ModelProto (and GGUF's
 * tokenizer.ggml.token_type). */
enum agm_token_type {
    AGM_TOKEN_NORMAL = 1,
    AGM_TOKEN_UNKNOWN = 2,
    AGM_TOKEN_CONTROL = 3,
    AGM_TOKEN_USER_DEFINED = 4,
    AGM_TOKEN_UNUSED = 5,
    AGM_TOKEN_BYTE = 6
};

typedef struct agm_tokenizer_header {
    uint32_t kind;       /* agm_tokenizer_kind */
    uint32_t n_tokens;   /* equals the config's vocab size */
    uint32_t flags;      /* agm_tokenizer_flag */
    int32_t bos_id;      /* -1: none */
    int32_t eos_id;      /* -1: none */
    int32_t unk_id;      /* -1: none */
    int32_t pad_id;      /* -1: none */
    uint32_t text_bytes; /* length of the text blob */
} agm_tokenizer_header;

/* Byte-level BPE pre-tokenizers: how text is cut into pre-tokens before the
 * merges (each cut is BPE-encoded alone). Perl regex syntax; a sequence of
 * regexes splits each piece the previous one made, keeping the unmatched
 * gaps as pieces of their own, and a lookahead sees only its piece
 * (llama.cpp's unicode_regex_split). */
enum agm_pre_tokenizer {
    /* \s is the White_Space property, \p{..} general categories (Unicode 14).
     * Bytes that are not well-formed UTF-8 count one by one as characters
     * that are none of \s, \p{L}, \p{N}, \p{P} (and stay themselves: every
     * byte has its token). */
    /* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
    AGM_PRE_GPT2 = 1,
    /* LLaMA-3 (one line; (?i:...) folds as Perl does: U+017F matches s):
     * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
     */
    AGM_PRE_LLAMA3 = 2,
    /* Falcon (llama.cpp's sequence): [\p{P}\$\+<=>\^~\|`]+ then
     * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) then
     * [0-9][0-9][0-9] */
    AGM_PRE_FALCON = 3
};

typedef struct agm_bpe_header {
    uint32_t pre_tokenizer; /* agm_pre_tokenizer */
    uint32_t n_merges;
    uint32_t reserved[2];   /* zero */
} agm_bpe_header;

typedef struct agm_bpe_merge {
    uint32_t left, right; /* token ids, in this order */
    uint32_t result;      /* the token spelled left's bytes then right's */
} agm_bpe_merge;

#define AGM_BPE_MAX_MERGED_BYTES 4096u /* longest token a merge may make */

/* ---- TENSORS: uint32 count, uint32 zero, then 96-byte entries ----------- */

enum agm_tensor_type {
    AGM_TYPE_F32 = 0,
    AGM_TYPE_F16 = 1,
    AGM_TYPE_I8 = 2,        /* int8, value = q * scale */
    AGM_TYPE_T2_B128 = 16,  /* ternary, 2 bits, blocks of 128 weights: see below */
    AGM_TYPE_TL5_R4 = 17,   /* ternary, 1.6 bits: 5 weights per byte, rows in fours: see below */
    AGM_TYPE_Q4_B32 = 18,   /* 4-bit rows, blocks of 32 with 8-bit block scales: see below */
    AGM_TYPE_TL5_R4S = 19   /* tl5_r4 with an f32 scale per row (ternary embeddings): see below */
};

/*
 * AGM_TYPE_T2_B128: a row of `cols` weights is ceil(cols / 128) blocks of 32
 * bytes (rows are therefore 32-byte aligned). In a block, byte j holds the
 * weights j, j+32, j+64, j+96 of the block in its bit pairs 0-1, 2-3, 4-5, 6-7.
 * A pair is (bit 0: nonzero, bit 1: negative): 00 = 0, 01 = +1, 11 = -1; 10 is
 * read as 0 and never written. Weights past `cols` are 00. Value = w * scale.
 * Why this order: shifting a whole block right by 2k and masking gives 32
 * consecutive weights, so the inner loop is lane-parallel on every ISA.
 */
/*
 * AGM_TYPE_TL5_R4: rows are taken in quads (rows padded to a multiple of 4
 * with zero weights), columns in groups of 5 (padded with zero weights). A
 * quad is G little 4-byte words: G = ceil(cols / 5), rounded up to a
 * multiple of AGM_TL5_QUAD_ALIGN (8: 32 bytes) when it is at least
 * AGM_TL5_QUAD_ALIGN_FROM (64: at most 11% more bytes). Word g holds, in
 * byte i, the group g of row 4q + i as one base-3 number: sum over k of
 * (w_k + 1) * 3^k for the weights w_k of columns 5g + k (0..242; the groups
 * past the columns are 121, all zero). Value = w * scale. Files written
 * before the rounding (G = ceil(cols / 5)) are still read: the tensor's size
 * tells which.
 * Why: a byte indexes a 243-entry table of the 5 activations' signed sums
 * (built once per input vector), so a kernel adds one table entry per 5
 * weights; the four bytes of a word share that table (docs/kernels.md). The
 * rounding puts every 8 or 16 groups of a quad on whole cache lines, so a
 * kernel's tiles read each line once (a small matrix stays cached anyway).
 */
/*
 * AGM_TYPE_Q4_B32 (embeddings and classifiers): a row of `cols` values is
 * nb = ceil(cols / 32) blocks and takes 4 + round_up(nb, 4) + 16 * nb bytes:
 *   f32 d            the row's scale
 *   uint8 s[nb]      block scales (then zero bytes up to a multiple of 4)
 *   nb x 16 bytes    the blocks' 4-bit codes u in 0..15
 * Value of column 32b + 8j + p = d * s[b] * (u - 8), where u is bits
 * 4p..4p+3 of the little-endian word j (0..3) of block b. Columns past
 * `cols` have u = 8 (zero). Rows are 4-byte aligned.
 * Why: with M = 0x000F000F, (word >> 4k) & M puts two codes in the two
 * halfwords of a register, ready for one SMLAD against two int16
 * activations (docs/kernels.md); the integer block scales keep the whole
 * row in int32 arithmetic.
 */
/*
 * AGM_TYPE_TL5_R4S (embeddings and classifiers, the densest choice): the
 * bytes of AGM_TYPE_TL5_R4 for the matrix, then one f32 scale per row of the
 * padded quads (ceil(rows / 4) * 4 floats). Value = w * scale[row].
 */
#define AGM_Q4_BLOCK 32u
#define AGM_Q4_BLOCK_BYTES 16u

#define AGM_TL5_GROUP 5u
#define AGM_TL5_ROWS 4u
#define AGM_TL5_CODES 243u
#define AGM_TL5_QUAD_ALIGN 8u       /* tl5_r4, tl5_r4s: words per quad, a multiple of this ... */
#define AGM_TL5_QUAD_ALIGN_FROM 64u /* ... when ceil(cols / 5) is at least this */
#define AGM_TL5_TABLE_STRIDE 244u /* int16 entries per group in kernel tables: 488 bytes,
                                     an ARM immediate (486 is not) */

#define AGM_T2_BLOCK_WEIGHTS 128u
#define AGM_T2_BLOCK_BYTES 32u

#define AGM_TENSOR_NAME_BYTES 48u
#define AGM_MAX_DIMS 4u

typedef struct agm_tensor_entry {
    char name[AGM_TENSOR_NAME_BYTES]; /* NUL-terminated, NUL-padded */
    uint32_t type;                    /* agm_tensor_type */
    uint32_t n_dims;                  /* 1..AGM_MAX_DIMS */
    uint32_t shape[AGM_MAX_DIMS];     /* outermost first: a matrix is [rows, cols] */
    uint64_t offset;                  /* from the start of the file, multiple of AGM_FILE_ALIGN */
    uint64_t bytes;                   /* exactly what type and shape need */
    float scale;                      /* per-tensor scale (ternary, int8); 1 otherwise */
    uint32_t flags;                   /* zero */
} agm_tensor_entry;

typedef struct agm_tensors_header {
    uint32_t n_tensors;
    uint32_t reserved;
} agm_tensors_header;

#ifdef __cplusplus
}
static_assert(sizeof(agm_file_header) == 64, "agm_file_header layout");
static_assert(sizeof(agm_section_entry) == 32, "agm_section_entry layout");
static_assert(sizeof(agm_config_entry) == 12, "agm_config_entry layout");
static_assert(sizeof(agm_tensor_entry) == 96, "agm_tensor_entry layout");
static_assert(sizeof(agm_tensors_header) == 8, "agm_tensors_header layout");
static_assert(sizeof(agm_tokenizer_header) == 32, "agm_tokenizer_header layout");
static_assert(sizeof(agm_bpe_header) == 16, "agm_bpe_header layout");
static_assert(sizeof(agm_bpe_merge) == 12, "agm_bpe_merge layout");
#endif

#endif /* AGM_FORMAT_H */
