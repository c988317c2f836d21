// The official SDKs, unchanged, against `voxtral-rt serve`: Mistral's realtime transcription
// (three encodings, two resampled), Mistral's uploads (complete and its event stream) and OpenAI's
// uploads. Every transcript must equal `voxtral-rt transcribe` of the same samples. Then the
// realtime endpoint's hardening, driven with `ws` (the WebSocket client the Mistral SDK uses).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Mistral } from "@mistralai/mistralai";
import { AudioEncoding, RealtimeTranscription } from "@mistralai/mistralai/extra/realtime";
import { RealtimeTranscriptionException, RealtimeTranscriptionWSError } from "@mistralai/mistralai/extra/realtime/errors.js";
import OpenAI, { toFile } from "openai";
import WebSocket from "ws";
import {
  REALTIME_MODEL, check, clip, eq, linearResample, makeModel, offline, readWav, runCases, startServer, tempDir, writeWav,
} from "./common.mjs";

const KEY = "sdk-test-key";
const CLIP = clip("librispeech_dev-clean_8297-275156-0000.wav"); // 3.6 s, 16 kHz s16 mono
const dir = tempDir();
const model = makeModel(dir);
const server = await startServer(model, ["--api-key", KEY]);

// G.711 mu-law (ITU-T G.711, the classic Sun reference algorithm), written here from the standard.
function linearToUlaw(v) {
  let s = v;
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  s = Math.min(s, 32635) + 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}
function ulawToLinear(u) {
  const b = ~u & 0xff;
  const t = (((b & 0x0f) << 3) + 0x84) << ((b >> 4) & 7);
  return b & 0x80 ? 0x84 - t : t - 0x84;
}

// The clip's samples, and variants at other rates and encodings, each with the WAV of exactly the
// samples that go on the wire (its offline transcript is the expected value).
const src = readWav(CLIP);
check(src.rate === 16000 && src.channels === 1 && src.format === "s16", "the test clip is 16 kHz s16 mono");
const s16 = new Int16Array(src.data.buffer.slice(src.data.byteOffset, src.data.byteOffset + src.data.length));

const f32At22k = linearResample(Float32Array.from(s16, (v) => v / 32768), 16000, 22050); // any signal will do
writeWav(join(dir, "f32_22050.wav"), f32At22k, 22050);
const mulaw = new Uint8Array(s16.length / 2);
const mulawExpanded = new Int16Array(mulaw.length);
for (let i = 0; i < mulaw.length; ++i) {
  mulaw[i] = linearToUlaw(Math.round((s16[2 * i] + s16[2 * i + 1]) / 2)); // 8 kHz by averaging pairs
  mulawExpanded[i] = ulawToLinear(mulaw[i]);
}
writeWav(join(dir, "mulaw_8000_expanded.wav"), mulawExpanded, 8000);

const expected = {
  clip: offline(model, CLIP),
  f32: offline(model, join(dir, "f32_22050.wav")),
  mulaw: offline(model, join(dir, "mulaw_8000_expanded.wav")),
};
for (const [k, v] of Object.entries(expected)) check(v.text.trim().length > 0, `offline transcript of ${k} is not empty`);

async function* chunks(bytes, size) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

// One realtime session through RealtimeTranscription.transcribeStream; returns its events.
async function realtime(bytes, audioFormat, { apiKey = KEY, modelId = REALTIME_MODEL, chunk = 4096 } = {}) {
  const client = new RealtimeTranscription({ apiKey, serverURL: server.url, timeoutMs: 20000 });
  const events = [];
  for await (const ev of client.transcribeStream(chunks(bytes, chunk), modelId, { audioFormat })) events.push(ev);
  return events;
}

function checkRealtime(events, want, what) {
  const unknown = events.filter((e) => "raw" in e);
  eq(unknown.length, 0, `${what}: every event passes the SDK's schemas (${JSON.stringify(unknown[0] ?? null)})`);
  eq(events[0].type, "session.created", `${what}: first event`);
  const done = events.find((e) => e.type === "transcription.done");
  check(done, `${what}: transcription.done arrives (${JSON.stringify(events.map((e) => e.type))})`);
  eq(done.text, want.text, `${what}: transcription.done text equals the offline transcript`);
  const deltas = events.filter((e) => e.type === "transcription.text.delta").map((e) => e.text).join("");
  eq(deltas, want.text, `${what}: the deltas add up to the offline transcript`);
  const segs = events.filter((e) => e.type === "transcription.segment");
  eq(JSON.stringify(segs.map((s) => [s.text, s.start, s.end])),
     JSON.stringify(want.segments.map((s) => [s.text, s.start, s.end])), `${what}: live segments equal the offline segments`);
  eq(done.model, REALTIME_MODEL, `${what}: done names the model`);
  eq(done.usage.promptAudioSeconds, Math.ceil(want.stats.audio_s), `${what}: usage.prompt_audio_seconds`);
}

const bytesOf = (typed) => new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);

// A raw WebSocket to the realtime endpoint; `next()` resolves with the next JSON event.
async function rawSession(query = `?model=${REALTIME_MODEL}`, headers = { Authorization: `Bearer ${KEY}` }) {
  const ws = new WebSocket(`${server.url.replace("http", "ws")}/v1/audio/transcriptions/realtime${query}`, { headers });
  const queue = [];
  const waiters = [];
  let closed = null;
  ws.on("message", (d) => {
    const ev = JSON.parse(d.toString());
    const w = waiters.shift();
    w ? w(ev) : queue.push(ev);
  });
  ws.on("close", (code) => {
    closed = code;
    for (const w of waiters.splice(0)) w({ type: "closed", code });
  });
  await new Promise((resolve, reject) => {
    ws.on("open", resolve);
    ws.on("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on("error", reject);
  });
  return {
    ws,
    send: (obj) => ws.send(typeof obj === "string" ? obj : JSON.stringify(obj)),
    next: () => (queue.length ? Promise.resolve(queue.shift()) : closed !== null ? Promise.resolve({ type: "closed", code: closed })
      : new Promise((r) => waiters.push(r))),
    closedCode: () => new Promise((r) => (closed !== null ? r(closed) : ws.on("close", (c) => r(c)))),
  };
}

async function expectError(session, code, what) {
  const ev = await session.next();
  eq(ev.type, "error", `${what}: an error event (got ${JSON.stringify(ev)})`);
  eq(ev.error.code, code, `${what}: error code`);
  check(typeof ev.error.message === "string" && ev.error.message.length > 0, `${what}: an error message`);
}

async function health() {
  const r = await fetch(`${server.url}/health`);
  eq(r.status, 200, "the server stays healthy");
}

try {
  await runCases([
    ["mistral realtime pcm_s16le 16 kHz", async () => {
      const ev = await realtime(src.data, { encoding: AudioEncoding.PcmS16le, sampleRate: 16000 });
      checkRealtime(ev, expected.clip, "s16le");
      eq(ev[1].type, "session.updated", "session.update is answered");
      eq(ev[1].session.audioFormat.encoding, "pcm_s16le", "session.updated echoes the format");
    }],
    ["mistral realtime pcm_f32le 22.05 kHz (resampled)", async () => {
      checkRealtime(await realtime(bytesOf(f32At22k), { encoding: AudioEncoding.PcmF32le, sampleRate: 22050 }, { chunk: 3000 }),
                    expected.f32, "f32le");
    }],
    ["mistral realtime pcm_mulaw 8 kHz (resampled)", async () => {
      checkRealtime(await realtime(mulaw, { encoding: AudioEncoding.PcmMulaw, sampleRate: 8000 }, { chunk: 800 }),
                    expected.mulaw, "mulaw");
    }],
    ["mistral realtime: wrong key and unknown model", async () => {
      let err = null;
      try {
        await realtime(src.data, undefined, { apiKey: "wrong" });
      } catch (e) {
        err = e;
      }
      check(err instanceof RealtimeTranscriptionException, `a wrong key fails the handshake (${err})`);
      err = null;
      try {
        await realtime(src.data.subarray(0, 3200), undefined, { modelId: "whisper-1" });
      } catch (e) {
        err = e;
      }
      // The error comes in place of session.created: the SDK throws it from the handshake.
      check(err instanceof RealtimeTranscriptionWSError && err.code === 404 && /not served/.test(err.message),
            `unknown model: error 404 (${err})`);
    }],
    ["mistral upload: audio.transcriptions.complete", async () => {
      const mistral = new Mistral({ apiKey: KEY, serverURL: server.url });
      const file = { fileName: "clip.wav", content: readFileSync(CLIP) };
      const r = await mistral.audio.transcriptions.complete({ model: REALTIME_MODEL, file, timestampGranularities: ["segment"] });
      eq(r.text, expected.clip.text, "text");
      eq(r.model, REALTIME_MODEL, "model");
      eq(r.language, null, "language");
      eq(JSON.stringify(r.segments.map((s) => [s.text, s.start, s.end])),
         JSON.stringify(expected.clip.segments.map((s) => [s.text, s.start, s.end])), "segments");
      eq(r.usage.promptAudioSeconds, 4, "usage.prompt_audio_seconds (3.58 s rounded up)");
      eq(r.usage.completionTokens, expected.clip.stats.generated_tokens, "usage.completion_tokens");
      const words = await mistral.audio.transcriptions.complete({ model: REALTIME_MODEL, file, timestampGranularities: ["word"] });
      eq(JSON.stringify(words.segments.map((s) => [s.text, s.start, s.end])),
         JSON.stringify(expected.clip.words.map((s) => [s.text, s.start, s.end])), "word chunks");
      const none = await mistral.audio.transcriptions.complete({ model: REALTIME_MODEL, file });
      eq(none.segments.length, 0, "no timestamps unless asked for");
      let err = null;
      try {
        await mistral.audio.transcriptions.complete({ model: REALTIME_MODEL, file, diarize: true });
      } catch (e) {
        err = e;
      }
      check(err && err.statusCode === 400 && /speakers/.test(err.body), `diarize=true is refused with 400 (${err})`);
    }],
    ["mistral upload: audio.transcriptions.stream", async () => {
      const mistral = new Mistral({ apiKey: KEY, serverURL: server.url });
      const stream = await mistral.audio.transcriptions.stream({
        model: REALTIME_MODEL, file: { fileName: "clip.wav", content: readFileSync(CLIP) }, timestampGranularities: ["segment"],
      });
      const events = [];
      for await (const ev of stream) events.push(ev);
      const bad = events.filter((e) => e.data.isUnknown);
      eq(bad.length, 0, `every event passes the SDK's schemas (${JSON.stringify(bad[0] ?? null)})`);
      const deltas = events.filter((e) => e.event === "transcription.text.delta").map((e) => e.data.text).join("");
      eq(deltas, expected.clip.text, "deltas add up to the offline transcript");
      eq(events.filter((e) => e.event === "transcription.segment").length, expected.clip.segments.length, "segment events");
      const done = events.at(-1);
      eq(done.event, "transcription.done", "the stream ends with transcription.done");
      eq(done.data.text, expected.clip.text, "done text");
    }],
    ["openai upload: audio.transcriptions.create", async () => {
      const openai = new OpenAI({ apiKey: KEY, baseURL: `${server.url}/v1`, maxRetries: 0 });
      const file = () => toFile(readFileSync(CLIP), "clip.wav");
      const r = await openai.audio.transcriptions.create({ file: await file(), model: REALTIME_MODEL });
      eq(r.text, expected.clip.text, "json text");
      const v = await openai.audio.transcriptions.create({
        file: await file(), model: REALTIME_MODEL, response_format: "verbose_json", timestamp_granularities: ["word"],
      });
      eq(JSON.stringify(v.words.map((w) => [w.word, w.start, w.end])),
         JSON.stringify(expected.clip.words.map((w) => [w.text, w.start, w.end])), "verbose_json words");
      check(!("segments" in v), "only words were asked for");
      const srt = await openai.audio.transcriptions.create({ file: await file(), model: REALTIME_MODEL, response_format: "srt" });
      eq(srt, offline(model, CLIP, "srt"), "srt equals the CLI's");
      const stream = await openai.audio.transcriptions.create({ file: await file(), model: REALTIME_MODEL, stream: true });
      let deltas = "";
      let done = null;
      for await (const ev of stream) {
        if (ev.type === "transcript.text.delta") deltas += ev.delta;
        if (ev.type === "transcript.text.done") done = ev;
      }
      eq(deltas, expected.clip.text, "streamed deltas");
      eq(done?.text, expected.clip.text, "transcript.text.done");
      let err = null;
      try {
        await new OpenAI({ apiKey: "wrong", baseURL: `${server.url}/v1`, maxRetries: 0 }).audio.transcriptions.create({
          file: await file(), model: REALTIME_MODEL });
      } catch (e) {
        err = e;
      }
      check(err instanceof OpenAI.AuthenticationError, `a wrong key is a 401 (${err})`);
    }],
    ["realtime hardening (raw ws)", async () => {
      // Bad events get an error event and the session goes on.
      let s = await rawSession();
      eq((await s.next()).type, "session.created", "session.created first");
      for (const [frame, code, what] of [
        ["not json", 400, "not JSON"],
        [{ type: "input_audio.commit" }, 400, "unknown event"],
        [{ audio: "AAAA" }, 400, "no type"],
        [{ type: "input_audio.append", audio: "%%%%" }, 400, "bad base64"],
        [{ type: "input_audio.append", audio: "AAA" }, 400, "unpadded base64"],
        [{ type: "input_audio.append" }, 400, "no audio"],
        [{ type: "session.update", session: { audio_format: { encoding: "pcm_s24le", sample_rate: 16000 } } }, 422, "unknown encoding"],
        [{ type: "session.update", session: { audio_format: { encoding: "pcm_s16le", sample_rate: 1000000 } } }, 422, "rate too high"],
        [{ type: "session.update", session: { audio_format: { encoding: "pcm_s16le", sample_rate: 16000.5 } } }, 400, "rate not an integer"],
        [{ type: "session.update", session: { target_streaming_delay_ms: 100 } }, 422, "delay not a multiple of 80"],
      ]) {
        s.send(frame);
        await expectError(s, code, what);
      }
      s.ws.send(Buffer.from([1, 2, 3]));  // binary
      await expectError(s, 400, "binary frame");
      // The session still works: audio, end, done, close 1000.
      s.send({ type: "input_audio.append", audio: Buffer.from(src.data).toString("base64") });
      s.send({ type: "input_audio.end" });
      s.send({ type: "input_audio.append", audio: Buffer.from(src.data.subarray(0, 320)).toString("base64") });
      // Text of the audio before it may come first (the server computes while it reads).
      const isText = (e) => e.type === "transcription.text.delta" || e.type === "transcription.segment";
      let ev;
      do ev = await s.next(); while (isText(ev));
      eq(ev.type, "error", `append after input_audio.end: an error event (got ${JSON.stringify(ev)})`);
      eq(ev.error.code, 400, "append after input_audio.end: error code");
      do ev = await s.next(); while (isText(ev));
      eq(ev.type, "transcription.done", "done after the errors");
      eq(ev.text, expected.clip.text, "the transcript is unharmed by the bad events");
      eq(await s.closedCode(), 1000, "closed normally after done");

      // Audio in the middle of a session changes nothing: session.update after audio is refused.
      s = await rawSession();
      await s.next();
      s.send({ type: "input_audio.append", audio: Buffer.from(src.data.subarray(0, 3200)).toString("base64") });
      s.send({ type: "session.update", session: { audio_format: { encoding: "pcm_f32le", sample_rate: 16000 } } });
      await expectError(s, 400, "session.update after audio");
      s.ws.terminate();  // disconnect mid-stream

      // An oversize frame closes with 1009; a missing model is refused at the upgrade.
      s = await rawSession();
      await s.next();
      s.send({ type: "input_audio.append", audio: "A".repeat(2 << 20) });
      // The server sends close 1009 at once; then Boost.Beast 1.74's teardown stops draining after
      // its first wait (teardown_tcp_op's bytes_transferred == 0 check) and closes the socket
      // while this frame is still arriving, so the kernel may reset the connection and drop the
      // close frame before Node reads it (1006). docs/HARDENING.md.
      const code = await s.closedCode();
      check(code === 1009 || code === 1006, `a frame over the message limit closes 1009 (or 1006 after a reset), got ${code}`);
      let refused = null;
      try {
        await rawSession("");
      } catch (e) {
        refused = e.message;
      }
      eq(refused, "HTTP 400", "no ?model= is a 400 at the upgrade");
      try {
        await rawSession(`?model=${REALTIME_MODEL}`, {});
        refused = null;
      } catch (e) {
        refused = e.message;
      }
      eq(refused, "HTTP 401", "no key is a 401 at the upgrade");
      await health();
    }],
  ]);
} finally {
  await server.stop();
}
