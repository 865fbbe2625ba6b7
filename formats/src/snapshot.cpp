// Session snapshots (agm/snapshot.h): the layout, its checks and its seal.
#include "agm/snapshot.h"

#include <cstring>

#include "agm/crc32.h"

namespace agm {
namespace {

uint64_t align8(uint64_t v) { return (v + 7) / 8 * 8; }

// Bytes of one cached value; 0: unknown type (agmodel.h's AGM_KV_*: 0 f32, 1 f16, 2 q8).
uint32_t value_bytes(uint32_t kv_type) { return kv_type == 0 ? 4 : kv_type == 1 ? 2 : kv_type == 2 ? 1 : 0; }

constexpr uint64_t kMaxTokens = 1u << 24;  // positions a snapshot may hold (the config's context bound)
constexpr uint64_t kMaxLayerValues = 1ull << 40;

}  // namespace

bool snapshot_layout(const SnapshotShape& sh, uint32_t n_tokens, SnapshotLayout* out) {
    const uint32_t vb = value_bytes(sh.kv_type);
    if (vb == 0 || n_tokens > kMaxTokens || sh.n_layers == 0 || sh.kv_dim == 0 || sh.n_kv_heads == 0 ||
        sh.n_layers > 4096 || sh.kv_dim > (1u << 20) || sh.n_kv_heads > sh.kv_dim)
        return false;
    const uint64_t values = (uint64_t)n_tokens * sh.kv_dim;
    if (values > kMaxLayerValues) return false;
    SnapshotLayout l;
    l.tokens = sizeof(SnapshotHeader);
    l.kv = align8(l.tokens + (uint64_t)n_tokens * 4);
    l.rows = align8(values * vb);
    l.scales = l.kv + 2ull * sh.n_layers * l.rows;
    l.scale_rows = sh.kv_type == 2 ? align8((uint64_t)n_tokens * sh.n_kv_heads * 4) : 0;
    l.total = l.scales + 2ull * sh.n_layers * l.scale_rows;
    *out = l;
    return true;
}

bool parse_snapshot(const uint8_t* p, uint64_t n, SnapshotHeader* h, SnapshotLayout* layout, Error* err) {
    if (n < sizeof(SnapshotHeader))
        return fail(err, "snapshot: %llu bytes, shorter than its 64-byte header", (unsigned long long)n);
    std::memcpy(h, p, sizeof *h);
    if (h->magic != kSnapshotMagic) return fail(err, "snapshot: not a session snapshot (bad magic)");
    if (h->version != kSnapshotVersion)
        return fail_as(err, ErrorKind::Unsupported, "snapshot: version %u (this build reads version %u)", h->version,
                       kSnapshotVersion);
    if (h->header_bytes != sizeof(SnapshotHeader)) return fail(err, "snapshot: header of %u bytes, not 64", h->header_bytes);
    for (uint32_t r : h->reserved)
        if (r != 0) return fail(err, "snapshot: reserved header fields are not zero");
    SnapshotShape sh;
    sh.kv_type = h->kv_type;
    sh.model_checksum = h->model_checksum;
    sh.n_layers = h->n_layers;
    sh.kv_dim = h->kv_dim;
    sh.n_kv_heads = h->n_kv_heads;
    sh.vocab_size = h->vocab_size;
    if (!snapshot_layout(sh, h->n_tokens, layout))
        return fail(err, "snapshot: impossible shape (KV type %u, %u layers, kv_dim %u, %u heads, %u tokens)",
                    h->kv_type, h->n_layers, h->kv_dim, h->n_kv_heads, h->n_tokens);
    if (layout->total != n)
        return fail(err, "snapshot: %llu bytes, its header says %llu (truncated or with trailing bytes)",
                    (unsigned long long)n, (unsigned long long)layout->total);
    const uint32_t zero = 0;
    const size_t at = offsetof(SnapshotHeader, crc);
    uint32_t crc = crc32_update(0, p, at);
    crc = crc32_update(crc, &zero, 4);
    crc = crc32_update(crc, p + at + 4, (size_t)(n - at - 4));
    if (crc != h->crc) return fail(err, "snapshot: checksum mismatch (0x%08X stored, 0x%08X computed): damaged", h->crc, crc);
    return true;
}

void write_snapshot_header(const SnapshotShape& sh, uint32_t n_tokens, uint8_t* bytes) {
    SnapshotHeader h{};
    h.magic = kSnapshotMagic;
    h.version = kSnapshotVersion;
    h.header_bytes = sizeof(SnapshotHeader);
    h.kv_type = sh.kv_type;
    h.model_checksum = sh.model_checksum;
    h.n_layers = sh.n_layers;
    h.kv_dim = sh.kv_dim;
    h.n_kv_heads = sh.n_kv_heads;
    h.vocab_size = sh.vocab_size;
    h.n_tokens = n_tokens;
    std::memcpy(bytes, &h, sizeof h);
}

void seal_snapshot(uint8_t* bytes, uint64_t n) {
    const size_t at = offsetof(SnapshotHeader, crc);
    std::memset(bytes + at, 0, 4);
    const uint32_t crc = crc32_update(0, bytes, (size_t)n);
    std::memcpy(bytes + at, &crc, 4);
}

}  // namespace agm
