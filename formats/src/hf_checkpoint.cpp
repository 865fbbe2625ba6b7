// Hugging Face checkpoint directories (see agm/hf_checkpoint.h).
#include "agm/hf_checkpoint.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agm/file_io.h"

namespace agm {

namespace {

bool is_regular_file(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// A file the converter reads whole (config.json, the index): 64 MB is far
// more than any real one.
const uint64_t kMaxJsonFile = (uint64_t)64 << 20;

bool read_json_file(const std::string& path, JsonValue* out, Error* err) {
    std::vector<uint8_t> bytes;
    if (!read_whole_file(path, &bytes, err, kMaxJsonFile)) return false;
    if (!parse_json(bytes.data(), bytes.size(), out, err)) return fail_context(err, path.c_str());
    return true;
}

}  // namespace

bool hf_shard_name_ok(const std::string& name) {
    return !name.empty() && name.find('/') == std::string::npos &&
           name.find('\\') == std::string::npos && name.find("..") == std::string::npos &&
           name.find('\0') == std::string::npos;
}

bool parse_hf_index(const uint8_t* data, size_t size, HfIndex* out, Error* err) {
    *out = HfIndex();
    JsonValue doc;
    if (!parse_json(data, size, &doc, err)) return fail_context(err, "index");
    if (!doc.expect(JsonType::Object, "index", err)) return false;
    HfIndex idx;
    if (const JsonValue* meta = doc.find("metadata")) {
        if (!meta->expect(JsonType::Object, "index: metadata", err)) return false;
        if (const JsonValue* total = meta->find("total_size")) {
            if (!total->to_uint64("index: metadata: total_size", &idx.total_size, err)) return false;
            idx.has_total_size = true;
        }
    }
    const JsonValue* map = doc.find("weight_map");
    if (map == nullptr) return fail(err, "index: weight_map: missing");
    if (!map->expect(JsonType::Object, "index: weight_map", err)) return false;
    if (map->size() == 0) return fail(err, "index: weight_map is empty");
    std::vector<std::string> seen;  // sorted shard names
    for (size_t i = 0; i < map->size(); ++i) {
        const std::string& tensor = map->key(i);
        const JsonValue& v = map->at(i);
        if (!v.is_string())
            return fail(err, "index: weight_map: \"%s\": expected a string, got %s",
                        json_printable(tensor).c_str(), json_type_name(v.type()));
        const std::string& shard = v.text();
        if (!hf_shard_name_ok(shard))
            return fail(err, "index: weight_map: \"%s\": shard name \"%s\" is not a plain file name",
                        json_printable(tensor).c_str(), json_printable(shard).c_str());
        idx.weight_map.emplace_back(tensor, shard);
        auto it = std::lower_bound(seen.begin(), seen.end(), shard);
        if (it == seen.end() || *it != shard) {
            seen.insert(it, shard);
            idx.shards.push_back(shard);
        }
    }
    *out = std::move(idx);
    return true;
}

HfShard::~HfShard() {
    if (map_ != nullptr) ::munmap(map_, map_size_);
}

bool HfShard::map(Error* err) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail_as(err, ErrorKind::Io, "cannot open %s: %s", path.c_str(), std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail_as(err, ErrorKind::Io, "%s: not a regular file", path.c_str());
    }
    const uint64_t file_size = (uint64_t)st.st_size;
    if (file_size > (uint64_t)SIZE_MAX / 2) {
        ::close(fd);
        return fail_as(err, ErrorKind::NoMemory, "%s: %llu bytes cannot be mapped here",
                       path.c_str(), (unsigned long long)file_size);
    }
    size = file_size;
    if (file_size == 0) {  // mmap refuses length 0; the parser reports the short file
        ::close(fd);
        static const uint8_t kEmpty[1] = {0};
        bytes = kEmpty;
        return true;
    }
    void* m = ::mmap(nullptr, (size_t)file_size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int map_errno = errno;
    ::close(fd);
    if (m == MAP_FAILED)
        return fail_as(err, ErrorKind::Io, "cannot map %s: %s", path.c_str(), std::strerror(map_errno));
    map_ = m;
    map_size_ = (size_t)file_size;
    bytes = static_cast<const uint8_t*>(m);
    return true;
}

std::string HfCheckpoint::tokenizer_json_path() const { return dir + "/tokenizer.json"; }

const SafetensorsTensor* HfCheckpoint::find(const std::string& name) const {
    auto it = std::lower_bound(tensors.begin(), tensors.end(), name,
                               [](const HfTensorRef& r, const std::string& k) { return r.tensor->name < k; });
    if (it == tensors.end() || it->tensor->name != name) return nullptr;
    return it->tensor;
}

const HfShard* HfCheckpoint::shard_of(const SafetensorsTensor* t) const {
    if (t == nullptr) return nullptr;
    auto it = std::lower_bound(tensors.begin(), tensors.end(), t->name,
                               [](const HfTensorRef& r, const std::string& k) { return r.tensor->name < k; });
    if (it == tensors.end() || it->tensor != t) return nullptr;
    return shards[it->shard].get();
}

namespace {

bool load_shard(const std::string& dir, const std::string& file_name, HfShard* s, Error* err) {
    s->file_name = file_name;
    s->path = dir + "/" + file_name;
    if (!s->map(err)) return false;
    if (!parse_safetensors(s->bytes, s->size, &s->st, err)) return fail_context(err, s->path.c_str());
    return true;
}

// Every tensor of every shard, ordered by name; a name in two shards is refused.
bool build_tensor_list(HfCheckpoint* c, Error* err) {
    for (uint32_t s = 0; s < (uint32_t)c->shards.size(); ++s)
        for (const SafetensorsTensor& t : c->shards[s]->st.tensors) c->tensors.push_back({&t, s});
    std::sort(c->tensors.begin(), c->tensors.end(), [](const HfTensorRef& a, const HfTensorRef& b) {
        const int k = a.tensor->name.compare(b.tensor->name);
        return k != 0 ? k < 0 : a.shard < b.shard;
    });
    for (size_t i = 1; i < c->tensors.size(); ++i)
        if (c->tensors[i].tensor->name == c->tensors[i - 1].tensor->name)
            return fail(err, "%s: tensor \"%s\" is in two shards, %s and %s", c->dir.c_str(),
                        json_printable(c->tensors[i].tensor->name).c_str(),
                        c->shards[c->tensors[i - 1].shard]->file_name.c_str(),
                        c->shards[c->tensors[i].shard]->file_name.c_str());
    return true;
}

// Each shard holds exactly the tensors the weight_map puts in it.
bool check_against_index(const HfCheckpoint& c, const std::string& index_path, Error* err) {
    std::vector<std::pair<std::string, std::string>> map = c.index.weight_map;
    std::sort(map.begin(), map.end());  // tensor names are unique (JSON keys)
    for (const HfTensorRef& r : c.tensors) {
        const std::string& shard = c.shards[r.shard]->file_name;
        auto it = std::lower_bound(map.begin(), map.end(), r.tensor->name,
                                   [](const std::pair<std::string, std::string>& e,
                                      const std::string& k) { return e.first < k; });
        if (it == map.end() || it->first != r.tensor->name)
            return fail(err, "%s: %s holds tensor \"%s\", which the weight_map does not list",
                        index_path.c_str(), shard.c_str(), json_printable(r.tensor->name).c_str());
        if (it->second != shard)
            return fail(err, "%s: tensor \"%s\" is in %s, but the weight_map puts it in %s",
                        index_path.c_str(), json_printable(r.tensor->name).c_str(), shard.c_str(),
                        it->second.c_str());
    }
    for (const auto& e : c.index.weight_map)
        if (c.find(e.first) == nullptr)
            return fail(err, "%s: the weight_map puts tensor \"%s\" in %s, which does not hold it",
                        index_path.c_str(), json_printable(e.first).c_str(), e.second.c_str());
    return true;
}

}  // namespace

bool load_hf_checkpoint(const std::string& dir, HfCheckpoint* out, Error* err) {
    *out = HfCheckpoint();
    HfCheckpoint c;
    c.dir = dir;
    const std::string config_path = dir + "/config.json";
    if (!read_json_file(config_path, &c.config, err)) return false;
    if (!c.config.expect(JsonType::Object, config_path.c_str(), err)) return false;

    const std::string single = dir + "/model.safetensors";
    const std::string index_path = dir + "/model.safetensors.index.json";
    if (is_regular_file(single)) {
        c.shards.emplace_back(new HfShard);
        if (!load_shard(dir, "model.safetensors", c.shards.back().get(), err)) return false;
        if (!build_tensor_list(&c, err)) return false;
    } else if (is_regular_file(index_path)) {
        c.sharded = true;
        std::vector<uint8_t> bytes;
        if (!read_whole_file(index_path, &bytes, err, kMaxJsonFile)) return false;
        if (!parse_hf_index(bytes.data(), bytes.size(), &c.index, err))
            return fail_context(err, index_path.c_str());
        for (const std::string& name : c.index.shards) {
            c.shards.emplace_back(new HfShard);
            if (!load_shard(dir, name, c.shards.back().get(), err)) return false;
        }
        if (!build_tensor_list(&c, err)) return false;
        if (!check_against_index(c, index_path, err)) return false;
    } else {
        return fail_as(err, ErrorKind::Io,
                       "%s: neither model.safetensors nor model.safetensors.index.json is there",
                       dir.c_str());
    }
    *out = std::move(c);
    return true;
}

}  // namespace agm
