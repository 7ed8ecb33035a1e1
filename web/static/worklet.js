// Captures microphone audio in the audio rendering thread and posts it as
// little-endian 16-bit PCM in frames of frameMs (default 100 ms).
class PCMCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const ms = (options.processorOptions && options.processorOptions.frameMs) || 100;
    this.frame = new Int16Array(Math.round((sampleRate * ms) / 1000));
    this.n = 0;
    this.port.onmessage = (e) => {
      if (e.data === "flush" && this.n > 0) {
        this.port.postMessage(this.frame.slice(0, this.n).buffer);
        this.n = 0;
      }
    };
  }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    for (let i = 0; i < ch.length; i++) {
      const v = Math.max(-1, Math.min(1, ch[i]));
      this.frame[this.n++] = v < 0 ? v * 0x8000 : v * 0x7fff;
      if (this.n === this.frame.length) {
        this.port.postMessage(this.frame.slice().buffer);
        this.n = 0;
      }
    }
    return true;
  }
}
registerProcessor("pcm-capture", PCMCapture);
