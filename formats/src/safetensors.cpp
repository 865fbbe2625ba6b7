// safetensors reader (see agm/safetensors.h for what is accepted).
#include "agm/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "agm/json.h"

namespace agm {

namespace {

const uint64_t kMaxHeaderSize = 100000000;  // the reference implementation's limit

struct DtypeRow {
    StDtype type;
    const char* name;
    uint32_t size;
};

// One row per type the format names; adding a type is adding a row.
const DtypeRow kDtypes[] = {
    {StDtype::BOOL, "BOOL", 1},       {StDtype::U8, "U8", 1},   {StDtype::I8, "I8", 1},
    {StDtype::F8_E5M2, "F8_E5M2", 1}, {StDtype::F8_E4M3, "F8_E4M3", 1},
    {StDtype::I16, "I16", 2},         {StDtype::U16, "U16", 2}, {StDtype::F16, "F16", 2},
    {StDtype::BF16, "BF16", 2},       {StDtype::I32, "I32", 4}, {StDtype::U32, "U32", 4},
    {StDtype::F32, "F32", 4},         {StDtype::F64, "F64", 8}, {StDtype::I64, "I64", 8},
    {StDtype::U64, "U64", 8},
};

const DtypeRow* dtype_row(StDtype t) {
    for (const DtypeRow& r : kDtypes)
        if (r.type == t) return &r;
    return nullptr;
}

uint64_t read_le64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

uint16_t read_le16(const uint8_t* p) { return (uint16_t)(p[0] | (p[1] << 8)); }

uint32_t read_le32(const uint8_t* p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

float float_from_bits(uint32_t b) {
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
}

// "tensor \"name\"" for messages.
std::string tensor_label(const std::string& name) {
    return "tensor \"" + json_printable(name) + "\"";
}

// One header entry into *t (name already set); `label` is "safetensors:
// tensor \"x\"". Checks everything that concerns this tensor alone.
bool parse_entry(const JsonValue& e, const std::string& label, uint64_t buffer_size,
                 SafetensorsTensor* t, Error* err) {
    const char* where = label.c_str();
    if (!e.expect(JsonType::Object, where, err)) return false;
    for (size_t i = 0; i < e.size(); ++i) {
        const std::string& k = e.key(i);
        if (k != "dtype" && k != "shape" && k != "data_offsets")
            return fail(err, "%s: unknown key \"%s\"", where, json_printable(k).c_str());
    }
    std::string dtype;
    if (!e.get_string(where, "dtype", &dtype, false, err)) return false;
    if (!st_dtype_from_name(dtype, &t->dtype))
        return fail_as(err, ErrorKind::Unsupported, "%s: unknown dtype \"%s\"", where,
                       json_printable(dtype).c_str());

    const JsonValue* shape = e.find("shape");
    if (shape == nullptr) return fail(err, "%s: shape: missing", where);
    const std::string shape_where = label + ": shape";
    if (!shape->expect(JsonType::Array, shape_where.c_str(), err)) return false;
    t->shape.resize(shape->size());
    uint64_t count = 1;
    bool overflow = false;
    for (size_t i = 0; i < shape->size(); ++i) {
        const JsonValue& dim = shape->at(i);
        if (dim.fits_uint64()) {
            t->shape[i] = dim.uint64();
        } else {  // the message (built only now: a shape may have many dimensions)
            const std::string dim_where = shape_where + "[" + std::to_string(i) + "]";
            return dim.to_uint64(dim_where.c_str(), &t->shape[i], err);
        }
        // Overflow is only an error if no later dimension is 0; keep going.
        const uint64_t d = t->shape[i];
        if (d != 0 && count > UINT64_MAX / d) overflow = true;
        else count *= d;
    }
    const bool empty = std::find(t->shape.begin(), t->shape.end(), (uint64_t)0) != t->shape.end();
    if (empty) count = 0;
    const uint32_t esize = st_dtype_size(t->dtype);
    if ((!empty && overflow) || count > UINT64_MAX / esize)
        return fail(err, "%s: shape %s holds more than 2^64 bytes of %s", where,
                    st_shape_string(t->shape).c_str(), dtype.c_str());
    t->n_elements = count;
    const uint64_t nbytes = count * esize;

    const JsonValue* offs = e.find("data_offsets");
    if (offs == nullptr) return fail(err, "%s: data_offsets: missing", where);
    const std::string offs_where = label + ": data_offsets";
    if (!offs->expect(JsonType::Array, offs_where.c_str(), err)) return false;
    if (offs->size() != 2)
        return fail(err, "%s: expected [begin, end], got %zu numbers", offs_where.c_str(),
                    offs->size());
    const std::string begin_where = offs_where + "[0]", end_where = offs_where + "[1]";
    if (!offs->at(0).to_uint64(begin_where.c_str(), &t->begin, err)) return false;
    if (!offs->at(1).to_uint64(end_where.c_str(), &t->end, err)) return false;
    if (t->end < t->begin)
        return fail(err, "%s: data_offsets [%llu, %llu] end before begin", where,
                    (unsigned long long)t->begin, (unsigned long long)t->end);
    t->nbytes = t->end - t->begin;
    if (t->nbytes != nbytes)
        return fail(err, "%s: data_offsets [%llu, %llu] span %llu bytes, shape %s of %s needs %llu",
                    where, (unsigned long long)t->begin, (unsigned long long)t->end,
                    (unsigned long long)t->nbytes, st_shape_string(t->shape).c_str(),
                    dtype.c_str(), (unsigned long long)nbytes);
    if (t->end > buffer_size)
        return fail(err, "%s: data_offsets [%llu, %llu] beyond the %llu-byte data buffer", where,
                    (unsigned long long)t->begin, (unsigned long long)t->end,
                    (unsigned long long)buffer_size);
    return true;
}

bool parse_metadata(const JsonValue& m, SafetensorsFile* out, Error* err) {
    if (!m.expect(JsonType::Object, "safetensors: __metadata__", err)) return false;
    for (size_t i = 0; i < m.size(); ++i) {
        const std::string where = "safetensors: __metadata__: \"" + json_printable(m.key(i)) + "\"";
        if (!m.at(i).expect(JsonType::String, where.c_str(), err)) return false;
        out->metadata.emplace_back(m.key(i), m.at(i).text());
    }
    return true;
}

// The tensors must tile [0, buffer_size) exactly: sorted by offsets, each
// starts where the previous ended (an empty tensor may sit at any boundary).
bool check_tiling(const SafetensorsFile& f, Error* err) {
    std::vector<uint32_t> order(f.tensors.size());
    for (uint32_t i = 0; i < (uint32_t)order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&f](uint32_t a, uint32_t b) {
        const SafetensorsTensor &x = f.tensors[a], &y = f.tensors[b];
        if (x.begin != y.begin) return x.begin < y.begin;
        if (x.end != y.end) return x.end < y.end;
        return a < b;
    });
    uint64_t cursor = 0;
    const SafetensorsTensor* prev = nullptr;
    for (uint32_t i : order) {
        const SafetensorsTensor& t = f.tensors[i];
        if (t.begin > cursor)
            return fail(err, "safetensors: bytes [%llu, %llu) of the data buffer belong to no tensor",
                        (unsigned long long)cursor, (unsigned long long)t.begin);
        if (t.begin < cursor)
            return fail(err, "safetensors: %s [%llu, %llu) overlaps %s [%llu, %llu)",
                        tensor_label(t.name).c_str(), (unsigned long long)t.begin,
                        (unsigned long long)t.end, tensor_label(prev->name).c_str(),
                        (unsigned long long)prev->begin, (unsigned long long)prev->end);
        cursor = t.end;
        prev = &t;
    }
    if (cursor != f.data_size)
        return fail(err, "safetensors: bytes [%llu, %llu) of the data buffer belong to no tensor",
                    (unsigned long long)cursor, (unsigned long long)f.data_size);
    return true;
}

}  // namespace

const char* st_dtype_name(StDtype t) {
    const DtypeRow* r = dtype_row(t);
    return r ? r->name : nullptr;
}

uint32_t st_dtype_size(StDtype t) {
    const DtypeRow* r = dtype_row(t);
    return r ? r->size : 1;
}

bool st_dtype_from_name(const std::string& name, StDtype* out) {
    for (const DtypeRow& r : kDtypes)
        if (name == r.name) {
            *out = r.type;
            return true;
        }
    return false;
}

std::string st_shape_string(const std::vector<uint64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

const SafetensorsTensor* SafetensorsFile::find(const std::string& name) const {
    auto it = std::lower_bound(by_name.begin(), by_name.end(), name,
                               [this](uint32_t i, const std::string& k) { return tensors[i].name < k; });
    if (it == by_name.end() || tensors[*it].name != name) return nullptr;
    return &tensors[*it];
}

const std::string* SafetensorsFile::find_metadata(const std::string& key) const {
    for (const auto& kv : metadata)
        if (kv.first == key) return &kv.second;
    return nullptr;
}

bool parse_safetensors(const uint8_t* data, uint64_t size, SafetensorsFile* out, Error* err) {
    *out = SafetensorsFile();
    if (data == nullptr || size < 8)
        return fail(err, "safetensors: file is %llu bytes, too short for the 8-byte header size",
                    (unsigned long long)(data ? size : 0));
    const uint64_t n = read_le64(data);
    if (n > kMaxHeaderSize)
        return fail(err, "safetensors: header size %llu is over the %llu-byte limit",
                    (unsigned long long)n, (unsigned long long)kMaxHeaderSize);
    if (n > size - 8)
        return fail(err, "safetensors: header size %llu is beyond the end of the file (%llu bytes follow the size)",
                    (unsigned long long)n, (unsigned long long)(size - 8));
    if (n == 0 || data[8] != '{')
        return fail(err, "safetensors: header does not start with '{'");

    JsonOptions opt;
    opt.max_depth = 16;                // a valid header nests 3 deep
    opt.max_values = (uint64_t)1 << 22;  // a tensor is at least 6 values
    JsonValue header;
    if (!parse_json(data + 8, (size_t)n, &header, err, opt))
        return fail_context(err, "safetensors: header");
    if (!header.expect(JsonType::Object, "safetensors: header", err)) return false;

    SafetensorsFile f;
    f.header_size = n;
    f.data_start = 8 + n;
    f.data_size = size - f.data_start;
    f.tensors.reserve(header.size());
    for (size_t i = 0; i < header.size(); ++i) {
        const std::string& name = header.key(i);
        if (name == "__metadata__") {
            if (!parse_metadata(header.at(i), &f, err)) return false;
            continue;
        }
        f.tensors.emplace_back();
        SafetensorsTensor& t = f.tensors.back();
        t.name = name;
        if (!parse_entry(header.at(i), "safetensors: " + tensor_label(name), f.data_size, &t, err))
            return false;
        t.data = data + f.data_start + t.begin;
    }
    if (!check_tiling(f, err)) return false;
    // Names are unique (the JSON reader refuses duplicate keys).
    f.by_name.resize(f.tensors.size());
    for (uint32_t i = 0; i < (uint32_t)f.by_name.size(); ++i) f.by_name[i] = i;
    std::sort(f.by_name.begin(), f.by_name.end(),
              [&f](uint32_t a, uint32_t b) { return f.tensors[a].name < f.tensors[b].name; });
    *out = std::move(f);
    return true;
}

// ---------------------------------------------------------------------------
// Element access

float st_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) return float_from_bits(sign | 0x7f800000u | (mant << 13));  // inf, NaN
    if (exp != 0) return float_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
    if (mant == 0) return float_from_bits(sign);  // +-0
    // Subnormal: mant * 2^-24. Shift the leading 1 up to bit 10; each shift
    // lowers the exponent from that of the smallest normal, 2^-14 (113 biased).
    uint32_t e = 113;
    while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --e;
    }
    return float_from_bits(sign | (e << 23) | ((mant & 0x3ffu) << 13));
}

float st_bf16_to_f32(uint16_t bits) { return float_from_bits((uint32_t)bits << 16); }

int64_t first_non_finite(const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (!std::isfinite(x[i])) return (int64_t)i;
    return -1;
}

bool tensor_to_f32(const SafetensorsTensor& t, std::vector<float>* out, Error* err,
                   bool allow_non_finite) {
    const std::string label = tensor_label(t.name);
    const uint32_t esize = st_dtype_size(t.dtype);
    if (t.dtype != StDtype::F32 && t.dtype != StDtype::F16 && t.dtype != StDtype::BF16)
        return fail_as(err, ErrorKind::Unsupported, "%s: dtype %s cannot be read as floats",
                       label.c_str(), st_dtype_name(t.dtype));
    if (t.nbytes != t.n_elements * esize || (t.nbytes != 0 && t.data == nullptr))
        return fail_as(err, ErrorKind::Argument, "%s: not a tensor from parse_safetensors",
                       label.c_str());
    if (t.n_elements > out->max_size())
        return fail_as(err, ErrorKind::NoMemory, "%s: %llu elements do not fit in memory",
                       label.c_str(), (unsigned long long)t.n_elements);
    out->resize((size_t)t.n_elements);
    float* dst = out->data();
    const uint8_t* src = t.data;
    const size_t n = (size_t)t.n_elements;
    switch (t.dtype) {
    case StDtype::F32:
        for (size_t i = 0; i < n; ++i) dst[i] = float_from_bits(read_le32(src + 4 * i));
        break;
    case StDtype::F16:
        for (size_t i = 0; i < n; ++i) dst[i] = st_f16_to_f32(read_le16(src + 2 * i));
        break;
    default:  // BF16
        for (size_t i = 0; i < n; ++i) dst[i] = st_bf16_to_f32(read_le16(src + 2 * i));
        break;
    }
    if (!allow_non_finite) {
        const int64_t bad = first_non_finite(dst, n);
        if (bad >= 0) {
            const float v = dst[bad];
            return fail(err, "%s: element %lld is %s", label.c_str(), (long long)bad,
                        std::isnan(v) ? "NaN" : (v > 0 ? "+inf" : "-inf"));
        }
    }
    return true;
}

bool tensor_raw(const SafetensorsTensor& t, StDtype want, const uint8_t** data, uint64_t* nbytes,
                Error* err) {
    if (t.dtype != want)
        return fail(err, "%s: expected dtype %s, got %s", tensor_label(t.name).c_str(),
                    st_dtype_name(want) ? st_dtype_name(want) : "?",
                    st_dtype_name(t.dtype) ? st_dtype_name(t.dtype) : "?");
    *data = t.data;
    *nbytes = t.nbytes;
    return true;
}

}  // namespace agm
