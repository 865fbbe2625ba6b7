/*
 * agm baseline: straightforward scalar forward pass of an ak42 checkpoint.
 * See baseline.h. Every float operation follows the model README's "Forward
 * pass semantics" in order (sequential sums from index 0, no fused
 * multiply-add: build with -ffp-contract=off and without -ffast-math).
 */
#include "baseline.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BL_MAGIC 0x616b3432u /* "ak42" */
#define BL_HEADER_BYTES 256u

enum { BL_WQ, BL_WK, BL_WV, BL_WO, BL_W1, BL_W2, BL_W3, BL_KINDS };

/* One ternary matrix [rows x cols]: 2-bit codes, four per byte, row-major,
 * first weight of a byte in bits 7..6; 00 -> 0, 01 -> +1, 11 -> -1. */
typedef struct bl_ternary {
    const uint8_t* codes; /* [rows * cols / 4], in the caller's buffer */
    float scale;          /* s_W: mean |latent weight| */
    int rows, cols;
} bl_ternary;

struct bl_model {
    bl_config cfg;
    int kv_dim, head_size;
    float* rms_final;           /* [dim] learned final norm weight */
    float* embedding;           /* [vocab_size x dim], also the classifier */
    bl_ternary* mats;           /* [BL_KINDS x n_layers], kind-major like the file */
    /* run state */
    float* x;                   /* [dim] residual stream */
    float* xn;                  /* [max(dim, hidden_dim)] normalized input */
    float* q;                   /* [dim] */
    float* att_out;             /* [dim] attention output (all heads) */
    float* y;                   /* [dim] a matmul output added to x */
    float* g;                   /* [hidden_dim] W1 output, then h */
    float* u;                   /* [hidden_dim] W3 output */
    float* att;                 /* [seq_len] scores / probabilities of one head */
    float* logits;              /* [vocab_size] */
    int8_t* qa;                 /* [max(dim, hidden_dim)] int8 activations */
    float* key_cache;           /* [n_layers x seq_len x kv_dim] */
    float* value_cache;         /* [n_layers x seq_len x kv_dim] */
};

static void set_err(char* err, size_t errcap, const char* fmt, ...)
{
    if (err && errcap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errcap, fmt, ap);
        va_end(ap);
    }
}

static int32_t read_i32(const uint8_t* p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    int32_t r;
    memcpy(&r, &v, 4);
    return r;
}

static float read_f32(const uint8_t* p)
{
    uint32_t v = (uint32_t)read_i32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

/* Copies n little-endian floats out of the (possibly unaligned) buffer. */
static void read_f32s(float* dst, const uint8_t* src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = read_f32(src + 4 * i);
}

const bl_config* bl_get_config(const bl_model* m)
{
    return &m->cfg;
}

void bl_free(bl_model* m)
{
    if (!m)
        return;
    free(m->rms_final);
    free(m->embedding);
    free(m->mats);
    free(m->x);
    free(m->xn);
    free(m->q);
    free(m->att_out);
    free(m->y);
    free(m->g);
    free(m->u);
    free(m->att);
    free(m->logits);
    free(m->qa);
    free(m->key_cache);
    free(m->value_cache);
    free(m);
}

bl_model* bl_load(const void* data, size_t size, char* err, size_t errcap)
{
    const uint8_t* p = (const uint8_t*)data;
    if (!p || size < BL_HEADER_BYTES) {
        set_err(err, errcap, "ak42: file has %lld bytes, the header alone needs %lld",
                (long long)size, (long long)BL_HEADER_BYTES);
        return NULL;
    }
    if ((uint32_t)read_i32(p) != BL_MAGIC) {
        set_err(err, errcap, "ak42: bad magic 0x%08lx (expected 0x%08lx)",
                (unsigned long)(uint32_t)read_i32(p), (unsigned long)BL_MAGIC);
        return NULL;
    }
    if (read_i32(p + 4) != 1) {
        set_err(err, errcap, "ak42: version %ld unsupported (expected 1)",
                (long)read_i32(p + 4));
        return NULL;
    }
    bl_config c;
    c.dim = read_i32(p + 8);
    c.hidden_dim = read_i32(p + 12);
    c.n_layers = read_i32(p + 16);
    c.n_heads = read_i32(p + 20);
    c.n_kv_heads = read_i32(p + 24);
    c.vocab_size = read_i32(p + 28);
    c.seq_len = read_i32(p + 32);
    if (c.vocab_size < 0) {
        set_err(err, errcap, "ak42: unshared classifier (vocab_size %d) unsupported",
                c.vocab_size);
        return NULL;
    }
    /* Bounds keep every product below in range and the layout sane. */
    if (c.dim <= 0 || c.dim > 65536 || c.hidden_dim <= 0 || c.hidden_dim > 262144 ||
        c.n_layers <= 0 || c.n_layers > 1024 || c.n_heads <= 0 || c.n_kv_heads <= 0 ||
        c.vocab_size <= 0 || c.vocab_size > 1048576 || c.seq_len <= 0 || c.seq_len > 1048576 ||
        c.dim % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0 ||
        (c.dim / c.n_heads) % 2 != 0 || c.dim % 4 != 0 || c.hidden_dim % 4 != 0) {
        set_err(err, errcap, "ak42: inconsistent config (dim %d hidden %d layers %d heads %d kv_heads %d vocab %d seq %d)",
                c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len);
        return NULL;
    }
    int head_size = c.dim / c.n_heads;
    int kv_dim = head_size * c.n_kv_heads;
    if (kv_dim % 4 != 0) {
        set_err(err, errcap, "ak42: kv_dim %d is not a multiple of 4", kv_dim);
        return NULL;
    }

    /* Shapes of the seven kinds, [rows x cols]. */
    const int rows[BL_KINDS] = {c.dim, kv_dim, kv_dim, c.dim, c.hidden_dim, c.dim, c.hidden_dim};
    const int cols[BL_KINDS] = {c.dim, c.dim, c.dim, c.dim, c.dim, c.hidden_dim, c.dim};

    unsigned long long need = BL_HEADER_BYTES + 4ull * (unsigned long long)c.dim +
                              4ull * (unsigned long long)c.vocab_size * (unsigned long long)c.dim;
    for (int k = 0; k < BL_KINDS; k++)
        need += (unsigned long long)c.n_layers *
                (4ull + (unsigned long long)rows[k] * (unsigned long long)cols[k] / 4ull);
    if (need != (unsigned long long)size) {
        set_err(err, errcap, "ak42: config implies %lld bytes, file has %lld",
                (long long)need, (long long)size);
        return NULL;
    }

    bl_model* m = (bl_model*)calloc(1, sizeof(bl_model));
    if (!m) {
        set_err(err, errcap, "ak42: out of memory (%u bytes)", (unsigned)sizeof(bl_model));
        return NULL;
    }
    m->cfg = c;
    m->kv_dim = kv_dim;
    m->head_size = head_size;
    int wide = c.dim > c.hidden_dim ? c.dim : c.hidden_dim;
    size_t cache = (size_t)c.n_layers * (size_t)c.seq_len * (size_t)kv_dim;
    m->rms_final = (float*)malloc(sizeof(float) * (size_t)c.dim);
    m->embedding = (float*)malloc(sizeof(float) * (size_t)c.vocab_size * (size_t)c.dim);
    m->mats = (bl_ternary*)calloc((size_t)BL_KINDS * (size_t)c.n_layers, sizeof(bl_ternary));
    m->x = (float*)calloc((size_t)c.dim, sizeof(float));
    m->xn = (float*)calloc((size_t)wide, sizeof(float));
    m->q = (float*)calloc((size_t)c.dim, sizeof(float));
    m->att_out = (float*)calloc((size_t)c.dim, sizeof(float));
    m->y = (float*)calloc((size_t)c.dim, sizeof(float));
    m->g = (float*)calloc((size_t)c.hidden_dim, sizeof(float));
    m->u = (float*)calloc((size_t)c.hidden_dim, sizeof(float));
    m->att = (float*)calloc((size_t)c.seq_len, sizeof(float));
    m->logits = (float*)calloc((size_t)c.vocab_size, sizeof(float));
    m->qa = (int8_t*)calloc((size_t)wide, sizeof(int8_t));
    m->key_cache = (float*)calloc(cache, sizeof(float));
    m->value_cache = (float*)calloc(cache, sizeof(float));
    if (!m->rms_final || !m->embedding || !m->mats || !m->x || !m->xn || !m->q || !m->att_out ||
        !m->y || !m->g || !m->u || !m->att || !m->logits || !m->qa || !m->key_cache ||
        !m->value_cache) {
        set_err(err, errcap, "ak42: out of memory (KV cache 2 x %lu floats)", (unsigned long)cache);
        bl_free(m);
        return NULL;
    }

    const uint8_t* at = p + BL_HEADER_BYTES;
    read_f32s(m->rms_final, at, (size_t)c.dim);
    at += 4 * (size_t)c.dim;
    read_f32s(m->embedding, at, (size_t)c.vocab_size * (size_t)c.dim);
    at += 4 * (size_t)c.vocab_size * (size_t)c.dim;
    for (int k = 0; k < BL_KINDS; k++) {
        for (int l = 0; l < c.n_layers; l++) {
            bl_ternary* t = &m->mats[k * c.n_layers + l];
            t->scale = read_f32(at);
            at += 4;
            t->codes = at;
            t->rows = rows[k];
            t->cols = cols[k];
            at += (size_t)rows[k] * (size_t)cols[k] / 4;
        }
    }
    return m;
}

/* Weightless norm: out = a / (n * rms(a)), computed as the reference does. */
static void norm(float* out, const float* a, int n)
{
    float s = 0.0f;
    for (int i = 0; i < n; i++)
        s += a[i] * a[i];
    s = s / (float)n;
    s = 1.0f / sqrtf(s);
    s = s / (float)n;
    for (int i = 0; i < n; i++)
        out[i] = a[i] * s;
}

/* y[rows] = W[rows x cols] . a[cols]: int8 absmax quantization of a, then the
 * straightforward ternary loop: per weight, shift the 2-bit code out of its
 * byte and branch on it. qa is [cols] scratch. */
static void matmul(float* y, const bl_ternary* w, const float* a, int8_t* qa)
{
    const int n = w->cols;
    float max_abs = 0.0f;
    for (int i = 0; i < n; i++) {
        float v = fabsf(a[i]);
        if (v > max_abs)
            max_abs = v;
    }
    float s_a = (float)((double)max_abs / 127.0);
    if (s_a == 0.0f) {
        /* all-zero input: 1/s_a would turn 0 * inf into NaN; the product is 0 */
        for (int j = 0; j < w->rows; j++)
            y[j] = 0.0f;
        return;
    }
    float r = (float)(1.0 / (double)s_a);
    for (int i = 0; i < n; i++) {
        float t = a[i] * r;
        qa[i] = (int8_t)round((double)t);
    }
    const float ys = w->scale * s_a;
    const int row_bytes = n / 4;
    for (int j = 0; j < w->rows; j++) {
        const uint8_t* row = w->codes + (size_t)j * (size_t)row_bytes;
        int32_t acc = 0;
        for (int i = 0; i < n; i++) {
            int c = (row[i >> 2] >> (6 - 2 * (i & 3))) & 3;
            acc += c == 1 ? qa[i] : c == 3 ? -qa[i] : 0;
        }
        y[j] = (float)acc * ys;
    }
}

/* RoPE on v[n] (n even) at position pos, pairs (i, i+1), frequency by i mod head_size. */
static void rope(float* v, int n, int head_size, int pos)
{
    for (int i = 0; i < n; i += 2) {
        int h = i % head_size;
        float f = 1.0f / powf(10000.0f, (float)h / (float)head_size);
        float theta = (float)pos * f;
        float c = cosf(theta);
        float s = sinf(theta);
        float v0 = v[i];
        float v1 = v[i + 1];
        v[i] = v0 * c - v1 * s;
        v[i + 1] = v0 * s + v1 * c;
    }
}

int bl_argmax(const float* v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

float* bl_forward(bl_model* m, int token, int pos)
{
    const bl_config* c = &m->cfg;
    if (token < 0 || token >= c->vocab_size || pos < 0 || pos >= c->seq_len)
        return NULL;
    const int dim = c->dim;
    const int hidden = c->hidden_dim;
    const int kv_dim = m->kv_dim;
    const int hs = m->head_size;
    const int group = c->n_heads / c->n_kv_heads;
    const int L = c->n_layers;
    float* x = m->x;

    memcpy(x, m->embedding + (size_t)token * (size_t)dim, sizeof(float) * (size_t)dim);

    for (int l = 0; l < L; l++) {
        size_t layer_off = (size_t)l * (size_t)c->seq_len * (size_t)kv_dim;
        float* k = m->key_cache + layer_off + (size_t)pos * (size_t)kv_dim;   /* [kv_dim] */
        float* v = m->value_cache + layer_off + (size_t)pos * (size_t)kv_dim; /* [kv_dim] */

        /* 1. QKV of the normalized stream; k and v land in the cache */
        norm(m->xn, x, dim);
        matmul(m->q, &m->mats[BL_WQ * L + l], m->xn, m->qa);
        matmul(k, &m->mats[BL_WK * L + l], m->xn, m->qa);
        matmul(v, &m->mats[BL_WV * L + l], m->xn, m->qa);

        /* 2. RoPE */
        rope(m->q, dim, hs, pos);
        rope(k, kv_dim, hs, pos);

        /* 3. attention per head over positions 0..pos */
        for (int h = 0; h < c->n_heads; h++) {
            const float* qh = m->q + (size_t)h * (size_t)hs;
            const int kvh = h / group;
            float* att = m->att;
            for (int t = 0; t <= pos; t++) {
                const float* kt = m->key_cache + layer_off + (size_t)t * (size_t)kv_dim +
                                  (size_t)kvh * (size_t)hs;
                float score = 0.0f;
                for (int i = 0; i < hs; i++)
                    score += qh[i] * kt[i];
                score /= sqrtf((float)hs);
                att[t] = score;
            }
            float mx = att[0];
            for (int t = 1; t <= pos; t++)
                if (att[t] > mx)
                    mx = att[t];
            float sum = 0.0f;
            for (int t = 0; t <= pos; t++) {
                att[t] = expf(att[t] - mx);
                sum += att[t];
            }
            for (int t = 0; t <= pos; t++)
                att[t] = att[t] / sum;
            float* out = m->att_out + (size_t)h * (size_t)hs;
            for (int i = 0; i < hs; i++)
                out[i] = 0.0f;
            for (int t = 0; t <= pos; t++) {
                const float* vt = m->value_cache + layer_off + (size_t)t * (size_t)kv_dim +
                                  (size_t)kvh * (size_t)hs;
                const float p = att[t];
                for (int i = 0; i < hs; i++)
                    out[i] += p * vt[i];
            }
        }

        /* 4. x += Wo . N(out) */
        norm(m->xn, m->att_out, dim);
        matmul(m->y, &m->mats[BL_WO * L + l], m->xn, m->qa);
        for (int i = 0; i < dim; i++)
            x[i] += m->y[i];

        /* 5. SwiGLU FFN: x += W2 . N(silu(W1 xn) * (W3 xn)) */
        norm(m->xn, x, dim);
        matmul(m->g, &m->mats[BL_W1 * L + l], m->xn, m->qa);
        matmul(m->u, &m->mats[BL_W3 * L + l], m->xn, m->qa);
        for (int i = 0; i < hidden; i++) {
            float gi = m->g[i];
            gi = gi * (1.0f / (1.0f + expf(-gi)));
            m->g[i] = gi * m->u[i];
        }
        norm(m->xn, m->g, hidden);
        matmul(m->y, &m->mats[BL_W2 * L + l], m->xn, m->qa);
        for (int i = 0; i < dim; i++)
            x[i] += m->y[i];
    }

    /* head: learned RMSNorm (epsilon 1e-5), then the shared classifier */
    float z = 0.0f;
    for (int i = 0; i < dim; i++)
        z += x[i] * x[i];
    z = z / (float)dim;
    z = z + 1e-5f;
    z = 1.0f / sqrtf(z);
    for (int i = 0; i < dim; i++)
        x[i] = m->rms_final[i] * (z * x[i]);
    for (int t = 0; t < c->vocab_size; t++) {
        const float* e = m->embedding + (size_t)t * (size_t)dim;
        float s = 0.0f;
        for (int i = 0; i < dim; i++)
            s += e[i] * x[i];
        m->logits[t] = s;
    }
    return m->logits;
}
