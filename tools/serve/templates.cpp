// The built-in chat formatters (templates.h). Each writes what the
// family's reference template writes for a conversation, with the
// assistant's turn opened at the end (add_generation_prompt).
#include "templates.h"

namespace agm_serve {

namespace {

struct Named {
    ChatFamily f;
    const char* name;
};
const Named kNames[] = {{ChatFamily::Plain, "plain"},   {ChatFamily::ChatML, "chatml"},
                        {ChatFamily::Llama2, "llama2"}, {ChatFamily::Llama3, "llama3"},
                        {ChatFamily::Mistral, "mistral"}, {ChatFamily::Gemma, "gemma"},
                        {ChatFamily::Phi3, "phi3"},     {ChatFamily::Zephyr, "zephyr"}};

bool has(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

// The system message's text (the first message if it is one) and where the others start.
size_t split_system(const std::vector<ChatMessage>& m, std::string* system) {
    if (!m.empty() && m[0].role == "system") {
        *system = m[0].content;
        return 1;
    }
    system->clear();
    return 0;
}

// "User: ...\nAssistant: ...\n": for models without a template (the bundled
// story model), documented in docs/server.md.
std::string plain(const std::vector<ChatMessage>& m) {
    std::string out, system;
    size_t i = split_system(m, &system);
    if (!system.empty()) out += system + "\n\n";
    for (; i < m.size(); ++i) {
        const std::string& r = m[i].role;
        out += (r == "assistant" ? "Assistant: " : r == "tool" ? "Tool: " : r == "system" ? "System: " : "User: ");
        out += m[i].content + "\n";
    }
    return out + "Assistant:";
}

std::string chatml(const std::vector<ChatMessage>& m) {
    std::string out;
    for (const ChatMessage& x : m) out += "<|im_start|>" + x.role + "\n" + x.content + "<|im_end|>\n";
    return out + "<|im_start|>assistant\n";
}

// Llama 2: the system prompt inside the first [INST] in <<SYS>> markers;
// every finished exchange closed by </s> and the next opened by <s>.
std::string llama2(const std::vector<ChatMessage>& m) {
    std::string out, system;
    size_t i = split_system(m, &system);
    bool first = true;
    for (; i < m.size(); ++i) {
        if (m[i].role == "assistant") {
            out += " " + m[i].content + " </s>";
            continue;
        }
        if (!first) out += "<s>";
        out += "[INST] ";
        if (first && !system.empty()) out += "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
        out += m[i].content + " [/INST]";
        first = false;
    }
    return out;
}

std::string llama3(const std::vector<ChatMessage>& m) {
    std::string out;
    for (const ChatMessage& x : m)
        out += "<|start_header_id|>" + x.role + "<|end_header_id|>\n\n" + x.content + "<|eot_id|>";
    return out + "<|start_header_id|>assistant<|end_header_id|>\n\n";
}

// Mistral (v0.1-0.3 instruct): no system role; its text goes before the
// first user message.
std::string mistral(const std::vector<ChatMessage>& m) {
    std::string out, system;
    size_t i = split_system(m, &system);
    bool first = true;
    for (; i < m.size(); ++i) {
        if (m[i].role == "assistant") {
            out += " " + m[i].content + "</s>";
            continue;
        }
        out += "[INST] ";
        if (first && !system.empty()) out += system + "\n\n";
        out += m[i].content + " [/INST]";
        first = false;
    }
    return out;
}

// Gemma: roles user and model; no system role (its text opens the first user turn).
std::string gemma(const std::vector<ChatMessage>& m) {
    std::string out, system;
    size_t i = split_system(m, &system);
    bool first = true;
    for (; i < m.size(); ++i) {
        const bool model = m[i].role == "assistant";
        out += std::string("<start_of_turn>") + (model ? "model" : "user") + "\n";
        if (!model && first && !system.empty()) out += system + "\n\n";
        if (!model) first = false;
        out += m[i].content + "<end_of_turn>\n";
    }
    return out + "<start_of_turn>model\n";
}

std::string phi3(const std::vector<ChatMessage>& m) {
    std::string out;
    for (const ChatMessage& x : m) out += "<|" + x.role + "|>\n" + x.content + "<|end|>\n";
    return out + "<|assistant|>\n";
}

std::string zephyr(const std::vector<ChatMessage>& m) {
    std::string out;
    for (const ChatMessage& x : m) out += "<|" + x.role + "|>\n" + x.content + "</s>\n";
    return out + "<|assistant|>\n";
}

}  // namespace

const char* chat_family_name(ChatFamily f) {
    for (const Named& n : kNames)
        if (n.f == f) return n.name;
    return "?";
}

bool chat_family_from_name(const std::string& name, ChatFamily* out) {
    for (const Named& n : kNames)
        if (name == n.name) {
            *out = n.f;
            return true;
        }
    return false;
}

std::string chat_family_names() {
    std::string s;
    for (const Named& n : kNames) s += std::string(s.empty() ? "" : ", ") + n.name;
    return s;
}

bool detect_chat_family(const std::string& t, ChatFamily* out) {
    // Most specific markers first: several families share "</s>" or "[INST]".
    if (has(t, "<|start_header_id|>") && has(t, "<|eot_id|>")) *out = ChatFamily::Llama3;
    else if (has(t, "<|im_start|>")) *out = ChatFamily::ChatML;
    else if (has(t, "<start_of_turn>")) *out = ChatFamily::Gemma;
    else if (has(t, "<|end|>") && has(t, "<|assistant|>")) *out = ChatFamily::Phi3;
    else if (has(t, "<|assistant|>") && has(t, "</s>")) *out = ChatFamily::Zephyr;
    else if (has(t, "[INST]") && has(t, "<<SYS>>")) *out = ChatFamily::Llama2;
    else if (has(t, "[INST]")) *out = ChatFamily::Mistral;
    else return false;
    return true;
}

std::string format_chat(ChatFamily f, const std::vector<ChatMessage>& m) {
    switch (f) {
        case ChatFamily::ChatML: return chatml(m);
        case ChatFamily::Llama2: return llama2(m);
        case ChatFamily::Llama3: return llama3(m);
        case ChatFamily::Mistral: return mistral(m);
        case ChatFamily::Gemma: return gemma(m);
        case ChatFamily::Phi3: return phi3(m);
        case ChatFamily::Zephyr: return zephyr(m);
        case ChatFamily::Plain: break;
    }
    return plain(m);
}

}  // namespace agm_serve
