// Real clients against agmodel-serve (ctest serve_clients): the official
// npm packages `openai` and `ollama`, with ajv validating the structured
// output against its schema.
//
//   node serve_clients.mjs NPM_DIR AGMODEL_SERVE MODEL [EMULATOR...]
//
// NPM_DIR holds node_modules (tests/CMakeLists.txt installs them into the
// build tree). Starts the server on a free loopback port, checks, stops it.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [npmDir, serve, model, ...emu] = process.argv.slice(2);
const require = createRequire(resolve(npmDir, "package.json"));
const load = async (name) => import(pathToFileURL(require.resolve(name)).href);
const OpenAI = (await load("openai")).default;
const { Ollama } = await load("ollama");
const Ajv = (await load("ajv")).default;
const slow = emu.length ? 6 : 1;

let failures = 0;
function check(name, ok, detail) {
  console.log((ok ? "ok   " : "FAIL ") + name + (ok || detail === undefined ? "" : ": " + JSON.stringify(detail).slice(0, 600)));
  if (!ok) failures++;
}

function start() {
  const argv = [...emu, serve, "--model", model, "--port", "0"];
  const p = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("the server did not start")), 30000 * slow);
    p.stderr.on("data", (d) => {
      buf += d;
      const m = buf.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ p, port: Number(m[1]) });
      }
    });
    p.on("exit", () => reject(new Error("the server exited: " + buf)));
  });
}

const { p, port } = await start();
const ajv = new Ajv();
try {
  const openai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "unused", timeout: 120000 * slow, maxRetries: 0 });
  const messages = [{ role: "user", content: "Tell me a story about a cat" }];

  const chat = await openai.chat.completions.create({ model: "m", messages, max_tokens: 24, temperature: 0 });
  const content = chat.choices[0].message.content;
  check("openai: chat", chat.object === "chat.completion" && typeof content === "string" && content.length > 0 &&
        chat.usage.completion_tokens === 24, chat);

  let streamed = "", finish = null, usage = null;
  const stream = await openai.chat.completions.create({ model: "m", messages, max_tokens: 24, temperature: 0,
                                                        stream: true, stream_options: { include_usage: true } });
  for await (const chunk of stream) {
    if (chunk.choices.length) {
      streamed += chunk.choices[0].delta?.content ?? "";
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  check("openai: streaming, the same text", streamed === content && finish === "length" && usage?.total_tokens > 0,
        { streamed, content, finish, usage });

  const schema = { type: "object", properties: { name: { type: "string", maxLength: 20 },
                                                 legs: { type: "integer", minimum: 0, maximum: 8 } },
                   required: ["name", "legs"], additionalProperties: false };
  const structured = await openai.chat.completions.create({
    model: "m", messages, max_tokens: 200, temperature: 0,
    response_format: { type: "json_schema", json_schema: { name: "animal", schema, strict: true } } });
  let value = null;
  try { value = JSON.parse(structured.choices[0].message.content); } catch (e) { value = e.message; }
  check("openai: response_format json_schema, valid by ajv", ajv.validate(schema, value), { value, errors: ajv.errors });

  const params = { type: "object", properties: { city: { type: "string", maxLength: 24 },
                                                 unit: { enum: ["C", "F"] } },
                   required: ["city", "unit"], additionalProperties: false };
  const tools = [{ type: "function", function: { name: "get_weather", description: "Weather in a city", parameters: params } }];
  const called = await openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Weather in Oslo?" }],
                                                        max_tokens: 120, temperature: 0, tools, tool_choice: "required" });
  const call = called.choices[0].message.tool_calls?.[0];
  let args = null;
  try { args = JSON.parse(call.function.arguments); } catch (e) { args = String(e); }
  check("openai: a tool call whose arguments validate by ajv",
        called.choices[0].finish_reason === "tool_calls" && call?.function.name === "get_weather" &&
        ajv.validate(params, args), { message: called.choices[0].message, errors: ajv.errors });

  const completion = await openai.completions.create({ model: "m", prompt: "Once upon a time", max_tokens: 16, temperature: 0 });
  check("openai: completions", completion.object === "text_completion" && completion.choices[0].text.length > 0 &&
        completion.usage.completion_tokens === 16, completion);

  let refused = null;
  try { await openai.chat.completions.create({ model: "m", messages, n: 2 }); } catch (e) { refused = e; }
  check("openai: n = 2 is a 400 the client reports", refused?.status === 400 && /'n'/.test(refused.message), String(refused));

  const models = await openai.models.list();
  check("openai: models", models.data.length === 1 && models.data[0].object === "model", models.data);

  const ollama = new Ollama({ host: `http://127.0.0.1:${port}` });
  const gen = await ollama.generate({ model: "m", prompt: "Once upon a time", stream: false,
                                      options: { temperature: 0, num_predict: 16, repeat_penalty: 1 } });
  check("ollama: generate = openai completions (greedy)", gen.done && gen.response === completion.choices[0].text, gen);

  let parts = "", done = false;
  for await (const part of await ollama.generate({ model: "m", prompt: "Once upon a time", stream: true,
                                                   options: { temperature: 0, num_predict: 16, repeat_penalty: 1 } })) {
    parts += part.response;
    done = done || part.done;
  }
  check("ollama: generate, streaming", done && parts === gen.response, { parts, gen: gen.response });

  const ochat = await ollama.chat({ model: "m", messages, stream: false, options: { temperature: 0, num_predict: 24, repeat_penalty: 1 } });
  check("ollama: chat = openai chat (greedy, same template)", ochat.message.role === "assistant" &&
        ochat.message.content === content, { ollama: ochat.message.content, openai: content });

  let cparts = "";
  for await (const part of await ollama.chat({ model: "m", messages, stream: true,
                                               options: { temperature: 0, num_predict: 24, repeat_penalty: 1 } }))
    cparts += part.message.content;
  check("ollama: chat, streaming", cparts === content, { cparts, content });

  const formatted = await ollama.generate({ model: "m", prompt: "An animal:", stream: false, format: schema,
                                            options: { temperature: 0, num_predict: 200 } });
  let fvalue = null;
  try { fvalue = JSON.parse(formatted.response); } catch (e) { fvalue = e.message; }
  check("ollama: format with a schema, valid by ajv", ajv.validate(schema, fvalue), { fvalue, errors: ajv.errors });

  const tags = await ollama.list();
  check("ollama: list (tags)", tags.models.length === 1, tags);
  const shown = await ollama.show({ model: "m" });
  check("ollama: show", shown.model_info !== undefined, shown);
} catch (e) {
  check("no exception", false, String(e.stack || e));
} finally {
  p.kill("SIGTERM");
}
console.log(`${failures} failed`);
process.exit(failures ? 1 : 0);
