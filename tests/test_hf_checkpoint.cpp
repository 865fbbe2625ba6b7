// Hugging Face checkpoint directories (agm/hf_checkpoint.h): one file or an
// index with shards, and every way the index and the shards can disagree.
#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

#include "agm/hf_checkpoint.h"
#include "doctest.h"
#include "safetensors_writer.h"

using agm_test::HfDirSpec;
using agm_test::StTensor;
using agm_test::shard_file_name;
using agm_test::st_floats;
using agm_test::st_raw;
using agm_test::write_file;

namespace {

bool one_line(const char* m) { return m[0] != '\0' && std::strchr(m, '\n') == nullptr; }

// Four tensors of a tiny BitNet-like model (names as Hugging Face writes them).
std::vector<StTensor> tiny_tensors() {
    return {st_floats("model.embed_tokens.weight", "BF16", {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}),
            st_raw("model.layers.0.self_attn.q_proj.weight", "U8", {1, 2}, {0x5A, 0xA5}),
            st_floats("model.layers.0.self_attn.q_proj.weight_scale", "BF16", {1}, {0.5f}),
            st_floats("model.norm.weight", "F32", {2}, {1.0f, -1.0f})};
}

const char* kConfig = "{\"architectures\":[\"BitNetForCausalLM\"],\"hidden_size\":2,\"vocab_size\":4}";

HfDirSpec tiny_spec(uint32_t n_shards) {
    HfDirSpec s;
    s.config_json = kConfig;
    s.tensors = tiny_tensors();
    s.n_shards = n_shards;
    return s;
}

// Writes the spec into a fresh subdirectory of tmp and loads it.
struct Loaded {
    std::string dir;
    agm::HfCheckpoint ck;
    agm::Error err;
    bool ok = false;
    Loaded(const agm_test::TempDir& tmp, const std::string& name, const HfDirSpec& spec) {
        dir = tmp.path + "/" + name;
        std::string why;
        REQUIRE_MESSAGE(agm_test::write_hf_dir(dir, spec, &why), why);
        ok = agm::load_hf_checkpoint(dir, &ck, &err);
    }
};

void refused(const agm_test::TempDir& tmp, const std::string& name, const HfDirSpec& spec,
             const std::string& part) {
    Loaded l(tmp, name, spec);
    CAPTURE(l.err.msg);
    CHECK_FALSE(l.ok);
    CHECK(one_line(l.err.msg));
    CHECK(std::strstr(l.err.msg, part.c_str()) != nullptr);
    CHECK(l.ck.tensors.empty());
}

void check_tiny(const Loaded& l) {
    REQUIRE_MESSAGE(l.ok, l.err.msg);
    CHECK(l.ck.dir == l.dir);
    CHECK(l.ck.tokenizer_json_path() == l.dir + "/tokenizer.json");
    uint64_t hidden = 0;
    agm::Error err;
    CHECK(l.ck.config.get_uint64("config.json", "hidden_size", &hidden, false, &err));
    CHECK(hidden == 2);
    CHECK(l.ck.tensors.size() == 4);
    for (const StTensor& t : tiny_tensors()) {
        CAPTURE(t.name);
        const agm::SafetensorsTensor* st = l.ck.find(t.name);
        REQUIRE(st != nullptr);
        REQUIRE(st->nbytes == t.bytes.size());
        CHECK(std::memcmp(st->data, t.bytes.data(), t.bytes.size()) == 0);
        const agm::HfShard* shard = l.ck.shard_of(st);
        REQUIRE(shard != nullptr);
        CHECK(shard->st.find(t.name) == st);
    }
    CHECK(l.ck.find("model.missing") == nullptr);
    std::vector<float> v;
    REQUIRE(agm::tensor_to_f32(*l.ck.find("model.norm.weight"), &v, &err));
    CHECK(v == std::vector<float>{1.0f, -1.0f});
}

}  // namespace

TEST_SUITE("safetensors") {

TEST_CASE("checkpoint: one model.safetensors") {
    agm_test::TempDir tmp;
    REQUIRE(!tmp.path.empty());
    Loaded l(tmp, "single", tiny_spec(0));
    check_tiny(l);
    CHECK_FALSE(l.ck.sharded);
    CHECK(l.ck.shards.size() == 1);
    CHECK(l.ck.shards[0]->file_name == "model.safetensors");
    // The checkpoint moves without invalidating its tensors.
    agm::HfCheckpoint moved = std::move(l.ck);
    REQUIRE(moved.find("model.norm.weight") != nullptr);
    CHECK(moved.find("model.norm.weight")->data[0] == 0);  // 1.0f little-endian starts with 0
}

TEST_CASE("checkpoint: sharded, every split") {
    agm_test::TempDir tmp;
    for (uint32_t n = 1; n <= 4; ++n) {
        CAPTURE(n);
        Loaded l(tmp, "sharded" + std::to_string(n), tiny_spec(n));
        check_tiny(l);
        CHECK(l.ck.sharded);
        CHECK(l.ck.shards.size() == n);
        CHECK(l.ck.index.has_total_size);
        CHECK(l.ck.index.total_size == 16 + 2 + 2 + 8);
        CHECK(l.ck.index.weight_map.size() == 4);
    }
    // A shard may hold nothing but still be named by nobody: then it is not read.
    HfDirSpec s = tiny_spec(3);
    s.shard_of = {0, 0, 2, 2};  // shard 2 of 3 (index 1) is written empty and not named
    Loaded l(tmp, "gap", s);
    check_tiny(l);
    CHECK(l.ck.shards.size() == 2);
    CHECK(l.ck.shard_of(l.ck.find("model.norm.weight"))->file_name == shard_file_name(3, 3));
    // No total_size: fine.
    s = tiny_spec(2);
    s.total_size = false;
    Loaded nt(tmp, "no_total", s);
    check_tiny(nt);
    CHECK_FALSE(nt.ck.index.has_total_size);
}

TEST_CASE("checkpoint: model.safetensors wins over an index") {
    agm_test::TempDir tmp;
    HfDirSpec s = tiny_spec(2);
    std::string why;
    REQUIRE(agm_test::write_hf_dir(tmp.path + "/both", s, &why));
    s.n_shards = 0;
    Loaded l(tmp, "both", s);
    check_tiny(l);
    CHECK_FALSE(l.ck.sharded);
}

TEST_CASE("checkpoint: missing or broken files") {
    agm_test::TempDir tmp;
    HfDirSpec s = tiny_spec(0);
    s.write_config = false;
    refused(tmp, "no_config", s, "no_config/config.json: No such file");
    s = tiny_spec(0);
    s.config_json = "[1,2]";
    refused(tmp, "config_array", s, "config_array/config.json: expected an object, got an array");
    s.config_json = "{\"a\":1,}";
    refused(tmp, "config_bad", s, "config_bad/config.json: json: trailing comma before '}' at byte 7");
    s = tiny_spec(2);
    s.write_index = false;
    refused(tmp, "no_weights", s, "neither model.safetensors nor model.safetensors.index.json");
    s = tiny_spec(0);
    s.file_options.trailing = {1};
    refused(tmp, "bad_single", s,
            "bad_single/model.safetensors: safetensors: bytes [28, 29) of the data buffer belong to no tensor");
    s = tiny_spec(2);
    s.omit_shards = {1};
    refused(tmp, "missing_shard", s, "cannot open " + tmp.path + "/missing_shard/" + shard_file_name(2, 2));
    // A truncated shard.
    s = tiny_spec(2);
    Loaded ok(tmp, "trunc", s);
    REQUIRE(ok.ok);
    REQUIRE(write_file(tmp.path + "/trunc/" + shard_file_name(2, 2), std::string(5, '\0')));
    agm::HfCheckpoint ck;
    agm::Error err;
    CHECK_FALSE(agm::load_hf_checkpoint(tmp.path + "/trunc", &ck, &err));
    CHECK(std::strstr(err.msg, "model-00002-of-00002.safetensors: safetensors: file is 5 bytes") != nullptr);
    // A directory where a shard should be.
    s = tiny_spec(2);
    s.omit_shards = {0};
    std::string why;
    REQUIRE(agm_test::write_hf_dir(tmp.path + "/dir_shard", s, &why));
    REQUIRE(::mkdir((tmp.path + "/dir_shard/" + shard_file_name(1, 2)).c_str(), 0755) == 0);
    CHECK_FALSE(agm::load_hf_checkpoint(tmp.path + "/dir_shard", &ck, &err));
    CHECK(std::strstr(err.msg, "not a regular file") != nullptr);
}

TEST_CASE("checkpoint: index and shards must agree") {
    agm_test::TempDir tmp;
    // The weight_map names a tensor its shard does not hold.
    HfDirSpec s = tiny_spec(2);
    s.extra_weight_map = {{"model.ghost", shard_file_name(1, 2)}};
    refused(tmp, "ghost", s,
            "the weight_map puts tensor \"model.ghost\" in model-00001-of-00002.safetensors, "
            "which does not hold it");
    // A shard holds a tensor the weight_map does not list.
    s = tiny_spec(2);
    s.unlisted = {"model.norm.weight"};
    refused(tmp, "unlisted", s,
            "model-00002-of-00002.safetensors holds tensor \"model.norm.weight\", which the "
            "weight_map does not list");
    // The weight_map puts a tensor in the other shard.
    s = tiny_spec(2);
    s.index_json = "{\"weight_map\":{"
                   "\"model.embed_tokens.weight\":\"model-00002-of-00002.safetensors\","
                   "\"model.layers.0.self_attn.q_proj.weight\":\"model-00001-of-00002.safetensors\","
                   "\"model.layers.0.self_attn.q_proj.weight_scale\":\"model-00002-of-00002.safetensors\","
                   "\"model.norm.weight\":\"model-00002-of-00002.safetensors\"}}";
    refused(tmp, "wrong_shard", s,
            "tensor \"model.embed_tokens.weight\" is in model-00001-of-00002.safetensors, but the "
            "weight_map puts it in model-00002-of-00002.safetensors");
    // One tensor in two shards.
    s = tiny_spec(2);
    s.tensors.push_back(st_floats("model.norm.weight", "F32", {2}, {1.0f, -1.0f}));
    s.shard_of = {0, 0, 1, 1, 0};
    s.index_json = "{\"weight_map\":{"
                   "\"model.embed_tokens.weight\":\"model-00001-of-00002.safetensors\","
                   "\"model.layers.0.self_attn.q_proj.weight\":\"model-00001-of-00002.safetensors\","
                   "\"model.layers.0.self_attn.q_proj.weight_scale\":\"model-00002-of-00002.safetensors\","
                   "\"model.norm.weight\":\"model-00002-of-00002.safetensors\"}}";
    refused(tmp, "twice", s,
            "tensor \"model.norm.weight\" is in two shards, model-00001-of-00002.safetensors and "
            "model-00002-of-00002.safetensors");
}

TEST_CASE("checkpoint: hostile index files") {
    agm_test::TempDir tmp;
    struct Bad {
        std::string index;
        const char* msg;
    } bads[] = {
        {"", "index: json: empty document at byte 0"},
        {"[]", "index: expected an object, got an array"},
        {"{}", "index: weight_map: missing"},
        {"{\"weight_map\":[]}", "index: weight_map: expected an object, got an array"},
        {"{\"weight_map\":{}}", "index: weight_map is empty"},
        {"{\"weight_map\":{\"a\":1}}", "index: weight_map: \"a\": expected a string, got a number"},
        {"{\"weight_map\":{\"a\":\"../x\"}}", "shard name \"../x\" is not a plain file name"},
        {"{\"weight_map\":{\"a\":\"..\"}}", "shard name \"..\" is not a plain file name"},
        {"{\"weight_map\":{\"a\":\"sub/x.safetensors\"}}", "not a plain file name"},
        {"{\"weight_map\":{\"a\":\"/etc/passwd\"}}", "not a plain file name"},
        {"{\"weight_map\":{\"a\":\"x\\\\y\"}}", "not a plain file name"},
        {"{\"weight_map\":{\"a\":\"\"}}", "shard name \"\" is not a plain file name"},
        {"{\"weight_map\":{\"a\":\"x\\u0000y\"}}", "shard name \"x\\x00y\" is not a plain file name"},
        {"{\"weight_map\":{\"a\":\"x\",\"a\":\"x\"}}", "index: json: duplicate key \"a\""},
        {"{\"metadata\":[],\"weight_map\":{\"a\":\"x\"}}", "index: metadata: expected an object, got an array"},
        {"{\"metadata\":{\"total_size\":-1},\"weight_map\":{\"a\":\"x\"}}",
         "index: metadata: total_size: expected a non-negative integer, got -1"},
        {"{\"metadata\":{\"total_size\":\"1\"},\"weight_map\":{\"a\":\"x\"}}",
         "total_size: expected a non-negative integer, got a string"},
    };
    int i = 0;
    for (const Bad& b : bads) {
        CAPTURE(b.index);
        // On its own...
        agm::HfIndex idx;
        agm::Error err;
        CHECK_FALSE(agm::parse_hf_index((const uint8_t*)b.index.data(), b.index.size(), &idx, &err));
        CHECK(one_line(err.msg));
        CHECK(std::strstr(err.msg, b.msg) != nullptr);
        // ... and in a directory, where the message names the file (an
        // empty index_json would mean "the computed one").
        if (b.index.empty()) continue;
        HfDirSpec s = tiny_spec(1);
        s.index_json = b.index;
        refused(tmp, "bad" + std::to_string(i++), s, "model.safetensors.index.json: index: ");
    }
    // The file names that are fine.
    for (const char* ok : {"model-00001-of-00002.safetensors", "x", ".hidden", "a.b"})
        CHECK(agm::hf_shard_name_ok(ok));
    for (const char* bad : {"", "..", "../a", "a/b", "a\\b", "x..y"}) CHECK_FALSE(agm::hf_shard_name_ok(bad));
}

}  // TEST_SUITE("safetensors")
