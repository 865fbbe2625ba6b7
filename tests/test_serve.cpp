// agmodel-serve's parts without sockets: the chat templates (each family's
// layout, and the recogniser on the reference templates' markers), the HTTP
// parser's requests and refusals, the UTF-8 stream (tools/serve/).
#include <string>
#include <vector>

#include "doctest.h"
#include "http.h"
#include "templates.h"
#include "text.h"

using namespace agm_serve;

TEST_CASE("serve: each chat family's layout for system, user, assistant, user") {
    const std::vector<ChatMessage> m = {{"system", "S"}, {"user", "U1"}, {"assistant", "A1"}, {"user", "U2"}};
    struct Want {
        ChatFamily f;
        const char* text;
    };
    const Want want[] = {
        {ChatFamily::Plain, "S\n\nUser: U1\nAssistant: A1\nUser: U2\nAssistant:"},
        {ChatFamily::ChatML, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\n"
                             "A1<|im_end|>\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n"},
        {ChatFamily::Llama2, "[INST] <<SYS>>\nS\n<</SYS>>\n\nU1 [/INST] A1 </s><s>[INST] U2 [/INST]"},
        {ChatFamily::Llama3, "<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user"
                             "<|end_header_id|>\n\nU1<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA1"
                             "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU2<|eot_id|>"
                             "<|start_header_id|>assistant<|end_header_id|>\n\n"},
        {ChatFamily::Mistral, "[INST] S\n\nU1 [/INST] A1</s>[INST] U2 [/INST]"},
        {ChatFamily::Gemma, "<start_of_turn>user\nS\n\nU1<end_of_turn>\n<start_of_turn>model\nA1<end_of_turn>\n"
                            "<start_of_turn>user\nU2<end_of_turn>\n<start_of_turn>model\n"},
        {ChatFamily::Phi3, "<|system|>\nS<|end|>\n<|user|>\nU1<|end|>\n<|assistant|>\nA1<|end|>\n<|user|>\nU2<|end|>\n"
                           "<|assistant|>\n"},
        {ChatFamily::Zephyr, "<|system|>\nS</s>\n<|user|>\nU1</s>\n<|assistant|>\nA1</s>\n<|user|>\nU2</s>\n"
                             "<|assistant|>\n"},
    };
    for (const Want& w : want) {
        INFO(chat_family_name(w.f));
        CHECK(format_chat(w.f, m) == w.text);
        ChatFamily back;
        REQUIRE(chat_family_from_name(chat_family_name(w.f), &back));
        CHECK(back == w.f);
    }
    ChatFamily f;
    CHECK(!chat_family_from_name("jinja", &f));
}

TEST_CASE("serve: the recogniser on the families' template markers") {
    struct Case {
        const char* jinja;
        ChatFamily f;
    };
    const Case cases[] = {
        {"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
         "'<|im_end|>' + '\\n'}}{% endfor %}",
         ChatFamily::ChatML},
        {"{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + "
         "m['content'] | trim + '<|eot_id|>' }}{% endfor %}",
         ChatFamily::Llama3},
        {"{% if messages[0]['role'] == 'system' %}{% set system_message = '<<SYS>>\\n' + messages[0]['content'] + "
         "'\\n<</SYS>>\\n\\n' %}{% endif %}{{ bos_token + '[INST] ' + content + ' [/INST]' }}",
         ChatFamily::Llama2},
        {"{{ bos_token }}{% for message in messages %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endfor %}",
         ChatFamily::Mistral},
        {"{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}", ChatFamily::Gemma},
        {"{{'<|' + message['role'] + '|>' + '\\n' + message['content'] + '<|end|>' + '\\n'}}{{ '<|assistant|>\\n' }}",
         ChatFamily::Phi3},
        {"{{ '<|user|>\\n' + message['content'] + eos_token }}{{ '<|assistant|>' }} </s>", ChatFamily::Zephyr},
    };
    for (const Case& c : cases) {
        INFO(c.jinja);
        ChatFamily f = ChatFamily::Plain;
        REQUIRE(detect_chat_family(c.jinja, &f));
        CHECK(f == c.f);
    }
    ChatFamily f;
    CHECK(!detect_chat_family("{{ messages | tojson }}", &f));
}

TEST_CASE("serve: HTTP requests, pipelined, and refusals with their status") {
    RequestParser p;
    const std::string two = "POST /v1/x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nX-A:  v \r\n\r\n{}"
                            "GET / HTTP/1.0\r\n\r\n";
    size_t used = 0;
    REQUIRE(p.parse(two.data(), two.size(), &used) == ParseStatus::Done);
    CHECK(p.request().method == "POST");
    CHECK(p.request().path == "/v1/x");
    CHECK(p.request().body == "{}");
    CHECK(*p.request().header("x-a") == "v");
    CHECK(p.request().keep_alive);
    const std::string rest = two.substr(used);
    p.reset();
    REQUIRE(p.parse(rest.data(), rest.size(), &used) == ParseStatus::Done);
    CHECK(used == rest.size());
    CHECK(!p.request().keep_alive);  // HTTP/1.0 without keep-alive
    struct Bad {
        const char* bytes;
        int status;
    };
    const Bad bad[] = {{"GET / HTTP/1.1\n\n", 400},
                       {"GET / HTTP/3.0\r\n\r\n", 505},
                       {"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
                       {"POST / HTTP/1.1\r\nTransfer-Encoding: br\r\n\r\n", 501},
                       {"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413},
                       {"GET http://x/ HTTP/1.1\r\n\r\n", 400}};
    for (const Bad& b : bad) {
        INFO(b.bytes);
        RequestParser q;
        const std::string s = b.bytes;
        CHECK(q.parse(s.data(), s.size(), &used) == ParseStatus::Error);
        CHECK(q.status() == b.status);
        CHECK(q.reason().find('\n') == std::string::npos);
    }
}

TEST_CASE("serve: generated bytes streamed as valid UTF-8") {
    Utf8Stream u;
    std::string out;
    const std::string euro = "\xE2\x82\xAC";
    u.push(euro.data(), 1, &out);
    CHECK(out.empty());  // held: the character is not complete
    u.push(euro.data() + 1, 2, &out);
    CHECK(out == euro);
    out.clear();
    u.push("a\xFF" "b\xC3", 4, &out);
    u.flush(&out);
    CHECK(out == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    CHECK(valid_utf8(out));
    CHECK(!valid_utf8("\xED\xA0\x80"));  // a surrogate
    CHECK(json_string("a\"\\\n\x01") == "\"a\\\"\\\\\\n\\u0001\"");
}
