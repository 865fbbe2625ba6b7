// SentencePiece ModelProto (tokenizer.model) reader: a minimal protobuf
// wire-format parser of our own. Reads only what the encoder needs:
//   ModelProto      1: repeated SentencePiece, 2: TrainerSpec, 3: NormalizerSpec
//   SentencePiece   1: piece (bytes), 2: score (float), 3: type (enum, default NORMAL)
//   TrainerSpec     3: model_type (default UNIGRAM=1), 24: treat_whitespace_as_suffix,
//                   35: byte_fallback, 40..43: unk/bos/eos/pad id (defaults 0, 1, 2, -1)
//   NormalizerSpec  1: name, 2: precompiled_charsmap, 3: add_dummy_prefix,
//                   4: remove_extra_whitespaces, 5: escape_whitespaces (all default true)
// Every other field is skipped by its wire type; every length is checked
// against the enclosing message, so a corrupt file fails cleanly.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "agm/vocab.h"

namespace agm {
namespace {

enum WireType { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_SGROUP = 3, WIRE_EGROUP = 4, WIRE_I32 = 5 };

// A bounded cursor over one message's bytes.
struct Reader {
    const uint8_t* p;
    const uint8_t* end;
    const char* where;  // message name, for errors
    const uint8_t* base;  // start of the file, for offsets in errors

    size_t off() const { return (size_t)(p - base); }

    bool varint(uint64_t* v, Error* err) {
        uint64_t r = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (p == end) return fail(err, "tokenizer.model: truncated varint in %s at offset %zu", where, off());
            const uint8_t b = *p++;
            if (shift == 63 && b > 1)
                return fail(err, "tokenizer.model: varint overflow in %s at offset %zu", where, off());
            r |= (uint64_t)(b & 0x7F) << shift;
            if (b < 0x80) {
                *v = r;
                return true;
            }
        }
        return fail(err, "tokenizer.model: varint too long in %s at offset %zu", where, off());
    }

    bool bytes(size_t n, const uint8_t** out, Error* err) {
        if ((size_t)(end - p) < n)
            return fail(err, "tokenizer.model: %zu-byte field in %s at offset %zu runs past its end", n, where,
                        off());
        *out = p;
        p += n;
        return true;
    }

    bool key(uint32_t* field, uint32_t* wire, Error* err) {
        uint64_t k = 0;
        if (!varint(&k, err)) return false;
        if ((k >> 3) == 0 || (k >> 3) > 0x1FFFFFFF)
            return fail(err, "tokenizer.model: bad field number in %s at offset %zu", where, off());
        *field = (uint32_t)(k >> 3);
        *wire = (uint32_t)(k & 7);
        return true;
    }

    bool len_field(Reader* sub, Error* err) {
        uint64_t n = 0;
        if (!varint(&n, err)) return false;
        if (n > (uint64_t)(end - p))
            return fail(err, "tokenizer.model: %llu-byte field in %s at offset %zu runs past its end",
                        (unsigned long long)n, where, off());
        *sub = Reader{p, p + n, where, base};
        p += n;
        return true;
    }

    // Skips one field's value. Groups (deprecated, wire types 3/4) nest; they
    // are skipped by counting start/end markers, without recursion.
    bool skip(uint32_t field, uint32_t wire, Error* err) {
        const uint8_t* dummy = nullptr;
        uint64_t v = 0;
        Reader sub{};
        switch (wire) {
        case WIRE_VARINT: return varint(&v, err);
        case WIRE_I64: return bytes(8, &dummy, err);
        case WIRE_I32: return bytes(4, &dummy, err);
        case WIRE_LEN: return len_field(&sub, err);
        case WIRE_SGROUP: {
            size_t depth = 1;
            while (depth > 0) {
                uint32_t f = 0, w = 0;
                if (!key(&f, &w, err)) return false;
                if (w == WIRE_SGROUP) {
                    depth++;
                } else if (w == WIRE_EGROUP) {
                    // Only the outermost end is matched to its start.
                    if (depth == 1 && f != field)
                        return fail(err, "tokenizer.model: mismatched group end in %s at offset %zu", where, off());
                    depth--;
                } else if (!skip(f, w, err)) {  // w is not a group here: no deep recursion
                    return false;
                }
            }
            return true;
        }
        default:
            return fail(err, "tokenizer.model: wire type %u in %s at offset %zu", wire, where, off());
        }
    }
};

bool expect_wire(uint32_t got, uint32_t want, uint32_t field, const Reader& r, Error* err) {
    if (got != want)
        return fail(err, "tokenizer.model: field %u of %s has wire type %u, expected %u (offset %zu)", field,
                    r.where, got, want, r.off());
    return true;
}

struct Spec {
    uint64_t model_type = 1;  // UNIGRAM
    bool byte_fallback = false, ws_suffix = false;
    int64_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
    bool dummy_prefix = true, remove_ws = true, escape_ws = true;
    std::string name, charsmap;
};

bool read_piece(Reader r, Vocab* v, Error* err) {
    std::string piece;
    float score = 0.0f;
    uint64_t type = AGM_TOKEN_NORMAL;
    while (r.p < r.end) {
        uint32_t f = 0, w = 0;
        if (!r.key(&f, &w, err)) return false;
        if (f == 1) {
            Reader s{};
            if (!expect_wire(w, WIRE_LEN, f, r, err) || !r.len_field(&s, err)) return false;
            piece.assign((const char*)s.p, (size_t)(s.end - s.p));
        } else if (f == 2) {
            const uint8_t* b = nullptr;
            if (!expect_wire(w, WIRE_I32, f, r, err) || !r.bytes(4, &b, err)) return false;
            const uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            std::memcpy(&score, &bits, 4);
        } else if (f == 3) {
            if (!expect_wire(w, WIRE_VARINT, f, r, err) || !r.varint(&type, err)) return false;
        } else if (!r.skip(f, w, err)) {
            return false;
        }
    }
    const size_t id = v->pieces.size();
    if (type < AGM_TOKEN_NORMAL || type > AGM_TOKEN_BYTE)
        return fail(err, "tokenizer.model: piece %zu has type %llu", id, (unsigned long long)type);
    if (piece.empty()) return fail(err, "tokenizer.model: piece %zu is empty", id);
    if (!std::isfinite(score))
        return fail(err, "tokenizer.model: piece %zu has a non-finite score", id);
    v->pieces.push_back(std::move(piece));
    v->scores.push_back(score);
    v->types.push_back((uint8_t)type);
    return true;
}

bool read_int(Reader* r, uint32_t f, uint32_t w, int64_t* out, Error* err) {
    uint64_t v = 0;
    if (!expect_wire(w, WIRE_VARINT, f, *r, err) || !r->varint(&v, err)) return false;
    *out = (int64_t)(int32_t)(uint32_t)v;  // protobuf int32: negative values are sign-extended varints
    return true;
}

bool read_bool(Reader* r, uint32_t f, uint32_t w, bool* out, Error* err) {
    uint64_t v = 0;
    if (!expect_wire(w, WIRE_VARINT, f, *r, err) || !r->varint(&v, err)) return false;
    *out = v != 0;
    return true;
}

bool read_trainer(Reader r, Spec* s, Error* err) {
    while (r.p < r.end) {
        uint32_t f = 0, w = 0;
        if (!r.key(&f, &w, err)) return false;
        bool ok = true;
        switch (f) {
        case 3: ok = expect_wire(w, WIRE_VARINT, f, r, err) && r.varint(&s->model_type, err); break;
        case 24: ok = read_bool(&r, f, w, &s->ws_suffix, err); break;
        case 35: ok = read_bool(&r, f, w, &s->byte_fallback, err); break;
        case 40: ok = read_int(&r, f, w, &s->unk_id, err); break;
        case 41: ok = read_int(&r, f, w, &s->bos_id, err); break;
        case 42: ok = read_int(&r, f, w, &s->eos_id, err); break;
        case 43: ok = read_int(&r, f, w, &s->pad_id, err); break;
        default: ok = r.skip(f, w, err);
        }
        if (!ok) return false;
    }
    return true;
}

bool read_normalizer(Reader r, Spec* s, Error* err) {
    while (r.p < r.end) {
        uint32_t f = 0, w = 0;
        if (!r.key(&f, &w, err)) return false;
        bool ok = true;
        Reader sub{};
        switch (f) {
        case 1:
        case 2:
            ok = expect_wire(w, WIRE_LEN, f, r, err) && r.len_field(&sub, err);
            if (ok) (f == 1 ? s->name : s->charsmap).assign((const char*)sub.p, (size_t)(sub.end - sub.p));
            break;
        case 3: ok = read_bool(&r, f, w, &s->dummy_prefix, err); break;
        case 4: ok = read_bool(&r, f, w, &s->remove_ws, err); break;
        case 5: ok = read_bool(&r, f, w, &s->escape_ws, err); break;
        default: ok = r.skip(f, w, err);
        }
        if (!ok) return false;
    }
    return true;
}

bool check_id(int64_t id, size_t n, const char* what, Error* err) {
    if (id < -1 || (id >= 0 && (uint64_t)id >= n))
        return fail(err, "tokenizer.model: %s id %lld out of range (%zu pieces)", what, (long long)id, n);
    return true;
}

}  // namespace

bool read_spm_model(const uint8_t* data, size_t size, Vocab* out, Error* err) {
    if (data == nullptr && size != 0) return fail(err, "tokenizer.model: no data");
    Reader r{data, data + size, "ModelProto", data};
    Vocab v;
    Spec s;
    while (r.p < r.end) {
        uint32_t f = 0, w = 0;
        if (!r.key(&f, &w, err)) return false;
        if (f >= 1 && f <= 3) {
            Reader sub{};
            if (!expect_wire(w, WIRE_LEN, f, r, err) || !r.len_field(&sub, err)) return false;
            if (f == 1) {
                sub.where = "SentencePiece";
                if (!read_piece(sub, &v, err)) return false;
            } else if (f == 2) {
                sub.where = "TrainerSpec";
                if (!read_trainer(sub, &s, err)) return false;
            } else {
                sub.where = "NormalizerSpec";
                if (!read_normalizer(sub, &s, err)) return false;
            }
        } else if (!r.skip(f, w, err)) {
            return false;
        }
    }
    const size_t n = v.pieces.size();
    if (n == 0) return fail(err, "tokenizer.model: no pieces");
    if (s.model_type != 2) {
        const char* names[] = {"?", "UNIGRAM", "BPE", "WORD", "CHAR"};
        return fail_as(err, ErrorKind::Unsupported, "tokenizer.model is a %s model (type %llu); only BPE is supported",
                       s.model_type <= 4 ? names[s.model_type] : "?", (unsigned long long)s.model_type);
    }
    if (!s.charsmap.empty() || (!s.name.empty() && s.name != "identity")) {
        char name[41];
        size_t k = 0;
        for (size_t i = 0; i < s.name.size() && k < 40; i++)
            name[k++] = (s.name[i] >= 0x20 && s.name[i] < 0x7F) ? s.name[i] : '?';
        name[k] = 0;
        return fail_as(err, ErrorKind::Unsupported,
                       "tokenizer.model uses normalization rule '%s'; only 'identity' is supported",
                       k ? name : "(custom charsmap)");
    }
    if (!s.escape_ws)
        return fail_as(err, ErrorKind::Unsupported, "tokenizer.model has escape_whitespaces=false; not supported");
    if (s.ws_suffix)
        return fail_as(err, ErrorKind::Unsupported,
                       "tokenizer.model has treat_whitespace_as_suffix=true; not supported");
    if (n > (size_t)INT32_MAX) return fail(err, "tokenizer.model: too many pieces");

    // SentencePiece refuses duplicate pieces and wants exactly one unknown piece.
    std::vector<uint32_t> order(n);
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    std::sort(order.begin(), order.end(), [&v](uint32_t a, uint32_t b) { return v.pieces[a] < v.pieces[b]; });
    for (size_t i = 1; i < n; i++)
        if (v.pieces[order[i]] == v.pieces[order[i - 1]])
            return fail(err, "tokenizer.model: pieces %u and %u are the same string", order[i - 1], order[i]);
    int64_t unk = -1;
    for (size_t i = 0; i < n; i++) {
        if (v.types[i] != AGM_TOKEN_UNKNOWN) continue;
        if (unk >= 0) return fail(err, "tokenizer.model: two unknown pieces (%lld and %zu)", (long long)unk, i);
        unk = (int64_t)i;
    }
    if (unk < 0) return fail(err, "tokenizer.model: no unknown piece");
    if (!check_id(s.bos_id, n, "BOS", err) || !check_id(s.eos_id, n, "EOS", err) ||
        !check_id(s.pad_id, n, "pad", err))
        return false;

    v.unk_id = (int32_t)unk;
    v.bos_id = (int32_t)s.bos_id;
    v.eos_id = (int32_t)s.eos_id;
    v.pad_id = (int32_t)s.pad_id;
    v.flags = AGM_TOK_ESCAPE_WS;
    if (s.dummy_prefix) v.flags |= AGM_TOK_ADD_DUMMY_PREFIX;
    if (s.remove_ws) v.flags |= AGM_TOK_REMOVE_EXTRA_WS;
    if (s.byte_fallback) v.flags |= AGM_TOK_BYTE_FALLBACK;
    *out = std::move(v);
    return true;
}

}  // namespace agm
