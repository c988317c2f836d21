// AudioWorklet processor: hands the microphone's first channel to the page, one render quantum
// (128 frames) at a time, as Float32 chunks at the AudioContext's rate.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.running = true;
    this.port.onmessage = (e) => {
      if (e.data === "stop") this.running = false;
    };
  }

  process(inputs) {
    if (!this.running) return false;
    const channel = inputs[0] && inputs[0][0];
    if (channel && channel.length) {
      const copy = new Float32Array(channel);  // the engine reuses its buffers
      this.port.postMessage(copy, [copy.buffer]);
    }
    return true;
  }
}

registerProcessor("vrt-capture", CaptureProcessor);
