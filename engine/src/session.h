// The session's run state (session.cpp: the forward pass; session_state.cpp:
// snapshots), all of it in the caller's arena.
#ifndef AGM_ENGINE_SESSION_H
#define AGM_ENGINE_SESSION_H

#include <cstddef>
#include <cstdint>

#include "agmodel.h"
#include "kernels/kernels.h"

namespace agm {

// Tokens a feed runs through the model together (engine/kernels: the
// two-vector tl5 product reads each weight once for both).
constexpr uint32_t kLanes = 2;

// Bytes of one cached value of a KV type (q8: without its block's scale).
uint64_t kv_value_bytes(uint32_t kv_type);

struct Layout {
    // per lane: residual, branch buffers, query, RoPE table, int8 input,
    // int32 sums, compact-cache k and v
    uint64_t x[kLanes], xb[kLanes], xb2[kLanes], hb[kLanes], hb2[kLanes], q[kLanes], rope[kLanes];
    uint64_t qa[kLanes], acc[kLanes], kf[kLanes], vf[kLanes];
    uint64_t att, logits, table, kvrow;
    uint64_t kcache, vcache, kscale, vscale, cpairs, probs, tokens, total;
};

// One token's buffers in a forward pass (a feed runs up to kLanes tokens
// through each layer together).
struct Lane {
    float *x, *xb, *xb2, *hb, *hb2, *q, *rope;
    float *kf, *vf;  // compact cache only: new k, v [kv_dim]
    int8_t* qa;      // the current matrix input, quantised
    float sa;        // its scale
    int32_t* acc;    // integer sums of a product
    uint32_t pos;    // the token's position
};

}  // namespace agm

struct agm_session {
    const agm_model* model = nullptr;
    const agm::KernelSet* kernels = nullptr;
    uint32_t n_ctx = 0;
    uint32_t kv_type = AGM_KV_F32;
    uint32_t pos = 0;
    bool has_logits = false;
    agm::Layout layout{};
    uint8_t* arena = nullptr;
    agm::Lane lane[agm::kLanes];
    float *att, *logits;
    float* kvrow;              // compact cache only: a row read back [head_dim]
    uint8_t *kcache, *vcache;  // [layer, n_ctx, kv_dim] of kv_type
    float *kscale, *vscale;    // q8 only: [layer, n_ctx, n_kv_heads]
    uint32_t* cpairs;          // q4_b32 classifier only: [blocks][17]
    int16_t* table;            // tl5 sums of lane 0's qa (when table_ready)
    uint32_t* table2;          // the same memory: tl5 sum pairs of lanes 0 and 1 (when table2_ready)
    bool table_ready = false, table2_ready = false;
    void* probs;
    int32_t* tokens;           // [n_ctx] the ids fed, positions 0..pos-1 (snapshots carry them)
    agm_control control{nullptr, 0};
    // A feed interrupted by the control (feed_active): its length and a
    // signature of its tokens (a repeated call must match), the tokens
    // done, and the batch in flight: its lanes (0: none) and next layer
    // (n_layers: the classifier).
    bool feed_active = false;
    size_t feed_n = 0, feed_done = 0;
    uint32_t feed_sig = 0;
    uint32_t batch = 0, batch_layer = 0;
    size_t arena_bytes = 0;      // agm_session_memory_size() for its options
    void* owned_block = nullptr; // agm_session_create(): free on agm_session_free
};

#endif
