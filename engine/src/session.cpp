// A session: the run state in one arena, and the forward pass.
//
// forward_layer() reads top to bottom like the model's definition; every float
// step is an ops.h function in the reference's order, every matrix product
// goes through the KernelSet. docs/architecture.md follows one token through.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>  // placement new only (no operator new from the C++ runtime)

#include "agm/quant_rows.h"
#include "api_util.h"
#include "kv_cache.h"
#include "model.h"
#include "ops.h"
#include "perf_regions.h"
#include "sampler.h"
#include "session.h"

using agm::kLanes;
using agm::kv_value_bytes;
using agm::Layout;

namespace {

constexpr size_t kAlign = 64;

uint64_t align_up(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

// Without an explicit n_ctx a session gets the model's context, but at most
// this many tokens: a model trained for 2^20 positions should not make every
// session allocate a multi-gigabyte KV cache by default.
constexpr uint32_t kDefaultMaxCtx = 4096;

// matmul_shared: at most this many matrices read one input (q, k and v).
constexpr uint32_t kMaxShared = 3;

// int8 activations are zero-padded to whole blocks of every packing: 128
// columns for t2_b128, the quad's words (groups of 5) for tl5_r4.
uint32_t padded_cols(uint32_t cols) {
    const uint32_t b128 = (cols + AGM_T2_BLOCK_WEIGHTS - 1) / AGM_T2_BLOCK_WEIGHTS * AGM_T2_BLOCK_WEIGHTS;
    const uint32_t b5 = agm::tl5_quad_words(AGM_TYPE_TL5_R4, cols) * AGM_TL5_GROUP;
    return b128 > b5 ? b128 : b5;
}

// Offsets of every buffer in the arena, computed once from the config, in
// 64-bit arithmetic: on a 32-bit target a large context must be refused, not
// wrap around (the config's limits keep every product below 2^62).

// The buffers a compact cache needs have size 0 for f32 (take(0) moves
// nothing), so an f32 session's layout is the same as before there was a
// choice.
Layout plan(const agm_model* m, uint32_t n_ctx, uint32_t kv_type) {
    const agm::ModelConfig& c = *m->config;
    const bool q4_classifier = m->classifier.type == AGM_TYPE_Q4_B32;
    const bool tl5_classifier = m->classifier.type == AGM_TYPE_TL5_R4S;
    const uint64_t dim = c.dim, hid = c.hidden_dim, q_dim = c.q_dim(), kv_dim = c.kv_dim();
    const uint64_t wide = dim > q_dim ? dim : q_dim;             // xb holds x-sized or q-sized
    const uint64_t max_in = padded_cols((uint32_t)(wide > hid ? wide : hid));
    uint64_t max_out = wide > hid ? wide : hid;
    if ((q4_classifier || tl5_classifier) && c.vocab_size > max_out) max_out = c.vocab_size;  // its int32 sums
    // matmul_shared: k, v and q (or gate and up) side by side, each rounded to quads
    const uint64_t qkv = (uint64_t)c.q_dim() + 2 * (uint64_t)c.kv_dim() + 3 * AGM_TL5_ROWS;
    const uint64_t gate_up = 2 * (uint64_t)hid + 2 * AGM_TL5_ROWS;
    if (qkv > max_out) max_out = qkv;
    if (gate_up > max_out) max_out = gate_up;
    Layout l{};
    uint64_t at = 0;
    auto take = [&](uint64_t bytes) { uint64_t o = at; at = align_up(at + bytes); return o; };
    const bool compact = kv_type != AGM_KV_F32, q8 = kv_type == AGM_KV_Q8;
    for (uint32_t b = 0; b < kLanes; ++b) {
        l.x[b] = take(dim * 4);                           // [dim] residual stream
        l.xb[b] = take(wide * 4);                         // [max(dim, q_dim)] branch input / attention out
        l.xb2[b] = take(dim * 4);                         // [dim] branch output
        l.hb[b] = take(hid * 4);                          // [hidden] gate, then activation
        l.hb2[b] = take(hid * 4);                         // [hidden] up
        l.q[b] = take(q_dim * 4);                         // [q_dim] query
        l.rope[b] = take(c.head_dim * 4);                 // [head_dim] cos/sin pairs
        l.qa[b] = take(max_in);                           // [padded in] int8 activations
        l.acc[b] = take((max_out + AGM_TL5_ROWS) * 4);    // [max out, rounded to quads] int32
        l.kf[b] = take(compact ? kv_dim * 4 : 0);         // [kv_dim] new k, before it is stored
        l.vf[b] = take(compact ? kv_dim * 4 : 0);         // [kv_dim] new v
    }
    l.att = take((uint64_t)c.n_heads * n_ctx * 4);        // [n_heads, n_ctx] scores
    l.logits = take((uint64_t)c.vocab_size * 4);          // [vocab]
    // [groups][244] int16 tl5 sums of one input, or int16 pairs of two
    // (tl5_table_x2): the pairs' size. Plus 64 bytes: a damaged file's
    // weight byte above 242 (never written by a converter) makes the kernels
    // read up to 12 entries past a group's table, 48 bytes past the last
    // one's pairs; the padding keeps that inside this buffer.
    l.table = take((max_in + AGM_TL5_GROUP - 1) / AGM_TL5_GROUP * AGM_TL5_TABLE_STRIDE * 4 + 64);
    l.kvrow = take(compact ? c.head_dim * 4 : 0);         // [head_dim] a cached row read back
    // [layer, n_ctx, kv_dim] of f32, f16 or int8 (kv_cache.h)
    const uint64_t cache = (uint64_t)c.n_layers * n_ctx * kv_dim * kv_value_bytes(kv_type);
    l.kcache = take(cache);
    l.vcache = take(cache);
    // q8: [layer, n_ctx, n_kv_heads] float scales, one per head_dim block
    const uint64_t scales = q8 ? (uint64_t)c.n_layers * n_ctx * c.n_kv_heads * 4 : 0;
    l.kscale = take(scales);
    l.vscale = take(scales);
    // q4_b32 classifier: the activations as q4_pairs() arranges them
    const uint64_t nb = q4_classifier ? m->classifier.n_blocks : 0;
    l.cpairs = take(nb ? (nb * agm::kQ4PairWords + agm::kQ4PairPad) * 4 : 0);  // [blocks][17] pairs, sums; pad
    l.probs = take(agm::sampler_scratch_bytes(c.vocab_size));  // sampler scratch
    l.tokens = take((uint64_t)n_ctx * 4);                 // [n_ctx] int32 ids fed
    l.total = at;
    return l;
}

}  // namespace



namespace agm {

uint64_t kv_value_bytes(uint32_t kv_type) {
    return kv_type == AGM_KV_F16 ? 2 : kv_type == AGM_KV_Q8 ? 1 : 4;
}

namespace {

// Quantises x[n] into the lane's qa and sa. The tl5 tables of the new
// inputs are built lazily, once, by the first matrix that needs them.
void quantize_input(agm_session* s, Lane& ln, const float* x, uint32_t n) {
    AGM_REGION(AGM_REGION_QUANTIZE);
    s->table_ready = s->table2_ready = false;
    ln.sa = quantize_absmax_i8(x, n, ln.qa, padded_cols(n));
    AGM_REGION(AGM_REGION_REST);
}

// out[r] = acc[r] * (s_W * s_a) for the matrix's rows.
void scale_sums(const Matrix& w, float sa, const int32_t* acc, float* out) {
    const float scale = w.scale * sa;  // s_W * s_a, then each acc times it
    uint32_t r = 0;
    for (; r + 4 <= w.rows; r += 4) {  // four at a time: the conversions' latencies overlap
        const float f0 = (float)acc[r], f1 = (float)acc[r + 1], f2 = (float)acc[r + 2], f3 = (float)acc[r + 3];
        out[r] = f0 * scale;
        out[r + 1] = f1 * scale;
        out[r + 2] = f2 * scale;
        out[r + 3] = f3 * scale;
    }
    for (; r < w.rows; ++r) out[r] = (float)acc[r] * scale;
}

// y_b[rows] = W x_b for the n lanes, x_b quantised by quantize_input
// (matrices that share an input share its quantisation and its table). Two
// lanes of a tl5_r4 matrix go through the two-vector kernel: each weight is
// read once for both; every sum is the one a lane alone gets.
void matmul(agm_session* s, const Matrix& w, Lane* lanes, uint32_t n, float* const* y) {
    if (w.type == AGM_TYPE_TL5_R4 && n == 2) {
        if (!s->table2_ready && s->kernels->tl5x2_reads_tables) {
            AGM_REGION(AGM_REGION_TABLES);
            s->kernels->tl5_table_x2(lanes[0].qa, lanes[1].qa, w.n_groups, s->table2);
            s->table2_ready = true;
            s->table_ready = false;  // the same memory
        }
        AGM_REGION(AGM_REGION_TERNARY);
        s->kernels->tmatvec_tl5_i8x2(w.data, w.n_quads, w.n_groups, lanes[0].qa, lanes[1].qa, s->table2,
                                     lanes[0].acc, lanes[1].acc);
    } else {
        for (uint32_t b = 0; b < n; ++b) {
            Lane& ln = lanes[b];
            if (w.type == AGM_TYPE_TL5_R4) {
                if ((!s->table_ready || b > 0) && s->kernels->tl5_reads_tables) {  // lane 0's sums at most
                    AGM_REGION(AGM_REGION_TABLES);
                    s->kernels->tl5_table(ln.qa, w.n_groups, s->table);
                    s->table_ready = b == 0;
                    s->table2_ready = false;
                }
                AGM_REGION(AGM_REGION_TERNARY);
                s->kernels->tmatvec_tl5_i8(w.data, w.n_quads, w.n_groups, ln.qa, s->table, ln.acc);
            } else {
                AGM_REGION(AGM_REGION_TERNARY);
                s->kernels->tmatvec_t2_i8(w.data, w.row_stride, w.rows, w.n_blocks, ln.qa, ln.acc);
            }
        }
    }
    AGM_REGION(AGM_REGION_QUANTIZE);
    for (uint32_t b = 0; b < n; ++b) scale_sums(w, lanes[b].sa, lanes[b].acc, y[b]);
    AGM_REGION(AGM_REGION_REST);
}

// y_m = W_m x for `count` tl5_r4 matrices that read one lane's quantised
// input (a layer's k, v and q; its gate and up): through the kernel's
// shared product when it has one (tables built once per tile for all),
// else matrix by matrix. Each sum is the one matmul gets.
void matmul_shared(agm_session* s, const Matrix* const* ws, uint32_t count, Lane& ln, float* const* y) {
    const KernelSet& k = *s->kernels;
    bool shared = k.tmatvec_tl5_i8_shared != nullptr && count <= kMaxShared;
    for (uint32_t m = 0; m < count && shared; ++m)
        shared = ws[m]->type == AGM_TYPE_TL5_R4 && ws[m]->n_groups == ws[0]->n_groups;
    if (!shared) {
        for (uint32_t m = 0; m < count; ++m) matmul(s, *ws[m], &ln, 1, &y[m]);
        return;
    }
    const uint8_t* w[kMaxShared];
    uint32_t quads[kMaxShared];
    int32_t* acc[kMaxShared];
    int32_t* at = ln.acc;  // sized for every group of shared matrices (plan)
    for (uint32_t m = 0; m < count; ++m) {
        w[m] = ws[m]->data;
        quads[m] = ws[m]->n_quads;
        acc[m] = at;
        at += (size_t)quads[m] * AGM_TL5_ROWS;
    }
    AGM_REGION(AGM_REGION_TERNARY);
    k.tmatvec_tl5_i8_shared(count, w, quads, ws[0]->n_groups, ln.qa, acc);
    AGM_REGION(AGM_REGION_QUANTIZE);
    for (uint32_t m = 0; m < count; ++m) scale_sums(*ws[m], ln.sa, acc[m], y[m]);
    AGM_REGION(AGM_REGION_REST);
}

void apply_norm(uint32_t kind, float* out, const float* x, const float* w, uint32_t n, float eps) {
    AGM_REGION(AGM_REGION_NORM);
    switch (kind) {
        case AGM_NORM_RMS: norm_rms(out, x, w, n, eps); break;
        case AGM_NORM_RMS_DIV_N: norm_rms_div_n(out, x, n); break;
        default:
            if (out != x) std::memcpy(out, x, n * sizeof(float));
            break;
    }
    AGM_REGION(AGM_REGION_REST);
}

// Stores the new k, v [kv_dim] of layer l at position pos in a compact cache.
void kv_store(agm_session* s, const ModelConfig& c, uint32_t l, uint32_t pos, const float* k, const float* v) {
    const uint32_t hd = c.head_dim, kv_dim = c.kv_dim();
    const size_t at = ((size_t)l * s->n_ctx + pos) * kv_dim;
    if (s->kv_type == AGM_KV_F16) {
        kv_store_f16(k, kv_dim, reinterpret_cast<uint16_t*>(s->kcache) + at);
        kv_store_f16(v, kv_dim, reinterpret_cast<uint16_t*>(s->vcache) + at);
        return;
    }
    const size_t block = ((size_t)l * s->n_ctx + pos) * c.n_kv_heads;
    for (uint32_t g = 0; g < c.n_kv_heads; ++g) {
        const size_t o = (size_t)g * hd;
        s->kscale[block + g] = kv_store_q8(k + o, hd, reinterpret_cast<int8_t*>(s->kcache) + at + o);
        s->vscale[block + g] = kv_store_q8(v + o, hd, reinterpret_cast<int8_t*>(s->vcache) + at + o);
    }
}

// Row t of KV head g of layer l's K or V cache as floats: a pointer into an
// f32 cache, or s->kvrow [head_dim] converted from a compact one. One switch
// per row of head_dim values.
inline const float* kv_row(agm_session* s, const ModelConfig& c, const uint8_t* cache,
                           const float* scales, uint32_t l, uint32_t t, uint32_t g) {
    const uint32_t hd = c.head_dim;
    const size_t row = (size_t)l * s->n_ctx + t;
    const size_t at = row * c.kv_dim() + (size_t)g * hd;
    switch (s->kv_type) {
        case AGM_KV_F16:
            kv_load_f16(reinterpret_cast<const uint16_t*>(cache) + at, hd, s->kvrow);
            return s->kvrow;
        case AGM_KV_Q8:
            kv_load_q8(reinterpret_cast<const int8_t*>(cache) + at, scales[row * c.n_kv_heads + g], hd,
                       s->kvrow);
            return s->kvrow;
        default:
            return reinterpret_cast<const float*>(cache) + at;
    }
}

// Attention of all query heads at position pos over layer l's cache; out:
// [q_dim]. An f32 cache is read in place by the attention kernels. For a
// compact cache, query heads h = g*group .. g*group+group-1 share KV head g,
// so the loops run per KV head and convert each cached row once for the
// whole group. Every score and every output lane is still summed in the
// reference's order (i for a score, t for an output), so the f32 cache gives
// the same bits as a loop per query head.
void attention(agm_session* s, const ModelConfig& c, uint32_t l, uint32_t pos, const float* q_all, float* out) {
    AGM_REGION(AGM_REGION_ATTENTION);
    const uint32_t hd = c.head_dim, n_ctx = s->n_ctx;
    const uint32_t group = c.n_heads / c.n_kv_heads;
    const float root = sqrtf((float)hd);
    if (s->kv_type == AGM_KV_F32) {
        // Rows in place: the kernels read the cache with its row stride.
        const uint32_t kv_dim = c.kv_dim();
        const size_t layer = (size_t)l * n_ctx * kv_dim;
        const float* kc = reinterpret_cast<const float*>(s->kcache) + layer;
        const float* vc = reinterpret_cast<const float*>(s->vcache) + layer;
        for (uint32_t h = 0; h < c.n_heads; ++h) {
            const size_t kv_off = (size_t)(h / group) * hd;
            float* att = s->att + (size_t)h * n_ctx;
            s->kernels->attn_scores_f32(q_all + (size_t)h * hd, kc + kv_off, kv_dim, pos + 1, hd, root, att);
            softmax(att, pos + 1);
            s->kernels->attn_values_f32(att, vc + kv_off, kv_dim, pos + 1, hd, out + (size_t)h * hd);
        }
        return;
    }
    for (uint32_t g = 0; g < c.n_kv_heads; ++g) {
        const uint32_t h0 = g * group;
        for (uint32_t t = 0; t <= pos; ++t) {
            const float* k = kv_row(s, c, s->kcache, s->kscale, l, t, g);
            for (uint32_t h = h0; h < h0 + group; ++h) {
                const float* q = q_all + (size_t)h * hd;
                float score = 0.0f;
                for (uint32_t i = 0; i < hd; ++i) score += q[i] * k[i];
                s->att[(size_t)h * n_ctx + t] = score / root;
            }
        }
        for (uint32_t h = h0; h < h0 + group; ++h) {
            softmax(s->att + (size_t)h * n_ctx, pos + 1);
            std::memset(out + (size_t)h * hd, 0, hd * sizeof(float));
        }
        for (uint32_t t = 0; t <= pos; ++t) {
            // The lanes i are independent (each sums over t in order), so the
            // compiler may vectorise over i: restrict says o and v never alias.
            const float* __restrict v = kv_row(s, c, s->vcache, s->vscale, l, t, g);
            for (uint32_t h = h0; h < h0 + group; ++h) {
                float* __restrict o = out + (size_t)h * hd;
                const float a = s->att[(size_t)h * n_ctx + t];
                for (uint32_t i = 0; i < hd; ++i) o[i] += a * v[i];
            }
        }
    }
}

// Row r of the embedding as floats: out[cols].
void embedding_row(const RowMatrix& e, uint32_t r, float* out) {
    switch (e.type) {
        case AGM_TYPE_Q4_B32: dequantize_q4_b32_row(e.data, e.cols, r, out); break;
        case AGM_TYPE_TL5_R4S: dequantize_tl5_r4s_row(e.data, e.rows, e.cols, e.n_groups, r, out); break;
        default: std::memcpy(out, e.data + (size_t)r * e.row_stride, e.cols * sizeof(float)); break;
    }
}

// Calls f(first, count) for each run of set bits of mask over [0, n).
template <class F>
void for_each_run(const uint32_t* mask, uint32_t n, F&& f) {
    uint32_t r = 0;
    while (r < n) {
        const uint32_t w = mask[r >> 5] >> (r & 31);
        if (w == 0) {  // nothing more in this word
            r = (r | 31) + 1;
            continue;
        }
        r += (uint32_t)__builtin_ctz(w);
        if (r >= n) break;
        uint32_t e = r + 1;
        while (e < n && ((mask[e >> 5] >> (e & 31)) & 1)) ++e;
        f(r, e - r);
        r = e;
    }
}

// logits = classifier . x: the reference's f32 sums, or for q4_b32 the
// integer product with x quantised like a ternary layer's input, then
// logit_r = acc_r * (d_r * s_x). rows (NULL: all): the rows to compute, in
// runs of consecutive rows through the same kernels (each row's sum is
// the full product's: the kernels' order is per row); the others are
// -infinity.
void classify(agm_session* s, const RowMatrix& w, const float* x, const uint32_t* rows) {
    if (rows != nullptr) {
        const float ninf = -HUGE_VALF;
        for (uint32_t r = 0; r < w.rows; ++r) s->logits[r] = ninf;
    }
    // Runs the kernel step on every run of rows (the whole matrix without a mask).
    auto each = [&](auto&& f) {
        if (rows == nullptr) f(0u, w.rows);
        else for_each_run(rows, w.rows, f);
    };
    if (w.type == AGM_TYPE_F32) {
        AGM_REGION(AGM_REGION_CLASSIFIER);
        const float* wf = reinterpret_cast<const float*>(w.data);
        each([&](uint32_t r, uint32_t n) {
            s->kernels->matvec_f32(wf + (size_t)r * w.cols, n, w.cols, x, s->logits + r);
        });
        AGM_REGION(AGM_REGION_REST);
        return;
    }
    Lane& ln = s->lane[0];
    quantize_input(s, ln, x, w.cols);
    const float sx = ln.sa;
    if (w.type == AGM_TYPE_TL5_R4S) {
        AGM_REGION(AGM_REGION_CLASSIFIER);
        if (s->kernels->tl5_reads_tables) s->kernels->tl5_table(ln.qa, w.n_groups, s->table);
        each([&](uint32_t r, uint32_t n) {  // whole quads
            const uint32_t q0 = r / 4, q1 = (r + n - 1) / 4 + 1;
            s->kernels->tmatvec_tl5_i8(w.data + (size_t)q0 * w.n_groups * 4, q1 - q0, w.n_groups, ln.qa,
                                       s->table, ln.acc + (size_t)q0 * 4);
        });
        AGM_REGION(AGM_REGION_REST);
        each([&](uint32_t r0, uint32_t n) {
            for (uint32_t r = r0; r < r0 + n; ++r) s->logits[r] = (float)ln.acc[r] * (w.row_scale[r] * sx);
        });
        return;
    }
    AGM_REGION(AGM_REGION_CLASSIFIER);
    if (s->kernels->q4_reads_pairs) q4_pairs(ln.qa, w.n_blocks, s->cpairs);
    // In chunks of rows, each scaled right after its product: a row's scale
    // sits at the head of the row the product just streamed, still in the
    // caches (after the whole matrix it would be a DRAM miss per row on a
    // Pi Zero: 32000 of them for a 32k vocabulary).
    constexpr uint32_t kChunkRows = 128;
    each([&](uint32_t r0, uint32_t n) {
        for (uint32_t c0 = r0; c0 < r0 + n; c0 += kChunkRows) {
            const uint32_t cn = r0 + n - c0 < kChunkRows ? r0 + n - c0 : kChunkRows;
            AGM_REGION(AGM_REGION_CLASSIFIER);
            s->kernels->matvec_q4_i8(w.data + (size_t)c0 * w.row_stride, w.row_stride, cn, w.n_blocks, ln.qa,
                                     s->cpairs, ln.acc + c0);
            AGM_REGION(AGM_REGION_REST);
            for (uint32_t r = c0; r < c0 + cn; ++r) {
                float d;
                std::memcpy(&d, w.data + (size_t)r * w.row_stride, 4);
                s->logits[r] = (float)ln.acc[r] * (d * sx);
            }
        }
    });
}

// A forward pass of n tokens (1..kLanes) at positions s->pos..:
// forward_begin, then forward_layer for every layer, each for all of them
// before the next (a token's KV entry of a layer is stored before the next
// token's attention of that layer reads it), then forward_logits if the
// logits (of the last token) are wanted: a prompt needs them for its last
// token alone, and the last layer of the others only for their KV entries
// (forward_layer's out). Every operation on a token is the one it gets alone, in the
// same order, so the result does not depend on how a prompt is split. All
// state between the steps is in the arena (the lanes' x, rope, pos), so the
// pass can stop between any two steps and continue in a later call.
void forward_begin(agm_session* s, const int32_t* tokens, uint32_t n) {
    const agm_model* m = s->model;
    const ModelConfig& c = *m->config;
    Lane* lanes = s->lane;
    for (uint32_t b = 0; b < n; ++b) {
        lanes[b].pos = s->pos + b;
        s->tokens[s->pos + b] = tokens[b];
        embedding_row(m->embedding, (uint32_t)tokens[b], lanes[b].x);
        AGM_REGION(AGM_REGION_ROPE);
        rope_table(lanes[b].rope, lanes[b].pos, c.head_dim, c.rope_theta);
        AGM_REGION(AGM_REGION_REST);
    }
}

// Lanes [out, n) run the whole layer; lanes [0, out) only store their K and
// V (the last layer of tokens whose logits nobody reads: what follows needs
// their KV entries, not their output).
void forward_layer(agm_session* s, uint32_t l, uint32_t n, uint32_t out) {
    const agm_model* m = s->model;
    const ModelConfig& c = *m->config;
    const uint32_t dim = c.dim, hid = c.hidden_dim, q_dim = c.q_dim(), kv_dim = c.kv_dim();
    const bool interleaved = c.rope_layout == AGM_ROPE_INTERLEAVED;
    const bool compact = s->kv_type != AGM_KV_F32;
    Lane* lanes = s->lane;
    {
        const LayerWeights& w = m->layers[l];
        float* q[kLanes];
        float* k[kLanes];
        float* v[kLanes];
        float* xb[kLanes];
        float* xb2[kLanes];
        float* hb[kLanes];
        float* hb2[kLanes];
        for (uint32_t b = 0; b < n; ++b) {
            // k, v [kv_dim] of this position: straight into an f32 cache, or
            // through kf, vf into a compact one once RoPE has rotated k.
            const size_t at = ((size_t)l * s->n_ctx + lanes[b].pos) * kv_dim;
            k[b] = compact ? lanes[b].kf : reinterpret_cast<float*>(s->kcache) + at;
            v[b] = compact ? lanes[b].vf : reinterpret_cast<float*>(s->vcache) + at;
            q[b] = lanes[b].q;
            xb[b] = lanes[b].xb;
            xb2[b] = lanes[b].xb2;
            hb[b] = lanes[b].hb;
            hb2[b] = lanes[b].hb2;
        }

        // Attention block: q, k, v share one quantised input.
        for (uint32_t b = 0; b < n; ++b) {
            apply_norm(c.norm_input, xb[b], lanes[b].x, w.attn_norm, dim, c.norm_eps);
            quantize_input(s, lanes[b], xb[b], dim);
        }
        if (n == 1) {  // one token: the three products share their tables
            const Matrix* qkv[3] = {&w.wk, &w.wv, &w.wq};
            float* ys[3] = {k[0], v[0], q[0]};
            matmul_shared(s, qkv, out < n ? 3 : 2, lanes[0], ys);
        } else {
            matmul(s, w.wk, lanes, n, k);
            matmul(s, w.wv, lanes, n, v);
            if (out < n) matmul(s, w.wq, lanes + out, n - out, q + out);
        }
        for (uint32_t b = 0; b < n; ++b) {
            AGM_REGION(AGM_REGION_ROPE);
            if (b >= out) rope_apply(q[b], c.n_heads, c.head_dim, lanes[b].rope, interleaved);
            rope_apply(k[b], c.n_kv_heads, c.head_dim, lanes[b].rope, interleaved);
            AGM_REGION(AGM_REGION_REST);
            if (compact) kv_store(s, c, l, lanes[b].pos, k[b], v[b]);
        }
        if (out == n) return;
        lanes += out;
        n -= out;
        for (uint32_t b = 0; b < n; ++b) {  // the lanes left, from index 0
            q[b] = q[b + out];
            xb[b] = xb[b + out];
            xb2[b] = xb2[b + out];
            hb[b] = hb[b + out];
            hb2[b] = hb2[b + out];
        }
        for (uint32_t b = 0; b < n; ++b) {
            attention(s, c, l, lanes[b].pos, q[b], xb[b]);
            AGM_REGION(AGM_REGION_REST);
            apply_norm(c.norm_sub, xb[b], xb[b], w.attn_sub_norm, q_dim, c.norm_eps);
            quantize_input(s, lanes[b], xb[b], q_dim);
        }
        matmul(s, w.wo, lanes, n, xb2);
        for (uint32_t b = 0; b < n; ++b) {
            float* x = lanes[b].x;
            for (uint32_t i = 0; i < dim; ++i) x[i] += xb2[b][i];
            // FFN block: gate and up share one quantised input.
            apply_norm(c.norm_input, xb[b], x, w.ffn_norm, dim, c.norm_eps);
            quantize_input(s, lanes[b], xb[b], dim);
        }
        if (n == 1) {
            const Matrix* gate_up[2] = {&w.w1, &w.w3};
            float* ys[2] = {hb[0], hb2[0]};
            matmul_shared(s, gate_up, 2, lanes[0], ys);
        } else {
            matmul(s, w.w1, lanes, n, hb);
            matmul(s, w.w3, lanes, n, hb2);
        }
        for (uint32_t b = 0; b < n; ++b) {
            AGM_REGION(AGM_REGION_ACT);
            gated_act(hb[b], hb[b], hb2[b], hid, c.ffn_act == AGM_FFN_SILU_GATED);
            AGM_REGION(AGM_REGION_REST);
            apply_norm(c.norm_sub, hb[b], hb[b], w.ffn_sub_norm, hid, c.norm_eps);
            quantize_input(s, lanes[b], hb[b], hid);
        }
        matmul(s, w.w2, lanes, n, xb2);
        for (uint32_t b = 0; b < n; ++b) {
            float* x = lanes[b].x;
            for (uint32_t i = 0; i < dim; ++i) x[i] += xb2[b][i];
        }
    }
}

// rows allowing none: every logit -infinity (the last layer did not finish
// the token: forward_layer's out).
void forward_logits(agm_session* s, uint32_t n, const uint32_t* rows, bool any_row) {
    const agm_model* m = s->model;
    const ModelConfig& c = *m->config;
    const uint32_t dim = c.dim;
    if (!any_row) {
        for (uint32_t r = 0; r < c.vocab_size; ++r) s->logits[r] = -HUGE_VALF;
        return;
    }
    float* x = s->lane[n - 1].x;
    apply_norm(c.norm_output, x, x, m->output_norm, dim, c.norm_eps);
    classify(s, m->classifier, x, rows);
}

}  // namespace
}  // namespace agm

using agm::Error;
using agm::ErrorKind;

extern "C" {

void agm_session_options_default(agm_session_options* options) {
    options->n_ctx = 0;
    options->kv_type = AGM_KV_F32;
    options->kernels = nullptr;
}

// The context length and KV type the options ask for, checked.
static agm_status resolve_options(const agm_model* m, const agm_session_options* o,
                                  uint32_t* n_ctx, uint32_t* kv_type, agm_error* error) {
    if (m == nullptr) return agm::report_arg(error, "session: model is NULL");
    *kv_type = o == nullptr ? (uint32_t)AGM_KV_F32 : o->kv_type;
    if (*kv_type != AGM_KV_F32 && *kv_type != AGM_KV_F16 && *kv_type != AGM_KV_Q8) {
        Error err;
        agm::fail_as(&err, ErrorKind::Argument,
                     "kv_type %u is not a KV cache type (0 f32, 1 f16, 2 q8)", *kv_type);
        return agm::report(err, error);
    }
    if (o != nullptr && o->kernels != nullptr && agm::find_kernels(o->kernels) == nullptr) {
        Error err;
        agm::fail_as(&err, ErrorKind::Argument, "kernels \"%.40s\": this build or CPU has no such variant",
                     o->kernels);
        return agm::report(err, error);
    }
    const uint32_t max = m->config->max_seq_len;
    const uint32_t n = (o == nullptr || o->n_ctx == 0) ? (max < kDefaultMaxCtx ? max : kDefaultMaxCtx)
                                                       : o->n_ctx;
    if (n > max) {
        Error err;
        agm::fail_as(&err, ErrorKind::Argument,
                     "context of %u tokens is longer than the model's %u", n, max);
        return agm::report(err, error);
    }
    *n_ctx = n;
    return AGM_OK;
}

}  // extern "C"

namespace {

uint8_t* align_ptr(void* p) {
    const uintptr_t u = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<uint8_t*>((u + kAlign - 1) / kAlign * kAlign);
}

// The session's arena: the agm_session, then the layout's buffers, from the
// arena's first 64-byte boundary (hence kAlign - 1 bytes of slack).
uint64_t session_bytes(const Layout& l) { return align_up(sizeof(agm_session)) + l.total + kAlign - 1; }

// FNV-1a over the tokens: a repeated call after an interruption must match.
uint32_t token_sig(const int32_t* t, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; ++i) h = (h ^ (uint32_t)t[i]) * 16777619u;
    return h;
}

// Whether the control stops the call before its next unit of work (used:
// units done in this call; a budget stops only after at least one).
agm_status check_stop(const agm_session* s, uint32_t used) {
    if (s->control.cancel != nullptr && *s->control.cancel != 0) return AGM_ERR_CANCELLED;
    if (s->control.work_budget != 0 && used >= s->control.work_budget) return AGM_ERR_BUDGET;
    return AGM_OK;
}

agm_status stopped(const agm_session* s, agm_status st, agm_error* error) {
    if (error != nullptr)
        std::snprintf(error->message, sizeof error->message,
                      "%s after %zu of %zu tokens (layer %u of the batch in flight): call again with the "
                      "same tokens to continue, or reset", st == AGM_ERR_CANCELLED ? "cancelled" : "work budget spent",
                      s->feed_done, s->feed_n, s->batch_layer);
    return st;
}

}  // namespace

extern "C" {

agm_status agm_session_memory_size(const agm_model* m, const agm_session_options* o, size_t* bytes,
                                   agm_error* error) {
    if (bytes == nullptr) return agm::report_arg(error, "agm_session_memory_size: bytes is NULL");
    uint32_t n_ctx, kv_type;
    const agm_status st = resolve_options(m, o, &n_ctx, &kv_type, error);
    if (st != AGM_OK) return st;
    const uint64_t total = session_bytes(plan(m, n_ctx, kv_type));
    if (total > SIZE_MAX / 2) {
        Error err;
        agm::fail_as(&err, ErrorKind::NoMemory,
                     "a %u-token session needs %llu bytes, more than this system can address",
                     n_ctx, (unsigned long long)total);
        return agm::report(err, error);
    }
    *bytes = (size_t)total;
    return AGM_OK;
}

agm_status agm_session_init(const agm_model* m, const agm_session_options* o, void* arena,
                            size_t arena_bytes, agm_session** out, agm_error* error) {
    if (out == nullptr || arena == nullptr)
        return agm::report_arg(error, "agm_session_init: arena and out must not be NULL");
    *out = nullptr;
    uint32_t n_ctx, kv_type;
    size_t total;
    agm_status st = resolve_options(m, o, &n_ctx, &kv_type, error);
    if (st == AGM_OK) st = agm_session_memory_size(m, o, &total, error);
    if (st != AGM_OK) return st;
    if (arena_bytes < total) {
        Error err;
        agm::fail_as(&err, ErrorKind::Argument,
                     "the session needs an arena of %zu bytes, got %zu (see agm_session_memory_size)",
                     total, arena_bytes);
        agm::report(err, error);
        return AGM_ERR_BUFFER;
    }
    uint8_t* base = align_ptr(arena);
    agm_session* s = new (base) agm_session();
    s->model = m;
    s->kernels = o != nullptr && o->kernels != nullptr ? agm::find_kernels(o->kernels) : &agm::best_kernels();
    s->n_ctx = n_ctx;
    s->kv_type = kv_type;
    s->layout = plan(m, n_ctx, kv_type);
    s->arena_bytes = total;
    s->arena = base + align_up(sizeof(agm_session));
    // Zero everything but the KV cache (and its q8 scales), which is always
    // written before it is read: its untouched pages then cost no resident
    // memory.
    std::memset(s->arena, 0, (size_t)s->layout.kcache);
    std::memset(s->arena + s->layout.probs, 0, (size_t)(s->layout.total - s->layout.probs));
    const Layout& l = s->layout;
    uint8_t* a = s->arena;
    for (uint32_t b = 0; b < kLanes; ++b) {
        agm::Lane& ln = s->lane[b];
        ln.x = reinterpret_cast<float*>(a + l.x[b]);
        ln.xb = reinterpret_cast<float*>(a + l.xb[b]);
        ln.xb2 = reinterpret_cast<float*>(a + l.xb2[b]);
        ln.hb = reinterpret_cast<float*>(a + l.hb[b]);
        ln.hb2 = reinterpret_cast<float*>(a + l.hb2[b]);
        ln.q = reinterpret_cast<float*>(a + l.q[b]);
        ln.rope = reinterpret_cast<float*>(a + l.rope[b]);
        ln.qa = reinterpret_cast<int8_t*>(a + l.qa[b]);
        ln.acc = reinterpret_cast<int32_t*>(a + l.acc[b]);
        ln.kf = reinterpret_cast<float*>(a + l.kf[b]);
        ln.vf = reinterpret_cast<float*>(a + l.vf[b]);
        ln.sa = 0.0f;
        ln.pos = 0;
    }
    s->att = reinterpret_cast<float*>(a + l.att);
    s->logits = reinterpret_cast<float*>(a + l.logits);
    s->table = reinterpret_cast<int16_t*>(a + l.table);
    s->table2 = reinterpret_cast<uint32_t*>(a + l.table);
    s->kvrow = reinterpret_cast<float*>(a + l.kvrow);
    s->kcache = a + l.kcache;
    s->vcache = a + l.vcache;
    s->kscale = reinterpret_cast<float*>(a + l.kscale);
    s->vscale = reinterpret_cast<float*>(a + l.vscale);
    s->cpairs = reinterpret_cast<uint32_t*>(a + l.cpairs);
    s->probs = a + l.probs;
    s->tokens = reinterpret_cast<int32_t*>(a + l.tokens);
    *out = s;
    return AGM_OK;
}

agm_status agm_session_create(const agm_model* m, const agm_session_options* o, agm_session** out,
                              agm_error* error) {
    if (out == nullptr) return agm::report_arg(error, "agm_session_create: out is NULL");
    *out = nullptr;
    size_t total;
    agm_status st = agm_session_memory_size(m, o, &total, error);
    if (st != AGM_OK) return st;
    void* block = std::malloc(total);
    if (block == nullptr) {
        Error err;
        agm::fail_as(&err, ErrorKind::NoMemory, "cannot allocate the session's %zu bytes", total);
        return agm::report(err, error);
    }
    st = agm_session_init(m, o, block, total, out, error);
    if (st != AGM_OK) {
        std::free(block);
        return st;
    }
    (*out)->owned_block = block;
    return AGM_OK;
}

void agm_session_free(agm_session* s) {
    if (s == nullptr) return;
    void* block = s->owned_block;
    s->~agm_session();
    std::free(block);
}

agm_status agm_session_reset(agm_session* s) {
    if (s == nullptr) return AGM_ERR_ARGUMENT;
    s->pos = 0;
    s->has_logits = false;
    s->feed_active = false;
    s->feed_n = s->feed_done = 0;
    s->batch = s->batch_layer = 0;
    return AGM_OK;
}

void agm_control_default(agm_control* c) {
    c->cancel = nullptr;
    c->work_budget = 0;
}

agm_status agm_session_set_control(agm_session* s, const agm_control* c, agm_error* error) {
    if (s == nullptr) return agm::report_arg(error, "agm_session_set_control: session is NULL");
    if (c == nullptr) {
        agm_control_default(&s->control);
    } else {
        s->control = *c;
    }
    return AGM_OK;
}

agm_status agm_session_feed(agm_session* s, const int32_t* tokens, size_t n, agm_error* error) {
    return agm_session_feed_rows(s, tokens, n, nullptr, error);
}

agm_status agm_session_feed_rows(agm_session* s, const int32_t* tokens, size_t n, const uint32_t* rows,
                                 agm_error* error) {
    if (s == nullptr || (tokens == nullptr && n > 0))
        return agm::report_arg(error, "agm_session_feed: NULL argument");
    // Every call checks every token (a repeated call reads the tokens it has
    // not reached yet from the new pointer).
    const uint32_t vocab = s->model->config->vocab_size;
    for (size_t i = 0; i < n; ++i)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= vocab) {
            Error err;
            agm::fail_as(&err, ErrorKind::Argument, "token %d at index %zu is outside the vocabulary (0..%u)",
                         tokens[i], i, vocab - 1);
            return agm::report(err, error);
        }
    const uint32_t sig = token_sig(tokens, n);
    if (s->feed_active) {
        if (n != s->feed_n || sig != s->feed_sig) {
            Error err;
            agm::fail_as(&err, ErrorKind::Argument,
                         "an interrupted call with %zu tokens is pending: repeat it with the same tokens, "
                         "or reset the session", s->feed_n);
            return agm::report(err, error);
        }
    } else {
        if (n > (size_t)(s->n_ctx - s->pos)) {
            Error err;
            agm::fail_as(&err, ErrorKind::Argument,
                         "%zu tokens do not fit: position %u of a %u-token context", n, s->pos,
                         s->n_ctx);
            agm::report(err, error);
            return AGM_ERR_CONTEXT_FULL;
        }
        if (n == 0) return AGM_OK;
        s->feed_active = true;
        s->feed_n = n;
        s->feed_sig = sig;
        s->feed_done = 0;
        s->batch = 0;
        s->has_logits = false;
    }
    const uint32_t n_layers = s->model->config->n_layers;
    bool logits_wanted = rows == nullptr;
    for (uint32_t w = 0; w < (vocab + 31) / 32 && !logits_wanted; ++w) logits_wanted = rows[w] != 0;
    uint32_t used = 0;  // units of work in this call
    while (s->feed_done < n) {
        if (s->batch == 0) {
            const size_t left = n - s->feed_done;
            s->batch = left >= kLanes ? kLanes : (uint32_t)left;
            s->batch_layer = 0;
            agm::forward_begin(s, tokens + s->feed_done, s->batch);
        }
        // The last layer runs whole only for the token whose logits are
        // wanted: the feed's last, unless rows allows none.
        const bool last_batch = s->feed_done + s->batch == n;
        const uint32_t out = last_batch && logits_wanted ? s->batch - 1 : s->batch;
        for (; s->batch_layer < n_layers; ++s->batch_layer) {
            const agm_status st = check_stop(s, used);
            if (st != AGM_OK) return stopped(s, st, error);
            agm::forward_layer(s, s->batch_layer, s->batch, s->batch_layer + 1 == n_layers ? out : 0);
            used += s->batch;
        }
        if (s->feed_done + s->batch == n) {
            const agm_status st = check_stop(s, used);
            if (st != AGM_OK) return stopped(s, st, error);
            agm::forward_logits(s, s->batch, rows, logits_wanted);
            ++used;
        }
        s->pos += s->batch;
        s->feed_done += s->batch;
        s->batch = 0;
    }
    s->feed_active = false;
    s->has_logits = true;
    return AGM_OK;
}

const float* agm_session_logits(const agm_session* s) {
    return (s != nullptr && s->has_logits) ? s->logits : nullptr;
}

uint32_t agm_session_position(const agm_session* s) { return s ? s->pos : 0; }
uint32_t agm_session_context(const agm_session* s) { return s ? s->n_ctx : 0; }
size_t agm_session_memory_used(const agm_session* s) { return s ? s->arena_bytes : 0; }

agm_status agm_session_sample(agm_session* s, agm_sampler* sampler, int32_t* token,
                              agm_error* error) {
    if (s == nullptr || sampler == nullptr || token == nullptr)
        return agm::report_arg(error, "agm_session_sample: NULL argument");
    if (!s->has_logits) return agm::report_arg(error, "agm_session_sample: no token fed yet");
    AGM_REGION(AGM_REGION_SAMPLE);
    *token = agm::sample(sampler, s->logits, s->model->config->vocab_size, s->probs);
    AGM_REGION(AGM_REGION_REST);
    return AGM_OK;
}

agm_status agm_session_sample_masked(agm_session* s, agm_sampler* sampler, const uint32_t* mask, int32_t* token,
                                     agm_error* error) {
    if (mask == nullptr) return agm_session_sample(s, sampler, token, error);
    if (s == nullptr || sampler == nullptr || token == nullptr)
        return agm::report_arg(error, "agm_session_sample_masked: NULL argument");
    if (!s->has_logits) return agm::report_arg(error, "agm_session_sample_masked: no token fed yet");
    AGM_REGION(AGM_REGION_SAMPLE);
    const int32_t t = agm::sample_masked(sampler, s->logits, s->model->config->vocab_size, mask, s->probs);
    AGM_REGION(AGM_REGION_REST);
    if (t == -2)
        return agm::report_arg(error, "agm_session_sample_masked: the logit biases ban every token the mask allows");
    if (t < 0) return agm::report_arg(error, "agm_session_sample_masked: the mask allows no token");
    *token = t;
    return AGM_OK;
}

agm_status agm_session_step(agm_session* s, agm_sampler* sampler, int32_t token, int32_t* next,
                            agm_error* error) {
    if (s == nullptr || sampler == nullptr || next == nullptr)
        return agm::report_arg(error, "agm_session_step: NULL argument");
    const agm_status st = agm_session_feed(s, &token, 1, error);
    if (st != AGM_OK) return st;
    return agm_session_sample(s, sampler, next, error);
}

}  // extern "C"
