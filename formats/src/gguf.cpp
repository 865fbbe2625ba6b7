// GGUF v2/v3 reader (layout in agm/gguf.h and docs/formats.md):
//
//   u32 magic "GGUF", u32 version, u64 tensor_count, u64 kv_count
//   kv_count x   (string key, u32 value type, value)
//   tensor_count x (string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset)
//   padding to `alignment`, then the data section
//
// A string is a u64 length and its bytes; an array a u32 element type, a u64
// count and the elements. Every read goes through Cursor, which checks the
// bytes that remain first; every count is bounded by the remaining bytes
// divided by the smallest encoding of one item before anything is allocated.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstring>

#include "agm/gguf.h"

namespace agm {
namespace {

// Smallest encodings, for bounding counts by the bytes that remain.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;          // empty key, type, a 1-byte value
constexpr uint64_t kMinTensorBytes = 8 + 4 + 8 + 4 + 8;  // empty name, n_dims, one dim, type, offset
constexpr uint64_t kHeaderBytes = 4 + 4 + 8 + 8;

// A key or tensor name made printable for a message: bytes outside 0x20..0x7E
// become '?', and more than 64 characters are cut with "...".
struct Shown {
    char s[72];
    explicit Shown(const std::string& in) {
        size_t k = 0;
        for (size_t i = 0; i < in.size() && k < 64; i++) {
            const unsigned char c = (unsigned char)in[i];
            s[k++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
        }
        if (in.size() > 64) {
            s[k++] = '.';
            s[k++] = '.';
            s[k++] = '.';
        }
        s[k] = 0;
    }
};

uint16_t rd16(const uint8_t* p) { return (uint16_t)(p[0] | p[1] << 8); }
uint32_t rd32(const uint8_t* p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
uint64_t rd64(const uint8_t* p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

// Bytes of one scalar of a value type; 0 for strings, arrays and unknown types.
uint32_t scalar_bytes(uint32_t type) {
    switch (type) {
    case GGUF_U8: case GGUF_I8: case GGUF_BOOL: return 1;
    case GGUF_U16: case GGUF_I16: return 2;
    case GGUF_U32: case GGUF_I32: case GGUF_F32: return 4;
    case GGUF_U64: case GGUF_I64: case GGUF_F64: return 8;
    default: return 0;
    }
}

const char* type_name(uint32_t type) {
    static const char* names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                  "bool", "string", "array", "u64", "i64", "f64"};
    return type <= GGUF_F64 ? names[type] : "unknown";
}

struct Cursor {
    const uint8_t* base;
    uint64_t size;
    uint64_t pos;

    uint64_t remain() const { return size - pos; }

    bool u32(uint32_t* v) {
        if (remain() < 4) return false;
        *v = rd32(base + pos);
        pos += 4;
        return true;
    }
    bool u64(uint64_t* v) {
        if (remain() < 8) return false;
        *v = rd64(base + pos);
        pos += 8;
        return true;
    }
};

// What a failure is about, for the message prefix: "key 'x'", "key 7",
// "tensor 3 'name'".
struct Where {
    char s[112];
};

Where where_key(uint64_t index, const std::string* key) {
    Where w;
    if (key) std::snprintf(w.s, sizeof w.s, "key '%s'", Shown(*key).s);
    else std::snprintf(w.s, sizeof w.s, "key %" PRIu64, index);
    return w;
}

Where where_tensor(uint64_t index, const std::string* name) {
    Where w;
    if (name) std::snprintf(w.s, sizeof w.s, "tensor %" PRIu64 " '%s'", index, Shown(*name).s);
    else std::snprintf(w.s, sizeof w.s, "tensor %" PRIu64, index);
    return w;
}

bool truncated(Error* err, const Where& w, uint64_t at, const char* what, uint64_t need, uint64_t remain) {
    return fail(err, "gguf: %s at byte %" PRIu64 ": %s needs %" PRIu64 " bytes, %" PRIu64 " remain", w.s, at, what,
                need, remain);
}

// A string (u64 length, bytes). `what` names it in messages ("name", "string").
bool read_string(Cursor* c, const Where& w, const char* what, std::string* out, Error* err) {
    const uint64_t at = c->pos;
    uint64_t n = 0;
    if (!c->u64(&n)) return truncated(err, w, at, what, 8, c->remain());
    if (n > c->remain())
        return fail(err, "gguf: %s at byte %" PRIu64 ": %s of %" PRIu64 " bytes, %" PRIu64 " remain", w.s, at, what, n,
                    c->remain());
    out->assign((const char*)c->base + c->pos, (size_t)n);
    c->pos += n;
    return true;
}

// The value of a pair, after its type. Arrays of strings are decoded.
bool read_value(Cursor* c, const Where& w, uint32_t type, GgufValue* v, Error* err) {
    v->type = type;
    const uint64_t at = c->pos;
    if (type == GGUF_STRING) {
        uint64_t n = 0;
        if (!c->u64(&n)) return truncated(err, w, at, "string length", 8, c->remain());
        if (n > c->remain())
            return fail(err, "gguf: %s at byte %" PRIu64 ": string of %" PRIu64 " bytes, %" PRIu64 " remain", w.s, at,
                        n, c->remain());
        v->count = n;
        v->data = c->base + c->pos;
        c->pos += n;
        return true;
    }
    if (type == GGUF_ARRAY) {
        uint32_t et = 0;
        uint64_t n = 0;
        if (!c->u32(&et)) return truncated(err, w, at, "array element type", 4, c->remain());
        if (et == GGUF_ARRAY)
            return fail_as(err, ErrorKind::Unsupported, "gguf: %s at byte %" PRIu64 ": arrays of arrays are not supported",
                           w.s, at);
        if (et != GGUF_STRING && scalar_bytes(et) == 0)
            return fail(err, "gguf: %s at byte %" PRIu64 ": array of unknown value type %" PRIu32, w.s, at, et);
        if (!c->u64(&n)) return truncated(err, w, at + 4, "array count", 8, c->remain());
        const uint64_t elem = et == GGUF_STRING ? 8 : scalar_bytes(et);  // a string takes at least its length
        if (n > c->remain() / elem)
            return fail(err,
                        "gguf: %s at byte %" PRIu64 ": array of %" PRIu64 " %s elements (at least %" PRIu64
                        " bytes each), %" PRIu64 " bytes remain",
                        w.s, at + 4, n, type_name(et), elem, c->remain());
        v->elem_type = et;
        v->count = n;
        v->data = c->base + c->pos;
        if (et != GGUF_STRING) {
            c->pos += n * elem;  // n * elem <= remain: no overflow
            if (et == GGUF_BOOL)
                for (uint64_t i = 0; i < n; i++)
                    if (v->data[i] > 1)
                        return fail(err, "gguf: %s: bool element %" PRIu64 " at byte %" PRIu64 " is %u (must be 0 or 1)",
                                    w.s, i, at + 12 + i, (unsigned)v->data[i]);
            return true;
        }
        // Not reserved by n: a hostile n (up to remain / 8) would reserve 4x the
        // file; the vector grows with the strings actually read.
        v->strings.reserve((size_t)std::min<uint64_t>(n, 1u << 16));
        for (uint64_t i = 0; i < n; i++) {
            const uint64_t sat = c->pos;
            uint64_t len = 0;
            if (!c->u64(&len)) return truncated(err, w, sat, "string length", 8, c->remain());
            if (len > c->remain())
                return fail(err,
                            "gguf: %s at byte %" PRIu64 ": element %" PRIu64 ": string of %" PRIu64 " bytes, %" PRIu64
                            " remain",
                            w.s, sat, i, len, c->remain());
            v->strings.emplace_back((const char*)c->base + c->pos, (size_t)len);
            c->pos += len;
        }
        return true;
    }
    const uint32_t nb = scalar_bytes(type);
    if (nb == 0) return fail(err, "gguf: %s at byte %" PRIu64 ": unknown value type %" PRIu32, w.s, at - 4, type);
    if (c->remain() < nb) return truncated(err, w, at, type_name(type), nb, c->remain());
    v->count = 1;
    v->data = c->base + c->pos;
    if (type == GGUF_BOOL && v->data[0] > 1)
        return fail(err, "gguf: %s at byte %" PRIu64 ": bool is %u (must be 0 or 1)", w.s, at, (unsigned)v->data[0]);
    c->pos += nb;
    return true;
}

bool has_nul(const std::string& s) { return std::memchr(s.data(), 0, s.size()) != nullptr; }

// Duplicate strings among `n` items: sorts indices by name; reports the later
// of the first equal pair found.
template <typename NameOf, typename Report>
bool check_unique(size_t n, NameOf name_of, Report report) {
    std::vector<uint32_t> order(n);
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        const int c = name_of(a).compare(name_of(b));
        return c < 0 || (c == 0 && a < b);
    });
    for (size_t i = 1; i < n; i++)
        if (name_of(order[i]) == name_of(order[i - 1])) return report(order[i - 1], order[i]);
    return true;
}

bool read_alignment(const std::vector<GgufKv>& kvs, uint64_t* alignment, Error* err) {
    for (const GgufKv& kv : kvs) {
        if (kv.key != "general.alignment") continue;
        if (kv.value.type != GGUF_U32)
            return fail(err, "gguf: key 'general.alignment' at byte %" PRIu64 " has type %s, must be u32", kv.at,
                        type_name(kv.value.type));
        const uint32_t a = rd32(kv.value.data);
        if (a == 0 || (a & (a - 1)) != 0)
            return fail(err, "gguf: key 'general.alignment' at byte %" PRIu64 " is %" PRIu32 ", not a power of two",
                        kv.at, a);
        *alignment = a;
        return true;
    }
    *alignment = 32;
    return true;
}

bool read_header(Cursor* c, GgufFile* f, uint64_t* n_tensors, uint64_t* n_kv, Error* err) {
    if (c->size < kHeaderBytes)
        return fail(err, "gguf: %" PRIu64 " bytes, too short for the %" PRIu64 "-byte header", c->size, kHeaderBytes);
    const uint8_t* p = c->base;
    if (std::memcmp(p, "GGUF", 4) != 0) {
        char m[5];
        for (int i = 0; i < 4; i++) m[i] = (p[i] >= 0x20 && p[i] < 0x7F) ? (char)p[i] : '?';
        m[4] = 0;
        return fail(err, "gguf: bad magic '%s' (%02x %02x %02x %02x), expected 'GGUF'", m, p[0], p[1], p[2], p[3]);
    }
    const uint32_t version = rd32(p + 4);
    if ((version & 0xFFFF) == 0 && version != 0)
        return fail_as(err, ErrorKind::Unsupported,
                       "gguf: big-endian GGUF is not supported (the version field at byte 4 reads 0x%08" PRIx32 ")",
                       version);
    if (version != 2 && version != 3)
        return fail_as(err, ErrorKind::Unsupported, "gguf: version %" PRIu32 " is not supported (only 2 and 3)", version);
    c->pos = 8;
    c->u64(n_tensors);
    c->u64(n_kv);
    // Both lists follow: each bounded by what remains (checked again, exactly,
    // when each list is read).
    if (*n_kv > c->remain() / kMinKvBytes)
        return fail(err,
                    "gguf: header at byte 16: %" PRIu64 " metadata pairs, but %" PRIu64
                    " bytes remain (a pair takes at least %" PRIu64 ")",
                    *n_kv, c->remain(), kMinKvBytes);
    if (*n_tensors > c->remain() / kMinTensorBytes)
        return fail(err,
                    "gguf: header at byte 8: %" PRIu64 " tensors, but %" PRIu64
                    " bytes remain (a tensor info takes at least %" PRIu64 ")",
                    *n_tensors, c->remain(), kMinTensorBytes);
    if (*n_kv > UINT32_MAX || *n_tensors > UINT32_MAX)
        return fail(err, "gguf: header: %" PRIu64 " tensors and %" PRIu64 " metadata pairs, more than 2^32-1", *n_tensors,
                    *n_kv);
    f->version = version;
    return true;
}

bool read_kvs(Cursor* c, uint64_t n_kv, GgufFile* f, Error* err) {
    for (uint64_t i = 0; i < n_kv; i++) {
        GgufKv kv;
        kv.at = c->pos;
        if (c->remain() < kMinKvBytes)
            return fail(err, "gguf: key %" PRIu64 " at byte %" PRIu64 ": a pair needs at least %" PRIu64
                        " bytes, %" PRIu64 " remain (%" PRIu64 " pairs declared)",
                        i, c->pos, kMinKvBytes, c->remain(), n_kv);
        if (!read_string(c, where_key(i, nullptr), "name", &kv.key, err)) return false;
        const Where w = where_key(i, &kv.key);
        if (has_nul(kv.key)) return fail(err, "gguf: %s at byte %" PRIu64 ": the key contains a NUL byte", w.s, kv.at);
        uint32_t type = 0;
        if (!c->u32(&type)) return truncated(err, w, c->pos, "value type", 4, c->remain());
        if (!read_value(c, w, type, &kv.value, err)) return false;
        f->kv.push_back(std::move(kv));
    }
    return check_unique(
        f->kv.size(), [f](uint32_t i) -> const std::string& { return f->kv[i].key; },
        [f, err](uint32_t a, uint32_t b) {
            return fail(err, "gguf: key '%s' at byte %" PRIu64 " repeats the key at byte %" PRIu64,
                        Shown(f->kv[b].key).s, f->kv[b].at, f->kv[a].at);
        });
}

bool read_tensor_info(Cursor* c, uint64_t i, uint64_t alignment, GgufTensorInfo* t, Error* err) {
    t->at = c->pos;
    if (!read_string(c, where_tensor(i, nullptr), "name", &t->name, err)) return false;
    const Where w = where_tensor(i, &t->name);
    if (has_nul(t->name)) return fail(err, "gguf: %s at byte %" PRIu64 ": the name contains a NUL byte", w.s, t->at);
    const uint64_t dims_at = c->pos;
    if (!c->u32(&t->n_dims)) return truncated(err, w, dims_at, "n_dims", 4, c->remain());
    if (t->n_dims < 1 || t->n_dims > 4)
        return fail(err, "gguf: %s at byte %" PRIu64 ": n_dims %" PRIu32 " (must be 1..4)", w.s, dims_at, t->n_dims);
    for (uint32_t d = 0; d < t->n_dims; d++)
        if (!c->u64(&t->ne[d])) return truncated(err, w, c->pos, "dimension", 8, c->remain());
    const uint64_t type_at = c->pos;
    if (!c->u32(&t->type)) return truncated(err, w, type_at, "type", 4, c->remain());
    const uint64_t off_at = c->pos;
    uint64_t rel = 0;
    if (!c->u64(&rel)) return truncated(err, w, off_at, "offset", 8, c->remain());
    if (ggml_type_info(t->type) == nullptr)
        return fail_as(err, ErrorKind::Unsupported, "gguf: %s at byte %" PRIu64 ": unknown tensor type %" PRIu32, w.s,
                       type_at, t->type);
    Error sub;
    if (!ggml_tensor_bytes(t->type, t->ne, t->n_dims, &t->bytes, &sub))
        return fail(err, "gguf: %s at byte %" PRIu64 ": %s", w.s, dims_at, sub.msg);
    if (rel % alignment != 0)
        return fail(err, "gguf: %s: offset %" PRIu64 " is not a multiple of the alignment %" PRIu64, w.s, rel,
                    alignment);
    t->offset = rel;  // relative until the data section's start is known
    return true;
}

// Places the tensors: absolute offsets, inside the file, no two overlapping.
bool place_tensors(GgufFile* f, const uint8_t* data, uint64_t size, Error* err) {
    std::vector<GgufTensorInfo>& ts = f->tensors;
    for (size_t i = 0; i < ts.size(); i++) {
        GgufTensorInfo& t = ts[i];
        const Where w = where_tensor(i, &t.name);
        if (f->data_offset > size)
            return fail(err, "gguf: %s: the data section would start at byte %" PRIu64 ", past the end of the %" PRIu64
                        "-byte file", w.s, f->data_offset, size);
        const uint64_t room = size - f->data_offset;
        if (t.offset > room || t.bytes > room - t.offset)
            return fail(err,
                        "gguf: %s: %" PRIu64 " bytes at offset %" PRIu64 " run past the end of the data section (%" PRIu64
                        " bytes from byte %" PRIu64 ")",
                        w.s, t.bytes, t.offset, room, f->data_offset);
        t.offset += f->data_offset;
        t.data = data + t.offset;
    }
    std::vector<uint32_t> order(ts.size());
    for (size_t i = 0; i < ts.size(); i++) order[i] = (uint32_t)i;
    std::sort(order.begin(), order.end(), [&ts](uint32_t a, uint32_t b) {
        return ts[a].offset < ts[b].offset || (ts[a].offset == ts[b].offset && a < b);
    });
    for (size_t k = 1; k < order.size(); k++) {
        const GgufTensorInfo& a = ts[order[k - 1]];
        const GgufTensorInfo& b = ts[order[k]];
        if (a.offset + a.bytes > b.offset)  // both inside the file: no overflow
            return fail(err,
                        "gguf: tensor %" PRIu32 " '%s' (bytes %" PRIu64 "..%" PRIu64 ") overlaps tensor %" PRIu32
                        " '%s' (from byte %" PRIu64 ")",
                        order[k], Shown(b.name).s, b.offset, b.offset + b.bytes, order[k - 1], Shown(a.name).s,
                        a.offset);
    }
    return true;
}

}  // namespace

bool parse_gguf(const uint8_t* data, uint64_t size, GgufFile* out, Error* err) {
    if (data == nullptr && size != 0) return fail(err, "gguf: no data");
    Cursor c{data, size, 0};
    GgufFile f;
    uint64_t n_tensors = 0, n_kv = 0;
    if (!read_header(&c, &f, &n_tensors, &n_kv, err)) return false;
    if (!read_kvs(&c, n_kv, &f, err)) return false;
    if (!read_alignment(f.kv, &f.alignment, err)) return false;

    if (n_tensors > c.remain() / kMinTensorBytes)
        return fail(err,
                    "gguf: at byte %" PRIu64 ": %" PRIu64 " tensors declared, but %" PRIu64
                    " bytes remain (a tensor info takes at least %" PRIu64 ")",
                    c.pos, n_tensors, c.remain(), kMinTensorBytes);
    // Not reserved by n_tensors (a hostile count up to remain / 32 would
    // reserve 3.5x the file): the vector grows with the infos actually read.
    for (uint64_t i = 0; i < n_tensors; i++) {
        GgufTensorInfo t;
        if (!read_tensor_info(&c, i, f.alignment, &t, err)) return false;
        f.tensors.push_back(std::move(t));
    }
    if (!check_unique(
            f.tensors.size(), [&f](uint32_t i) -> const std::string& { return f.tensors[i].name; },
            [&f, err](uint32_t a, uint32_t b) {
                return fail(err, "gguf: tensor %" PRIu32 " '%s' at byte %" PRIu64 " has the name of tensor %" PRIu32,
                            b, Shown(f.tensors[b].name).s, f.tensors[b].at, a);
            }))
        return false;
    // c.pos <= size < 2^64 - alignment (the buffer is in memory): no overflow.
    const uint64_t rem = c.pos % f.alignment;
    f.data_offset = rem ? c.pos + (f.alignment - rem) : c.pos;
    if (!place_tensors(&f, data, size, err)) return false;
    *out = std::move(f);
    return true;
}

// ---- lookups and typed getters ---------------------------------------------

const GgufKv* GgufFile::find(const char* key) const {
    for (const GgufKv& k : kv)
        if (k.key == key) return &k;
    return nullptr;
}

const GgufTensorInfo* GgufFile::find_tensor(const char* name) const {
    for (const GgufTensorInfo& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

namespace {

// The value at p of an integer type as a signed 128-bit-free pair: returns
// false for non-integer types. *neg is set for negative values, *mag is |v|.
bool int_value(uint32_t type, const uint8_t* p, bool* neg, uint64_t* mag) {
    int64_t s = 0;
    switch (type) {
    case GGUF_U8: *neg = false; *mag = p[0]; return true;
    case GGUF_U16: *neg = false; *mag = rd16(p); return true;
    case GGUF_U32: *neg = false; *mag = rd32(p); return true;
    case GGUF_U64: *neg = false; *mag = rd64(p); return true;
    case GGUF_I8: s = (int8_t)p[0]; break;
    case GGUF_I16: s = (int16_t)rd16(p); break;
    case GGUF_I32: s = (int32_t)rd32(p); break;
    case GGUF_I64: s = (int64_t)rd64(p); break;
    default: return false;
    }
    *neg = s < 0;
    *mag = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
    return true;
}

// Looks `key` up: *kv is null (and the result true) for an absent optional key.
bool lookup(const GgufFile& f, const char* key, bool optional, const GgufKv** kv, Error* err) {
    *kv = f.find(key);
    if (*kv == nullptr && !optional) return fail(err, "gguf: key '%s' is missing", key);
    return true;
}

bool wrong_type(const GgufKv& kv, const char* want, Error* err) {
    if (kv.value.type == GGUF_ARRAY)
        return fail(err, "gguf: key '%s' at byte %" PRIu64 " is an array of %s, expected %s", Shown(kv.key).s, kv.at,
                    type_name(kv.value.elem_type), want);
    return fail(err, "gguf: key '%s' at byte %" PRIu64 " has type %s, expected %s", Shown(kv.key).s, kv.at,
                type_name(kv.value.type), want);
}

// Integer getters: any integer type whose value lies in [lo_neg_mag..hi].
bool get_int(const GgufFile& f, const char* key, bool optional, uint64_t max_pos, uint64_t max_neg_mag,
             const char* want, bool* neg, uint64_t* mag, bool* found, Error* err) {
    const GgufKv* kv = nullptr;
    *found = false;
    if (!lookup(f, key, optional, &kv, err)) return false;
    if (kv == nullptr) return true;
    if (kv->value.type == GGUF_ARRAY || !int_value(kv->value.type, kv->value.data, neg, mag))
        return wrong_type(*kv, want, err);
    if ((*neg && *mag > max_neg_mag) || (!*neg && *mag > max_pos))
        return fail(err, "gguf: key '%s' at byte %" PRIu64 ": %s%" PRIu64 " does not fit %s", Shown(kv->key).s, kv->at,
                    *neg ? "-" : "", *mag, want);
    *found = true;
    return true;
}

}  // namespace

bool GgufFile::get_u32(const char* key, uint32_t* out, bool optional, Error* err) const {
    bool neg = false, found = false;
    uint64_t mag = 0;
    if (!get_int(*this, key, optional, UINT32_MAX, 0, "u32", &neg, &mag, &found, err)) return false;
    if (found) *out = (uint32_t)mag;
    return true;
}

bool GgufFile::get_u64(const char* key, uint64_t* out, bool optional, Error* err) const {
    bool neg = false, found = false;
    uint64_t mag = 0;
    if (!get_int(*this, key, optional, UINT64_MAX, 0, "u64", &neg, &mag, &found, err)) return false;
    if (found) *out = mag;
    return true;
}

bool GgufFile::get_i32(const char* key, int32_t* out, bool optional, Error* err) const {
    bool neg = false, found = false;
    uint64_t mag = 0;
    if (!get_int(*this, key, optional, INT32_MAX, (uint64_t)INT32_MAX + 1, "i32", &neg, &mag, &found, err))
        return false;
    if (found) *out = neg ? (int32_t)(0 - (int64_t)mag) : (int32_t)mag;
    return true;
}

bool GgufFile::get_f32(const char* key, float* out, bool optional, Error* err) const {
    const GgufKv* kv = nullptr;
    if (!lookup(*this, key, optional, &kv, err)) return false;
    if (kv == nullptr) return true;
    if (kv->value.type == GGUF_F32) {
        const uint32_t bits = rd32(kv->value.data);
        std::memcpy(out, &bits, 4);
        return true;
    }
    if (kv->value.type == GGUF_F64) {
        const uint64_t bits = rd64(kv->value.data);
        double d;
        std::memcpy(&d, &bits, 8);
        if (std::isfinite(d) && std::fabs(d) > 3.4028234663852886e38)
            return fail(err, "gguf: key '%s' at byte %" PRIu64 ": %g does not fit f32", Shown(kv->key).s, kv->at, d);
        *out = (float)d;
        return true;
    }
    return wrong_type(*kv, "f32", err);
}

bool GgufFile::get_bool(const char* key, bool* out, bool optional, Error* err) const {
    const GgufKv* kv = nullptr;
    if (!lookup(*this, key, optional, &kv, err)) return false;
    if (kv == nullptr) return true;
    if (kv->value.type != GGUF_BOOL) return wrong_type(*kv, "bool", err);
    *out = kv->value.data[0] != 0;
    return true;
}

bool GgufFile::get_string(const char* key, std::string* out, bool optional, Error* err) const {
    const GgufKv* kv = nullptr;
    if (!lookup(*this, key, optional, &kv, err)) return false;
    if (kv == nullptr) return true;
    if (kv->value.type != GGUF_STRING) return wrong_type(*kv, "string", err);
    out->assign((const char*)kv->value.data, (size_t)kv->value.count);
    return true;
}

bool GgufFile::get_string_array(const char* key, std::vector<std::string>* out, bool optional, Error* err) const {
    const GgufKv* kv = nullptr;
    if (!lookup(*this, key, optional, &kv, err)) return false;
    if (kv == nullptr) return true;
    if (kv->value.type != GGUF_ARRAY || kv->value.elem_type != GGUF_STRING)
        return wrong_type(*kv, "an array of string", err);
    *out = kv->value.strings;
    return true;
}

bool GgufFile::get_f32_array(const char* key, std::vector<float>* out, bool optional, Error* err) const {
    const GgufKv* kv = nullptr;
    if (!lookup(*this, key, optional, &kv, err)) return false;
    if (kv == nullptr) return true;
    const GgufValue& v = kv->value;
    if (v.type != GGUF_ARRAY || (v.elem_type != GGUF_F32 && v.elem_type != GGUF_F64))
        return wrong_type(*kv, "an array of f32", err);
    std::vector<float> r((size_t)v.count);
    for (uint64_t i = 0; i < v.count; i++) {
        if (v.elem_type == GGUF_F32) {
            const uint32_t bits = rd32(v.data + 4 * i);
            std::memcpy(&r[(size_t)i], &bits, 4);
            continue;
        }
        const uint64_t bits = rd64(v.data + 8 * i);
        double d;
        std::memcpy(&d, &bits, 8);
        if (std::isfinite(d) && std::fabs(d) > 3.4028234663852886e38)
            return fail(err, "gguf: key '%s' at byte %" PRIu64 ": element %" PRIu64 " (%g) does not fit f32",
                        Shown(kv->key).s, kv->at, i, d);
        r[(size_t)i] = (float)d;
    }
    *out = std::move(r);
    return true;
}

bool GgufFile::get_i32_array(const char* key, std::vector<int32_t>* out, bool optional, Error* err) const {
    const GgufKv* kv = nullptr;
    if (!lookup(*this, key, optional, &kv, err)) return false;
    if (kv == nullptr) return true;
    const GgufValue& v = kv->value;
    bool neg = false;
    uint64_t mag = 0;
    // (the element type is tested on a dummy: an empty array's data may be the end of the file)
    static const uint8_t zero[8] = {0};
    if (v.type != GGUF_ARRAY || !int_value(v.elem_type, zero, &neg, &mag))
        return wrong_type(*kv, "an array of i32", err);
    const uint32_t eb = scalar_bytes(v.elem_type);
    std::vector<int32_t> r((size_t)v.count);
    for (uint64_t i = 0; i < v.count; i++) {
        int_value(v.elem_type, v.data + eb * i, &neg, &mag);
        if ((neg && mag > (uint64_t)INT32_MAX + 1) || (!neg && mag > INT32_MAX))
            return fail(err, "gguf: key '%s' at byte %" PRIu64 ": element %" PRIu64 " (%s%" PRIu64 ") does not fit i32",
                        Shown(kv->key).s, kv->at, i, neg ? "-" : "", mag);
        r[(size_t)i] = neg ? (int32_t)(0 - (int64_t)mag) : (int32_t)mag;
    }
    *out = std::move(r);
    return true;
}

}  // namespace agm
