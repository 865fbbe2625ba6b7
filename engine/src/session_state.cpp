// Session snapshots (agmodel.h: agm_session_save / load / truncate): the
// engine's side of the layout formats/ owns (agm/snapshot.h). Everything is
// checked before the session is touched, so a refused snapshot leaves it as
// it was.
#include <cstring>

#include "agm/snapshot.h"
#include "api_util.h"
#include "model.h"
#include "session.h"

using agm::Error;
using agm::ErrorKind;

namespace {

agm::SnapshotShape shape_of(const agm_model* m, uint32_t kv_type) {
    const agm::ModelConfig& c = *m->config;
    agm::SnapshotShape sh;
    sh.kv_type = kv_type;
    sh.model_checksum = m->file.checksum;
    sh.n_layers = c.n_layers;
    sh.kv_dim = c.kv_dim();
    sh.n_kv_heads = c.n_kv_heads;
    sh.vocab_size = c.vocab_size;
    return sh;
}

// Walks the first n positions of every layer's K and V rows (and q8
// scales) of the session's cache and of a snapshot laid out as l, calling
// move(cache bytes, snapshot bytes, count) for each run: save copies into
// the snapshot, load out of it (Snap is uint8_t or const uint8_t).
template <class Snap, class Move>
void each_run(const agm_session* s, const agm::SnapshotLayout& l, const agm::SnapshotShape& sh, uint32_t n,
              Snap* snap, Move move) {
    const size_t vb = (size_t)agm::kv_value_bytes(s->kv_type);
    const size_t used = (size_t)n * sh.kv_dim * vb, layer = (size_t)s->n_ctx * sh.kv_dim * vb;
    for (uint32_t i = 0; i < sh.n_layers; ++i) {
        move(s->kcache + i * layer, snap + l.kv + (size_t)(2 * i) * l.rows, used);
        move(s->vcache + i * layer, snap + l.kv + (size_t)(2 * i + 1) * l.rows, used);
    }
    if (l.scale_rows == 0) return;
    const size_t per = (size_t)s->n_ctx * sh.n_kv_heads, bytes = (size_t)n * sh.n_kv_heads * 4;
    for (uint32_t i = 0; i < sh.n_layers; ++i) {
        move(s->kscale + i * per, snap + l.scales + (size_t)(2 * i) * l.scale_rows, bytes);
        move(s->vscale + i * per, snap + l.scales + (size_t)(2 * i + 1) * l.scale_rows, bytes);
    }
}

// Parses bytes[n] and checks it against the model (and kv_type unless
// UINT32_MAX) and every token id against the vocabulary.
bool check(const agm_model* m, uint32_t kv_type, const uint8_t* p, size_t n, agm::SnapshotHeader* h,
           agm::SnapshotLayout* l, Error* err) {
    if (!agm::parse_snapshot(p, n, h, l, err)) return false;
    const agm::SnapshotShape want = shape_of(m, kv_type == UINT32_MAX ? h->kv_type : kv_type);
    if (h->model_checksum != want.model_checksum || h->n_layers != want.n_layers || h->kv_dim != want.kv_dim ||
        h->n_kv_heads != want.n_kv_heads || h->vocab_size != want.vocab_size)
        return agm::fail_as(err, ErrorKind::Argument,
                            "snapshot: made with another model (file checksum 0x%08X, %u layers, kv_dim %u, vocab "
                            "%u; this one 0x%08X, %u, %u, %u)",
                            h->model_checksum, h->n_layers, h->kv_dim, h->vocab_size, want.model_checksum,
                            want.n_layers, want.kv_dim, want.vocab_size);
    if (h->kv_type != want.kv_type) {
        static const char* names[] = {"f32", "f16", "q8"};
        return agm::fail_as(err, ErrorKind::Argument, "snapshot: KV cache type %s, the session's is %s",
                            names[h->kv_type], names[want.kv_type]);
    }
    for (uint32_t i = 0; i < h->n_tokens; ++i) {
        int32_t t;
        std::memcpy(&t, p + l->tokens + (size_t)i * 4, 4);
        if (t < 0 || (uint32_t)t >= h->vocab_size)
            return agm::fail(err, "snapshot: token %d at position %u is outside the vocabulary", t, i);
    }
    return true;
}

}  // namespace

extern "C" {

const int32_t* agm_session_tokens(const agm_session* s) { return s != nullptr ? s->tokens : nullptr; }

size_t agm_session_state_size(const agm_session* s) {
    if (s == nullptr) return 0;
    agm::SnapshotLayout l;
    if (!agm::snapshot_layout(shape_of(s->model, s->kv_type), s->pos, &l)) return 0;
    return (size_t)l.total;
}

agm_status agm_session_save(const agm_session* s, void* buf, size_t cap, size_t* written, agm_error* error) {
    if (s == nullptr || written == nullptr || (buf == nullptr && cap > 0))
        return agm::report_arg(error, "agm_session_save: NULL argument");
    *written = 0;
    if (s->feed_active)
        return agm::report_arg(error, "agm_session_save: an interrupted feed is pending (finish it or reset)");
    const agm::SnapshotShape sh = shape_of(s->model, s->kv_type);
    agm::SnapshotLayout l;
    if (!agm::snapshot_layout(sh, s->pos, &l)) return agm::report_arg(error, "agm_session_save: impossible shape");
    if (cap < l.total) {
        Error err;
        agm::fail_as(&err, ErrorKind::Argument, "agm_session_save: the snapshot needs %llu bytes, the buffer has %zu",
                     (unsigned long long)l.total, cap);
        agm::report(err, error);
        return AGM_ERR_BUFFER;
    }
    uint8_t* p = static_cast<uint8_t*>(buf);
    std::memset(p, 0, (size_t)l.total);  // the alignment padding too: the bytes are a function of the state
    agm::write_snapshot_header(sh, s->pos, p);
    std::memcpy(p + l.tokens, s->tokens, (size_t)s->pos * 4);
    each_run(s, l, sh, s->pos, p, [](const void* cache, uint8_t* snap, size_t n) { std::memcpy(snap, cache, n); });
    agm::seal_snapshot(p, l.total);
    *written = (size_t)l.total;
    return AGM_OK;
}

agm_status agm_session_load(agm_session* s, const void* bytes, size_t n, agm_error* error) {
    if (s == nullptr || bytes == nullptr) return agm::report_arg(error, "agm_session_load: NULL argument");
    const uint8_t* p = static_cast<const uint8_t*>(bytes);
    Error err;
    agm::SnapshotHeader h;
    agm::SnapshotLayout l;
    if (!check(s->model, s->kv_type, p, n, &h, &l, &err)) return agm::report(err, error);
    if (h.n_tokens > s->n_ctx) {
        agm::fail_as(&err, ErrorKind::Argument, "snapshot: %u positions do not fit this session's %u-token context",
                     h.n_tokens, s->n_ctx);
        agm::report(err, error);
        return AGM_ERR_CONTEXT_FULL;
    }
    std::memcpy(s->tokens, p + l.tokens, (size_t)h.n_tokens * 4);
    each_run(s, l, shape_of(s->model, s->kv_type), h.n_tokens, p,
             [](void* cache, const uint8_t* snap, size_t n) { std::memcpy(cache, snap, n); });
    s->pos = h.n_tokens;
    s->has_logits = false;
    s->feed_active = false;
    s->feed_n = s->feed_done = 0;
    s->batch = s->batch_layer = 0;
    return AGM_OK;
}

agm_status agm_snapshot_tokens(const agm_model* m, const void* bytes, size_t n, int32_t* tokens, size_t cap,
                               size_t* n_tokens, agm_error* error) {
    if (m == nullptr || bytes == nullptr || n_tokens == nullptr || (tokens == nullptr && cap > 0))
        return agm::report_arg(error, "agm_snapshot_tokens: NULL argument");
    *n_tokens = 0;
    const uint8_t* p = static_cast<const uint8_t*>(bytes);
    Error err;
    agm::SnapshotHeader h;
    agm::SnapshotLayout l;
    if (!check(m, UINT32_MAX, p, n, &h, &l, &err)) return agm::report(err, error);
    *n_tokens = h.n_tokens;
    if (cap < h.n_tokens) return agm::report_arg(error, "agm_snapshot_tokens: the buffer is too short", AGM_ERR_BUFFER);
    std::memcpy(tokens, p + l.tokens, (size_t)h.n_tokens * 4);
    return AGM_OK;
}

agm_status agm_session_truncate(agm_session* s, uint32_t n, agm_error* error) {
    if (s == nullptr) return agm::report_arg(error, "agm_session_truncate: NULL argument");
    if (s->feed_active)
        return agm::report_arg(error, "agm_session_truncate: an interrupted feed is pending (finish it or reset)");
    if (n > s->pos) {
        Error err;
        agm::fail_as(&err, ErrorKind::Argument, "agm_session_truncate: %u positions asked, the session holds %u", n,
                     s->pos);
        return agm::report(err, error);
    }
    s->pos = n;
    s->has_logits = false;
    return AGM_OK;
}

}  // extern "C"

size_t agm_reusable_prefix(const int32_t* held, size_t n_held, const int32_t* prompt, size_t n) {
    if (held == nullptr || prompt == nullptr || n == 0) return 0;
    size_t common = 0;
    while (common < n_held && common < n && held[common] == prompt[common]) ++common;
    return common < n ? common : n - 1;
}
