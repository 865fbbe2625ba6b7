// Session snapshots: the state a session needs to go on from where it was
// (the KV rows of positions 0..n-1 and the token ids fed), bound to the model
// file and the KV cache type. docs/format.md ("Session snapshots") is the
// specification; this header is its C++ form. Little-endian, like the
// model file; every section starts 8-aligned from the snapshot's start.
//
//   SnapshotHeader                       64 bytes
//   tokens      int32[n_tokens]          the ids fed, in order
//   K, V        per layer: K rows [n_tokens][kv_dim], then V rows, of the
//               KV type's values (f32: 4 bytes, f16: 2, q8: 1)
//   K, V scales q8 only: per layer K [n_tokens][n_kv_heads] f32, then V
//
// The header's crc is the CRC-32 (crc32.h) of every byte of the snapshot
// with that field read as 0.
#ifndef AGM_SNAPSHOT_H
#define AGM_SNAPSHOT_H

#include <cstddef>
#include <cstdint>

#include "agm/error.h"

namespace agm {

constexpr uint32_t kSnapshotMagic = 0x534D4741u;  // "AGMS" read as a little-endian uint32
constexpr uint32_t kSnapshotVersion = 1;

struct SnapshotHeader {
    uint32_t magic;           // kSnapshotMagic
    uint32_t version;         // kSnapshotVersion
    uint32_t header_bytes;    // sizeof(SnapshotHeader)
    uint32_t kv_type;         // AGM_KV_F32 / F16 / Q8
    uint32_t model_checksum;  // the model file's stored CRC-32 (its header's checksum)
    uint32_t n_layers;
    uint32_t kv_dim;          // n_kv_heads * head_dim
    uint32_t n_kv_heads;
    uint32_t vocab_size;
    uint32_t n_tokens;        // positions held
    uint32_t reserved[5];     // 0
    uint32_t crc;             // CRC-32 of the whole snapshot, this field read as 0
};
static_assert(sizeof(SnapshotHeader) == 64, "the snapshot header is 64 bytes");

// What a snapshot is bound to (its header's fields but n_tokens).
struct SnapshotShape {
    uint32_t kv_type = 0, model_checksum = 0, n_layers = 0, kv_dim = 0, n_kv_heads = 0, vocab_size = 0;
};

// The sections' offsets and sizes for n_tokens positions of a shape.
struct SnapshotLayout {
    uint64_t tokens = 0, kv = 0, scales = 0, total = 0;
    uint64_t rows = 0;          // bytes of one layer's K (or V) rows
    uint64_t scale_rows = 0;    // bytes of one layer's K (or V) scales (q8; else 0)
};

// false if the shape's KV type is unknown or the sizes overflow.
bool snapshot_layout(const SnapshotShape& shape, uint32_t n_tokens, SnapshotLayout* out);

// Checks bytes[n] as a snapshot: magic, version, header size, reserved
// fields, the exact size its header implies and the CRC. On success *header
// is a copy of its header (the bytes may be unaligned: read in place).
bool parse_snapshot(const uint8_t* bytes, uint64_t n, SnapshotHeader* header, SnapshotLayout* layout, Error* err);

// Writes the header for shape and n_tokens into bytes (at least
// sizeof(SnapshotHeader)) with crc 0; seal_snapshot then sets the CRC of
// the whole bytes[n].
void write_snapshot_header(const SnapshotShape& shape, uint32_t n_tokens, uint8_t* bytes);
void seal_snapshot(uint8_t* bytes, uint64_t n);

}  // namespace agm

#endif
