// The web page of agmodel-serve in headless Chromium (ctest serve_page):
// types a message, sends it, and waits for the streamed reply to appear;
// then asks for JSON by schema and checks the reply parses. Also checks
// that the page loads nothing from anywhere but the server.
//
//   node serve_page.mjs NPM_DIR AGMODEL_SERVE MODEL [CHROMIUM]
//
// puppeteer-core from NPM_DIR drives Debian's chromium (no browser download).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [npmDir, serve, model, chromium = "/usr/bin/chromium"] = process.argv.slice(2);
const require = createRequire(resolve(npmDir, "package.json"));
const puppeteer = (await import(pathToFileURL(require.resolve("puppeteer-core")).href)).default;

let failures = 0;
function check(name, ok, detail) {
  console.log((ok ? "ok   " : "FAIL ") + name + (ok || detail === undefined ? "" : ": " + JSON.stringify(detail).slice(0, 600)));
  if (!ok) failures++;
}

const server = spawn(serve, ["--model", model, "--port", "0"], { stdio: ["ignore", "ignore", "pipe"] });
const port = await new Promise((res, rej) => {
  let buf = "";
  const t = setTimeout(() => rej(new Error("the server did not start")), 30000);
  server.stderr.on("data", (d) => {
    buf += d;
    const m = buf.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) { clearTimeout(t); res(Number(m[1])); }
  });
});
const origin = `http://127.0.0.1:${port}`;
let browser;
try {
  browser = await puppeteer.launch({ executablePath: chromium, headless: true,
                                     args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
  const page = await browser.newPage();
  const foreign = [];
  page.on("request", (r) => { if (!r.url().startsWith(origin)) foreign.push(r.url()); });
  await page.goto(origin + "/", { waitUntil: "networkidle0", timeout: 30000 });
  check("the page loads, naming the model", (await page.$eval("#model", (e) => e.textContent)) === "tinystories-3m");

  // Type a message; the reply streams into the bubble (seen growing), then is marked done.
  await page.type("#text", "Tell me a story");
  await page.click("#send");
  await page.waitForSelector("#reply-1", { timeout: 30000 });
  const seen = new Set();
  const t0 = Date.now();
  while (Date.now() - t0 < 60000) {
    const { text, done } = await page.$eval("#reply-1", (e) => ({ text: e.textContent, done: e.dataset.done === "1" }));
    if (text) seen.add(text);
    if (done) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const reply = await page.$eval("#reply-1", (e) => ({ text: e.textContent, cls: e.className, done: e.dataset.done,
                                                       events: Number(e.dataset.events || 0) }));
  check("a streamed reply appears", reply.done === "1" && reply.cls === "msg assistant" && reply.text.length > 20, reply);
  check(`it came in ${reply.events} streamed pieces (${seen.size} states seen)`, reply.events >= 2, reply);

  // JSON by schema.
  await page.click("#json");
  await page.type("#text", "Give me an answer");
  await page.click("#send");
  await page.waitForFunction(() => document.querySelector("#reply-3")?.dataset.done === "1", { timeout: 60000 });
  const json = await page.$eval("#reply-3", (e) => ({ text: e.textContent, cls: e.className }));
  let value = null;
  try { value = JSON.parse(json.text); } catch (e) { value = null; }
  check("JSON by schema: the reply is the schema's object", json.cls === "msg assistant" &&
        value !== null && typeof value.answer === "string", json);
  check("nothing loaded from elsewhere", foreign.length === 0, foreign);
} catch (e) {
  check("no exception", false, String(e.stack || e));
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
}
console.log(`${failures} failed`);
process.exit(failures ? 1 : 0);
