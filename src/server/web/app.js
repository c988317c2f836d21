// voxtral-rt's page. Live: the microphone over Mistral's realtime transcription protocol
// (WebSocket /v1/audio/transcriptions/realtime). File: POST /v1/audio/transcriptions.
// Plain JS, no dependencies; everything it loads or connects to is this server.

const MODEL = "voxtral-mini-transcribe-realtime-2602";
const KEY_STORE = "voxtral-rt.api-key";
// A browser sends the key as a WebSocket subprotocol, which must be an HTTP token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SEND_EVERY_S = 0.1;      // audio goes out about ten times a second
const MAX_SEND_SAMPLES = 16384; // 64 KiB of float32 per message (the server takes up to 256 KiB)

const $ = (id) => document.getElementById(id);
const ui = {
  key: $("key"), remember: $("remember"),
  start: $("start"), stop: $("stop"), level: $("level"), clock: $("clock"), lag: $("lag"),
  liveStatus: $("live-status"), liveText: $("live-text"),
  recording: $("recording"), playback: $("playback"), save: $("save-recording"),
  drop: $("drop"), file: $("file"), fileStatus: $("file-status"), fileText: $("file-text"),
  downloads: $("file-downloads"), dlTxt: $("dl-txt"), dlSrt: $("dl-srt"), dlVtt: $("dl-vtt"),
};

function setStatus(el, state, message) {
  el.dataset.state = state;
  el.textContent = message;
}

function endpoint(path) {
  return new URL(path, location.href);
}

// ---------------------------------------------------------------- API key

function apiKey() {
  return ui.key.value.trim();
}

function storeKey() {
  try {
    if (ui.remember.checked) localStorage.setItem(KEY_STORE, ui.key.value);
    else localStorage.removeItem(KEY_STORE);
  } catch {
    // storage disabled: the key lives in the field only
  }
}

try {
  const saved = localStorage.getItem(KEY_STORE);
  if (saved !== null) {
    ui.key.value = saved;
    ui.remember.checked = true;
  }
} catch {
  // no storage
}
ui.key.addEventListener("input", storeKey);
$("key-form").addEventListener("submit", (e) => e.preventDefault());
ui.remember.addEventListener("change", storeKey);

// ---------------------------------------------------------------- helpers

function base64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// A mono 32-bit float WAV of the chunks (Float32Arrays).
function wavFloat32(chunks, samples, rate) {
  const h = new DataView(new ArrayBuffer(44));
  const put = (off, s) => [...s].forEach((c, i) => h.setUint8(off + i, c.charCodeAt(0)));
  put(0, "RIFF");
  h.setUint32(4, 36 + samples * 4, true);
  put(8, "WAVEfmt ");
  h.setUint32(16, 16, true);
  h.setUint16(20, 3, true);  // IEEE float
  h.setUint16(22, 1, true);
  h.setUint32(24, rate, true);
  h.setUint32(28, rate * 4, true);
  h.setUint16(32, 4, true);
  h.setUint16(34, 32, true);
  put(36, "data");
  h.setUint32(40, samples * 4, true);
  return new Blob([h, ...chunks], { type: "audio/wav" });
}

function saveBlob(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

function stamp() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

// The server's error reply ({"error":{"message"}}) or the status line.
function httpError(res, body) {
  try {
    const m = JSON.parse(body).error.message;
    if (m) return `${m} (HTTP ${res.status})`;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status} ${res.statusText}`.trim();
}

// ---------------------------------------------------------------- live microphone

let live = null;
let recordingURL = null;

class LiveSession {
  constructor(key) {
    this.key = key;
    this.ctx = null;
    this.mic = null;
    this.nodes = [];
    this.ws = null;
    this.rate = 0;
    this.pending = [];
    this.pendingSamples = 0;
    this.recorded = [];      // every sample sent, for "Save recording"
    this.sentSamples = 0;
    this.decidedS = null;    // voxtral_rt.progress: audio whose text is decided
    this.ready = false;      // session.updated received: audio may go out
    this.stopping = false;   // Stop pressed: no more capture
    this.over = false;       // done, failed or aborted
    this.created = null;     // {resolve, reject} while waiting for session.created
    this.offered = false;    // the recording is on offer
  }

  async start() {
    ui.start.disabled = true;
    ui.stop.disabled = false;
    ui.liveText.textContent = "";
    ui.recording.hidden = true;
    ui.clock.textContent = "0.0 s";
    ui.lag.textContent = "lag –";
    setStatus(ui.liveStatus, "connecting", "Connecting…");
    try {
      this.ctx = new AudioContext();  // the device's rate; the server resamples
    } catch (e) {
      return this.fail(`Cannot start audio: ${e.message}`);
    }
    this.rate = this.ctx.sampleRate;
    const [sock, mic] = await Promise.allSettled([
      this.connect(),
      navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      }),
    ]);
    if (mic.status === "fulfilled") this.mic = mic.value;
    if (this.over) return this.release();
    if (sock.status === "rejected") return this.fail(sock.reason.message);
    if (mic.status === "rejected") return this.fail(micError(mic.reason));
    try {
      try {
        await this.capture();
      } catch (e) {
        // Older Firefox cannot connect a microphone whose rate differs from the context's
        // (NotSupportedError): then the context runs at the microphone's rate.
        const micRate = this.mic && this.mic.getAudioTracks()[0]?.getSettings().sampleRate;
        if (e.name !== "NotSupportedError" || !micRate || this.over) throw e;
        this.ctx.close().catch(() => {});
        this.ctx = new AudioContext({ sampleRate: micRate });
        this.rate = this.ctx.sampleRate;
        await this.capture();
      }
    } catch (e) {
      if (!this.over) this.fail(`Cannot capture audio: ${e.message}`);
      return;
    }
    if (this.over) return;
    this.send({ type: "session.update", session: { audio_format: { encoding: "pcm_f32le", sample_rate: Math.round(this.rate) } } });
  }

  // microphone -> worklet (chunks to onAudio) -> muted gain -> output (which keeps it pulled).
  async capture() {
    await this.ctx.audioWorklet.addModule("capture-worklet.js");
    if (this.over) return;
    const source = this.ctx.createMediaStreamSource(this.mic);
    const capture = new AudioWorkletNode(this.ctx, "vrt-capture", {
      numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: "explicit",
    });
    const mute = this.ctx.createGain();
    mute.gain.value = 0;
    this.nodes = [source, capture, mute];
    capture.port.onmessage = (e) => this.onAudio(e.data);
    source.connect(capture).connect(mute).connect(this.ctx.destination);
    if (this.ctx.state !== "running") await this.ctx.resume();
  }

  // Resolves on session.created; rejects with a readable reason when the socket fails first.
  connect() {
    const url = endpoint(`v1/audio/transcriptions/realtime?model=${encodeURIComponent(MODEL)}`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const protocols = this.key ? ["voxtral-rt", `voxtral-rt.key.${this.key}`] : ["voxtral-rt"];
    return new Promise((resolve, reject) => {
      this.created = { resolve, reject };
      try {
        this.ws = new WebSocket(url, protocols);
      } catch (e) {
        this.created = null;
        return reject(new Error(`Cannot open the connection: ${e.message}`));
      }
      this.ws.onmessage = (e) => this.onMessage(e.data);
      this.ws.onclose = (e) => this.onClose(e);
      this.ws.onerror = () => {};  // onclose follows and says more
    });
  }

  send(event) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(event));
  }

  onAudio(chunk) {
    if (this.stopping || this.over) return;
    this.pending.push(chunk);
    this.pendingSamples += chunk.length;
    if (this.ready && this.pendingSamples >= this.rate * SEND_EVERY_S) this.sendPending();
  }

  sendPending() {
    if (!this.pendingSamples || !this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    const all = new Float32Array(this.pendingSamples);
    let off = 0;
    for (const c of this.pending) {
      all.set(c, off);
      off += c.length;
    }
    this.pending = [];
    this.pendingSamples = 0;
    let peak = 0;
    for (let i = 0; i < all.length; i += 4) peak = Math.max(peak, Math.abs(all[i]));
    for (let i = 0; i < all.length; i += MAX_SEND_SAMPLES) {
      const part = all.subarray(i, i + MAX_SEND_SAMPLES);
      this.send({ type: "input_audio.append", audio: base64(new Uint8Array(part.buffer, part.byteOffset, part.byteLength)) });
    }
    this.recorded.push(all);
    this.sentSamples += all.length;
    ui.level.value = Math.min(1, Math.sqrt(peak));
    ui.clock.textContent = `${(this.sentSamples / this.rate).toFixed(1)} s`;
    this.showLag();
  }

  showLag() {
    if (this.decidedS === null) return;
    const lag = Math.max(0, this.sentSamples / this.rate - this.decidedS);
    ui.lag.textContent = `lag ${lag.toFixed(2)} s`;
  }

  onMessage(data) {
    let ev;
    try {
      ev = JSON.parse(data);
    } catch {
      return;
    }
    switch (ev.type) {
      case "session.created":
        if (this.created) this.created.resolve();
        this.created = null;
        break;
      case "session.updated":
        if (this.ready || this.over) break;
        this.ready = true;
        setStatus(ui.liveStatus, "live", "Live: speak now.");
        this.sendPending();
        break;
      case "transcription.text.delta":
        if (typeof ev.text === "string" && ev.text) {
          ui.liveText.append(ev.text);
          ui.liveText.scrollTop = ui.liveText.scrollHeight;
        }
        break;
      case "voxtral_rt.progress":
        if (typeof ev.audio_s === "number") {
          this.decidedS = ev.audio_s;
          this.showLag();
        }
        break;
      case "transcription.done":
        ui.liveText.textContent = typeof ev.text === "string" ? ev.text : ui.liveText.textContent;
        this.over = true;
        setStatus(ui.liveStatus, "done", `Done: ${(this.sentSamples / this.rate).toFixed(1)} s of audio.`);
        this.release();
        break;
      case "error": {
        const m = (ev.error && ev.error.message) || "unknown error";
        if (this.created) {
          this.created.reject(new Error(`Server error: ${m}`));
          this.created = null;
        } else {
          setStatus(ui.liveStatus, "error", `Server error: ${m}`);
        }
        break;
      }
      default:
        break;  // transcription.segment and anything newer: not shown
    }
  }

  async onClose(e) {
    this.ws = null;
    if (this.created) {
      const reject = this.created.reject;
      this.created = null;
      reject(new Error(await this.diagnose()));
      return;
    }
    if (this.over) return this.release();
    const why = e.reason ? `: ${e.reason}` : "";
    this.fail(e.code === 1000 ? `The server ended the session${why}.` : `Connection lost (code ${e.code}${why}).`);
  }

  // A browser sees a refused WebSocket handshake only as a failure: ask the server why.
  async diagnose() {
    try {
      const res = await fetch(endpoint("v1/models"), { headers: this.key ? { Authorization: `Bearer ${this.key}` } : {} });
      if (res.status === 401)
        return this.key ? "The server refused this API key." : "This server needs an API key: enter it above.";
      if (res.ok) return "The server refused the live connection (it may be busy: try again).";
      return `The server refused the live connection (HTTP ${res.status}).`;
    } catch {
      return "Cannot reach the server.";
    }
  }

  // Stop pressed: no more capture; what was captured goes out, then the server finishes.
  stop() {
    if (this.stopping || this.over) return;
    this.stopping = true;
    ui.stop.disabled = true;
    this.releaseAudio();
    if (!this.ready) {
      this.over = true;
      setStatus(ui.liveStatus, "idle", "Stopped.");
      return this.release();
    }
    this.sendPending();
    this.send({ type: "input_audio.flush" });
    this.send({ type: "input_audio.end" });
    setStatus(ui.liveStatus, "finishing", "Finishing…");
  }

  fail(message) {
    const wasOver = this.over;
    this.over = true;
    setStatus(ui.liveStatus, "error", message);
    if (!wasOver && this.ws) this.ws.close(1000);
    this.release();
  }

  releaseAudio() {
    for (const n of this.nodes) {
      if (n.port) {
        n.port.postMessage("stop");
        n.port.onmessage = null;
      }
      n.disconnect();
    }
    this.nodes = [];
    if (this.mic) for (const t of this.mic.getTracks()) t.stop();
    this.mic = null;
    if (this.ctx && this.ctx.state !== "closed") this.ctx.close().catch(() => {});
    this.ctx = null;
    ui.level.value = 0;
  }

  // The session is over (or never started): free everything, offer the recording.
  release() {
    this.releaseAudio();
    if (this.ws && this.over && !this.ready) this.ws.close(1000);
    if (live === this) live = null;
    ui.start.disabled = false;
    ui.stop.disabled = true;
    if (this.sentSamples && !this.offered) {
      this.offered = true;
      if (recordingURL) URL.revokeObjectURL(recordingURL);
      recordingURL = URL.createObjectURL(wavFloat32(this.recorded, this.sentSamples, Math.round(this.rate)));
      ui.save.href = recordingURL;
      ui.save.download = `recording-${stamp()}.wav`;
      ui.playback.src = recordingURL;
      ui.recording.hidden = false;
    }
  }
}

function micError(e) {
  if (e && e.name === "NotAllowedError") return "Microphone access was denied: allow it for this page and try again.";
  if (e && e.name === "NotFoundError") return "No microphone found.";
  return `Cannot use the microphone: ${(e && e.message) || e}`;
}

ui.start.addEventListener("click", () => {
  if (live) return;
  const key = apiKey();
  if (key && !TOKEN.test(key)) {
    setStatus(ui.liveStatus, "error",
      "This API key cannot be used for live transcription: a browser sends it as a WebSocket subprotocol, " +
      "which allows only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~");
    return;
  }
  if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    setStatus(ui.liveStatus, "error",
      `The browser offers the microphone to secure pages only, and ${location.origin} is not one. ` +
      "Open the page as http://localhost:PORT or http://127.0.0.1:PORT (an SSH tunnel does that for a remote server), " +
      "or serve it over https (TLS in front of the server).");
    return;
  }
  if (typeof AudioWorkletNode === "undefined") {
    setStatus(ui.liveStatus, "error", "This browser lacks AudioWorklet, which live capture needs.");
    return;
  }
  live = new LiveSession(key);
  live.start().catch((e) => live && live.fail(`Unexpected error: ${e.message}`));
});

ui.stop.addEventListener("click", () => {
  if (live) live.stop();
});

// ---------------------------------------------------------------- file upload

let job = null;  // {file, text, formats: {srt: Promise<Blob>, ...}}
let jobSeq = 0;

function postFile(file, format) {
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("model", MODEL);
  form.append("response_format", format);
  const key = apiKey();
  return fetch(endpoint("v1/audio/transcriptions"), {
    method: "POST",
    body: form,
    headers: key ? { Authorization: `Bearer ${key}` } : {},
  });
}

async function transcribeFile(file) {
  const seq = ++jobSeq;
  job = null;
  ui.fileText.hidden = true;
  ui.downloads.hidden = true;
  if (!/^[\x21-\x7e]*$/.test(apiKey())) {
    setStatus(ui.fileStatus, "error", "The API key may contain only visible ASCII characters.");
    return;
  }
  setStatus(ui.fileStatus, "connecting", `Transcribing ${file.name}…`);
  try {
    const res = await postFile(file, "verbose_json");
    const body = await res.text();
    if (seq !== jobSeq) return;
    if (!res.ok) throw new Error(httpError(res, body));
    const reply = JSON.parse(body);
    job = { file, text: String(reply.text ?? ""), formats: {} };
    ui.fileText.textContent = job.text;
    ui.fileText.hidden = false;
    ui.downloads.hidden = false;
    const dur = typeof reply.duration === "number" ? `, ${reply.duration.toFixed(1)} s of audio` : "";
    setStatus(ui.fileStatus, "done", `Done: ${file.name}${dur}.`);
  } catch (e) {
    if (seq !== jobSeq) return;
    setStatus(ui.fileStatus, "error", e instanceof TypeError ? `Cannot reach the server: ${e.message}` : e.message);
  }
}

function baseName(file) {
  return file.name.replace(/\.[^.]*$/, "") || "transcript";
}

ui.dlTxt.addEventListener("click", () => {
  if (!job) return;
  saveBlob(new Blob([job.text.replace(/^\s+/, "") + "\n"], { type: "text/plain" }), `${baseName(job.file)}.txt`);
});

// Subtitles are the server's own formatting, fetched once per file on first use.
async function downloadSubtitles(format, button) {
  const j = job;
  if (!j) return;
  if (!j.formats[format]) {
    j.formats[format] = (async () => {
      const res = await postFile(j.file, format);
      const bytes = await res.arrayBuffer();
      if (!res.ok) throw new Error(httpError(res, new TextDecoder().decode(bytes)));
      return new Blob([bytes], { type: format === "srt" ? "application/x-subrip" : "text/vtt" });
    })();
    j.formats[format].catch(() => delete j.formats[format]);  // a failure may be retried
  }
  button.disabled = true;
  try {
    const blob = await j.formats[format];
    if (j === job) saveBlob(blob, `${baseName(j.file)}.${format}`);
  } catch (e) {
    if (j === job) setStatus(ui.fileStatus, "error", `Cannot make the .${format}: ${e.message}`);
  } finally {
    button.disabled = false;
  }
}
ui.dlSrt.addEventListener("click", () => downloadSubtitles("srt", ui.dlSrt));
ui.dlVtt.addEventListener("click", () => downloadSubtitles("vtt", ui.dlVtt));

ui.file.addEventListener("change", () => {
  const f = ui.file.files && ui.file.files[0];
  if (f) transcribeFile(f);
  ui.file.value = "";
});

// Drag and drop onto the file box; a drop elsewhere must not navigate away from the page.
for (const type of ["dragenter", "dragover"])
  ui.drop.addEventListener(type, (e) => {
    e.preventDefault();
    ui.drop.classList.add("over");
  });
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
ui.drop.addEventListener("drop", (e) => {
  e.preventDefault();
  ui.drop.classList.remove("over");
  const f = e.dataTransfer && e.dataTransfer.files[0];
  if (f) transcribeFile(f);
});
window.addEventListener("dragover", (e) => e.preventDefault());
window.addEventListener("drop", (e) => e.preventDefault());

setStatus(ui.liveStatus, "idle", "Ready.");
