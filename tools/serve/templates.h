// Chat templates: messages to a prompt, by a built-in formatter per family
// (no Jinja engine). A model's template text (GGUF tokenizer.chat_template,
// Hugging Face tokenizer_config.json's chat_template, kept by the converter)
// is recognised by the markers each family writes; --chat-template NAME
// chooses one by name. docs/server.md shows each family's layout.
#ifndef AGM_SERVE_TEMPLATES_H
#define AGM_SERVE_TEMPLATES_H

#include <string>
#include <vector>

namespace agm_serve {

enum class ChatFamily { Plain, ChatML, Llama2, Llama3, Mistral, Gemma, Phi3, Zephyr };

struct ChatMessage {
    std::string role;  // "system", "user", "assistant" or "tool"
    std::string content;
};

// "plain", "chatml", "llama2", "llama3", "mistral", "gemma", "phi3", "zephyr".
const char* chat_family_name(ChatFamily f);
bool chat_family_from_name(const std::string& name, ChatFamily* out);
// Every name, comma-separated (for messages).
std::string chat_family_names();

// The family a Jinja template text belongs to, by its markers; false if
// none is recognised (the server says so at startup).
bool detect_chat_family(const std::string& jinja, ChatFamily* out);

// The prompt text for messages, ending with the assistant's turn opened.
// The model's BOS is not written: the tokenizer adds it (agm_model_info's
// add_bos). Special tokens are written as text (<|im_start|>): a byte-level
// BPE tokenizer makes them the tokens.
std::string format_chat(ChatFamily f, const std::vector<ChatMessage>& messages);

}  // namespace agm_serve

#endif
