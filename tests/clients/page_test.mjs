// The web page served at / (src/server/web/), driven in Debian's headless Chromium through
// puppeteer-core, against `voxtral-rt serve --api-key`:
//   live      the fake microphone plays a clip; the page's text must equal transcription.done and
//             the offline transcript of the recording the page offers, which must be exactly the
//             audio it sent and must be the clip (cross-correlation), with a lag readout shown
//   wrong key the refused handshake becomes a readable error; a key that cannot be a
//             subprotocol is refused before any connection
//   upload    the shown text is the offline transcript (verbatim: the page shows `.text` as is,
//             CSS hides the leading space); .txt, .srt and .vtt downloads equal the CLI's bytes
//   bad file  the server's error message is shown
//   remember  the key is kept in localStorage only when asked
// Every case fails on an uncaught page exception or a Content-Security-Policy violation.
// VRT_SCREENSHOT=path.png saves a screenshot of the page after the live case (1200x800).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import {
  CLI, REALTIME_MODEL, check, clip, eq, linearResample, makeModel, offline, readWav, runCases, startServer, tempDir,
} from "./common.mjs";

const CHROMIUM = process.env.VRT_CHROMIUM || "/usr/bin/chromium";
const KEY = "page-test-key";
const CLIP = clip("librispeech_dev-clean_8297-275156-0000.wav"); // 3.6 s, 16 kHz s16 mono
const STEP_TIMEOUT_MS = 20000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// `promise`, or a failure after `ms` (the timer does not outlive the race).
async function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`FAILED: ${what()}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const dir = tempDir();
const downloads = join(dir, "downloads");
mkdirSync(downloads);
const model = makeModel(dir);

const src = readWav(CLIP);
check(src.rate === 16000 && src.channels === 1 && src.format === "s16", "the test clip is 16 kHz s16 mono");
const srcS16 = new Int16Array(Uint8Array.from(src.data).buffer);
const clipSeconds = srcS16.length / src.rate;

// ------------------------------------------------------------------ helpers

// Normalized cross-correlation of `a` (the reference) against `b` shifted by `lag`
// (b[i + lag] ~ a[i]) over a[from, from + n).
function ncc(a, b, from, n, lag) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = from; i < from + n; ++i) {
    const x = a[i];
    const y = b[i + lag] ?? 0;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

function boxDecimate(x, factor) {
  const y = new Float32Array(Math.floor(x.length / factor));
  for (let i = 0; i < y.length; ++i) {
    let s = 0;
    for (let j = 0; j < factor; ++j) s += x[i * factor + j];
    y[i] = s / factor;
  }
  return y;
}

// Where the clip lies in the recording: the best lag (seconds, recording minus clip) over the
// clip's speech from 1 s to 3 s (the capture may miss the clip's first moments), coarse at 4 kHz
// then refined at 16 kHz; and its normalized correlation.
function alignClip(recording, rate) {
  const ref = Float32Array.from(srcS16, (v) => v / 32768);
  const rec = linearResample(recording, rate, 16000);
  const from = 16000, n = 2 * 16000;
  const [ref4, rec4] = [boxDecimate(ref, 4), boxDecimate(rec, 4)];
  let best = { lag: 0, c: -Infinity };
  for (let lag = -from / 4; lag + (from + n) / 4 <= rec4.length; ++lag) {
    const c = ncc(ref4, rec4, from / 4, n / 4, lag);
    if (c > best.c) best = { lag, c };
  }
  let fine = { lag: best.lag * 4, c: -Infinity };
  for (let lag = best.lag * 4 - 8; lag <= best.lag * 4 + 8; ++lag) {
    if (lag < -from || lag + from + n > rec.length) continue;
    const c = ncc(ref, rec, from, n, lag);
    if (c > fine.c) fine = { lag, c };
  }
  return { lagS: fine.lag / 16000, corr: fine.c };
}

// The CLI's output as bytes (the expected download).
function offlineBytes(file, format) {
  return execFileSync(CLI, ["transcribe", "--no-progress", "-t", "1", "-m", model, "-f", format, file], { maxBuffer: 64 << 20 });
}

function floatsOf(buf) {
  return new Float32Array(Uint8Array.from(buf).buffer);
}

// ------------------------------------------------------------------ browser

const server = await startServer(model, ["--api-key", KEY]);
let browser = null;
let cdp = null; // the browser's CDP session: download events
const pending = new Map(); // download guid -> {name, resolve, reject}

async function launch() {
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      // Plays the clip once; then the fake device repeats its last 10 ms buffer (near silence).
      `--use-file-for-fake-audio-capture=${CLIP}%noloop`,
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
  // Downloads land in `downloads` under their guid; the events say when and under which name.
  cdp = await browser.target().createCDPSession();
  await cdp.send("Browser.setDownloadBehavior", { behavior: "allowAndName", downloadPath: downloads, eventsEnabled: true });
  const names = new Map();
  cdp.on("Browser.downloadWillBegin", (e) => names.set(e.guid, e.suggestedFilename));
  cdp.on("Browser.downloadProgress", (e) => {
    if (e.state === "inProgress") return;
    const waiter = pending.get("next");
    if (!waiter) return;
    pending.delete("next");
    if (e.state === "completed") waiter.resolve({ name: names.get(e.guid), bytes: readFileSync(join(downloads, e.guid)) });
    else waiter.reject(new Error(`download ${e.state}`));
  });
}

// Clicks `selector` and returns the download it starts: {name, bytes}.
async function download(page, selector) {
  check(!pending.has("next"), "one download at a time");
  const got = new Promise((resolve, reject) => pending.set("next", { resolve, reject }));
  await page.click(selector);
  return within(got, STEP_TIMEOUT_MS, () => {
    pending.delete("next");
    return `no download after clicking ${selector}`;
  });
}

// A fresh page at the server's /, 1200x800, recording uncaught exceptions, CSP violations and
// the WebSocket frames (CDP Network events).
async function openPage() {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 800 });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`uncaught exception: ${e.message ?? e}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  const ws = { created: 0, sent: [], received: [], handshake: null };
  const net = await page.createCDPSession();
  await net.send("Network.enable");
  net.on("Network.webSocketCreated", () => ws.created++);
  net.on("Network.webSocketHandshakeResponseReceived", (e) => (ws.handshake = e.response));
  net.on("Network.webSocketFrameSent", (e) => ws.sent.push(e.response.payloadData));
  net.on("Network.webSocketFrameReceived", (e) => ws.received.push(e.response.payloadData));
  await page.goto(server.url + "/", { waitUntil: "load" });
  return {
    page,
    ws,
    checkClean() {
      eq(problems.join("\n"), "", "no uncaught exception or CSP violation in the page");
    },
  };
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent);
const state = (page, sel) => page.$eval(sel, (e) => e.dataset.state ?? "");

// Waits for a status line to reach one of `states`; returns {state, message}.
async function waitState(page, sel, states) {
  try {
    await page.waitForFunction((s, st) => st.includes(document.querySelector(s).dataset.state), { timeout: STEP_TIMEOUT_MS }, sel, states);
  } catch {
    throw new Error(`FAILED: ${sel} never reached ${states.join("/")}: [${await state(page, sel)}] ${await text(page, sel)}`);
  }
  return { state: await state(page, sel), message: await text(page, sel) };
}

async function setKey(page, key) {
  await page.$eval("#key", (e) => (e.value = ""));
  await page.type("#key", key);
}

// ------------------------------------------------------------------ cases

async function liveMicrophone() {
  const { page, ws, checkClean } = await openPage();
  try {
    await setKey(page, KEY);
    await page.click("#start");
    await waitState(page, "#live-status", ["live"]);
    // Let the clip play out, watching the text and the lag readout while live.
    let sawText = false, sawLag = false;
    for (const end = Date.now() + (clipSeconds + 1) * 1000; Date.now() < end; await sleep(200)) {
      sawText ||= (await text(page, "#live-text")).trim() !== "";
      sawLag ||= /^lag \d+\.\d\d s$/.test(await text(page, "#lag"));
    }
    await page.click("#stop");
    const st = await waitState(page, "#live-status", ["done", "error"]);
    eq(st.state, "done", `live session ends done (status: ${st.message})`);
    check(sawText, "text appeared while the session was live");
    check(sawLag, "the lag readout showed a number while live");
    const shown = await text(page, "#live-text");

    // What went over the socket.
    const events = ws.received.map((f) => JSON.parse(f));
    const done = events.find((e) => e.type === "transcription.done");
    check(done, "transcription.done received");
    eq(shown, done.text, "the page shows transcription.done's text");
    check(done.text.trim() !== "", "the server transcribed something");
    check(events.some((e) => e.type === "voxtral_rt.progress"), "voxtral_rt.progress events (the page offered voxtral-rt)");
    eq(ws.handshake?.headers?.["Sec-WebSocket-Protocol"] ?? ws.handshake?.headers?.["sec-websocket-protocol"], "voxtral-rt",
      "the server selected the voxtral-rt subprotocol");
    const sent = ws.sent.map((f) => JSON.parse(f));
    const update = sent.find((e) => e.type === "session.update");
    check(update?.session?.audio_format?.encoding === "pcm_f32le", "session.update names pcm_f32le");
    const rate = update.session.audio_format.sample_rate;
    const appends = sent.filter((e) => e.type === "input_audio.append").map((e) => Buffer.from(e.audio, "base64"));
    check(appends.length > 0, "audio was sent");
    check(appends.every((b) => b.length < 262144), "every append stays under 256 KiB");
    eq(sent.slice(-2).map((e) => e.type).join(","), "input_audio.flush,input_audio.end", "the session ends with flush, end");
    const wire = Buffer.concat(appends);

    // The recording the page offers: exactly the audio sent.
    const rec = await download(page, "#save-recording");
    check(/^recording-\d{8}-\d{6}\.wav$/.test(rec.name), `recording file name (${rec.name})`);
    const recPath = join(dir, "recording.wav");
    writeFileSync(recPath, rec.bytes);
    const wav = readWav(recPath);
    eq(`${wav.format} ${wav.channels} ${wav.rate}`, `f32 1 ${rate}`, "the recording is mono float32 at the rate sent");
    eq(wav.data.length, wire.length, "the recording holds as many bytes as were sent");
    check(wav.data.equals(wire), "the recording's samples are bit-identical to those sent");

    // ... which is the clip (not silence or garbage) ...
    const { lagS, corr } = alignClip(floatsOf(wav.data), rate);
    console.log(`     page rate ${rate} Hz, ${(wire.length / 4 / rate).toFixed(2)} s sent, clip at ${lagS.toFixed(3)} s, correlation ${corr.toFixed(4)}`);
    // 0.99+ on an idle machine; under load (the sanitizer pass) Chromium's fake device can drop
    // a buffer, which misaligns the rest of the window (0.86 seen). Silence or noise give < 0.1.
    check(corr > 0.5, `the recording is the fake microphone's clip (correlation ${corr.toFixed(4)} at ${lagS.toFixed(3)} s)`);

    // ... and its offline transcript is what the page shows.
    eq(shown.trim(), offline(model, recPath).text.trim(), "page text = offline transcript of the recording (trimmed)");

    if (process.env.VRT_SCREENSHOT) {
      await page.mouse.move(0, 0); // no hover highlight
      await page.screenshot({ path: process.env.VRT_SCREENSHOT });
    }
    checkClean();
  } finally {
    await page.close();
  }
}

async function wrongKey() {
  const { page, ws, checkClean } = await openPage();
  try {
    await setKey(page, "not-the-key");
    await page.click("#start");
    const st = await waitState(page, "#live-status", ["error", "done", "live"]);
    eq(st.state, "error", "a wrong key ends in an error");
    eq(st.message, "The server refused this API key.", "the error says why");
    check(ws.created === 1 && !ws.received.length, "one refused connection, no event");
    check(!(await page.$eval("#start", (e) => e.disabled)), "Start is enabled again");
    check(await page.$eval("#stop", (e) => e.disabled), "Stop is disabled again");

    // A key a browser cannot send as a subprotocol: refused before connecting.
    await setKey(page, "has space");
    await page.click("#start");
    const bad = await waitState(page, "#live-status", ["error"]);
    check(/WebSocket subprotocol/.test(bad.message), `a key with a space is refused with a reason (${bad.message})`);
    eq(ws.created, 1, "no connection for a key that cannot be a subprotocol");
    checkClean();
  } finally {
    await page.close();
  }
}

async function upload() {
  const { page, checkClean } = await openPage();
  try {
    await setKey(page, KEY);
    const input = await page.$("#file");
    await input.uploadFile(CLIP);
    const st = await waitState(page, "#file-status", ["done", "error"]);
    eq(st.state, "done", `upload transcribed (status: ${st.message})`);
    const expected = offline(model, CLIP).text;
    check(expected.trim() !== "", "the offline transcript is not empty");
    eq(await text(page, "#file-text"), expected, "the page shows the offline transcript");

    const base = "librispeech_dev-clean_8297-275156-0000";
    for (const format of ["txt", "srt", "vtt"]) {
      const got = await download(page, `#dl-${format}`);
      eq(got.name, `${base}.${format}`, `.${format} file name`);
      const want = offlineBytes(CLIP, format);
      if (!got.bytes.equals(want)) eq(got.bytes.toString("utf8"), want.toString("utf8"), `.${format} download = CLI -f ${format}, byte for byte`);
    }
    checkClean();
  } finally {
    await page.close();
  }
}

async function badUpload() {
  const bad = join(dir, "not-audio.wav");
  writeFileSync(bad, "this is a text file, not a WAV\n".repeat(20));
  // The server's message for that file, asked directly.
  const form = new FormData();
  form.append("file", new Blob([readFileSync(bad)]), "not-audio.wav");
  form.append("model", REALTIME_MODEL);
  const res = await fetch(`${server.url}/v1/audio/transcriptions`, { method: "POST", body: form, headers: { Authorization: `Bearer ${KEY}` } });
  eq(res.status, 400, "the server refuses the file");
  const message = (await res.json()).error.message;

  const { page, checkClean } = await openPage();
  try {
    await setKey(page, KEY);
    await (await page.$("#file")).uploadFile(bad);
    const st = await waitState(page, "#file-status", ["done", "error"]);
    eq(st.state, "error", "a bad file ends in an error");
    check(st.message.includes(message), `the page shows the server's message\n  expected within: ${message}\n  shown: ${st.message}`);
    check(await page.$eval("#file-text", (e) => e.hidden), "no transcript shown");
    check(await page.$eval("#file-downloads", (e) => e.hidden), "no downloads offered");
    checkClean();
  } finally {
    await page.close();
  }
}

async function rememberKey() {
  const { page, checkClean } = await openPage();
  const stored = () => page.evaluate(() => localStorage.getItem("voxtral-rt.api-key"));
  try {
    await setKey(page, "kept-key");
    eq(await stored(), null, "the key is not stored unless asked");
    await page.click("#remember");
    eq(await stored(), "kept-key", "the key is stored once 'remember' is ticked");
    await page.reload({ waitUntil: "load" });
    eq(await page.$eval("#key", (e) => e.value), "kept-key", "a stored key is filled in on the next visit");
    check(await page.$eval("#remember", (e) => e.checked), "'remember' stays ticked");
    await page.click("#remember");
    eq(await stored(), null, "unticking 'remember' forgets the key");
    checkClean();
  } finally {
    await page.close();
  }
}

// ------------------------------------------------------------------ run

// ctest must never hang: past this, everything is killed.
const watchdog = setTimeout(() => {
  console.log("FAIL page_test: timed out");
  browser?.process()?.kill("SIGKILL");
  server.stop().catch(() => {});
  process.exit(1);
}, 120_000);
watchdog.unref();

try {
  await launch();
  await runCases([
    ["page: live microphone with an API key", liveMicrophone],
    ["page: wrong API key", wrongKey],
    ["page: file upload, txt/srt/vtt downloads", upload],
    ["page: bad file upload", badUpload],
    ["page: remembered API key", rememberKey],
  ]);
} catch (e) {
  console.log(`FAIL page_test setup\n${e.stack ?? e}`);
  process.exitCode = 1;
} finally {
  if (browser) {
    const proc = browser.process();
    await within(browser.close(), 5000, () => "browser.close").catch(() => {});
    proc?.kill("SIGKILL");
  }
  try {
    await server.stop();
  } catch (e) {
    console.log(`FAIL server exit\n${e.message}`);
    process.exitCode = 1;
  }
  clearTimeout(watchdog);
}
