// The /playback page: hls.js in low-latency mode with live latency, the
// current rendition, a rendition picker and the timed metadata (ID3) cues.
// The URL comes from the input, ?url=, or the server (/playback/<channel>,
// ?channel=) through <meta name="stagecast-playback-url">.
// window.stagecastPlayer exposes {hls, video, stats(), cues} for debugging
// and tests.

const $ = (id) => document.getElementById(id);
const urlInput = $("url");
const playBtn = $("play");
const stopBtn = $("stop");
const levelsSel = $("levels");
const statusEl = $("status");
const video = $("video");
const metaList = $("metadata");

// Limits of the ID3 reader: a cue is small (IVS caps PutMetadata at 1 KiB);
// anything past these is ignored, not parsed.
const MAX_ID3_BYTES = 64 * 1024;
const MAX_ID3_FRAMES = 32;
const MAX_CUES_SHOWN = 200;
const RETRY_MS = 2000;

const state = { hls: null, cues: [], retry: null, url: "" };
window.stagecastPlayer = {
  get hls() { return state.hls; },
  video,
  cues: state.cues,
  stats,
};

const fromServer = document.querySelector('meta[name="stagecast-playback-url"]')?.content || "";
const fromQuery = new URLSearchParams(location.search).get("url") || "";
urlInput.value = fromQuery || fromServer;

function setStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle("error", isError);
}

/** stats returns what the page shows, as numbers (seconds) and strings. */
function stats() {
  const hls = state.hls;
  const out = { latency: null, pdtLatency: null, level: -1, rendition: "", buffer: null, playing: !video.paused };
  if (video.buffered.length) out.buffer = video.buffered.end(video.buffered.length - 1) - video.currentTime;
  if (!hls) return out;
  if (hls.latency > 0) out.latency = hls.latency;
  const when = hls.playingDate;
  if (when instanceof Date && !isNaN(when.getTime()) && when.getTime() > 0) {
    out.pdtLatency = (Date.now() - when.getTime()) / 1000;
  }
  out.level = hls.currentLevel;
  const l = hls.levels && hls.levels[hls.currentLevel];
  if (l) out.rendition = renditionName(l);
  return out;
}

function renditionName(l) {
  const size = l.height ? `${l.height}p` : l.name || "audio";
  const rate = l.bitrate ? ` ${(l.bitrate / 1e6).toFixed(2)} Mbit/s` : "";
  return size + rate;
}

function showStats() {
  const s = stats();
  $("latency").textContent = s.latency != null ? `${s.latency.toFixed(2)} s` + (state.hls && state.hls.targetLatency ? ` (target ${state.hls.targetLatency.toFixed(1)} s)` : "") : "–";
  $("pdt-latency").textContent = s.pdtLatency != null ? `${s.pdtLatency.toFixed(2)} s` : "–";
  $("rendition").textContent = s.rendition || "–";
  $("buffer").textContent = s.buffer != null ? `${s.buffer.toFixed(2)} s` : "–";
}
setInterval(showStats, 500);

function fillLevels(levels) {
  levelsSel.replaceChildren(new Option("Auto", "-1"));
  levels.forEach((l, i) => levelsSel.add(new Option(renditionName(l), String(i))));
  levelsSel.disabled = levels.length < 2;
}

function play() {
  const url = urlInput.value.trim();
  if (!url) {
    setStatus("Enter a playback URL.", true);
    return;
  }
  stop();
  state.url = url;
  stopBtn.disabled = false;
  if (window.Hls && window.Hls.isSupported()) {
    startHls(url);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = url; // Safari plays HLS natively
    video.play().catch(() => {});
    setStatus("Playing with the browser's own HLS player.");
  } else {
    setStatus("This browser cannot play HLS.", true);
  }
}

function startHls(url) {
  const Hls = window.Hls;
  const hls = new Hls({ lowLatencyMode: true, backBufferLength: 30, liveDurationInfinity: true });
  state.hls = hls;
  setStatus("Loading...");
  hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
    fillLevels(data.levels);
    video.play().catch(() => {});
    setStatus("Playing.");
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, () => showStats());
  hls.on(Hls.Events.FRAG_PARSING_METADATA, (_, data) => {
    for (const sample of data.samples || []) addCue(sample);
  });
  hls.on(Hls.Events.ERROR, (_, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      hls.recoverMediaError();
      return;
    }
    // The channel is offline or the network failed: try again, as a
    // viewer waiting for a stream to start would want.
    setStatus(`Not playing (${data.details}); retrying...`, true);
    stop(true);
    state.retry = setTimeout(() => startHls(url), RETRY_MS);
  });
  hls.loadSource(url);
  hls.attachMedia(video);
}

function stop(keepUrl = false) {
  clearTimeout(state.retry);
  state.retry = null;
  if (state.hls) {
    state.hls.destroy();
    state.hls = null;
  }
  if (!keepUrl) {
    video.removeAttribute("src");
    video.load();
    stopBtn.disabled = true;
    levelsSel.disabled = true;
  }
}

function addCue(sample) {
  const frames = parseID3(sample.data);
  const text = frames.length ? frames.map((f) => (f.key ? `${f.id} ${f.key}: ${f.value}` : `${f.id}: ${f.value}`)).join("; ") : `${sample.data.length} bytes`;
  const cue = { pts: sample.pts, frames, text, receivedAt: Date.now() };
  state.cues.push(cue);
  if (state.cues.length > MAX_CUES_SHOWN) state.cues.shift();
  const li = document.createElement("li");
  li.className = "cue";
  li.textContent = `${typeof sample.pts === "number" ? sample.pts.toFixed(2) : "?"} s  ${text}`;
  metaList.prepend(li);
  while (metaList.children.length > MAX_CUES_SHOWN) metaList.lastChild.remove();
}

// parseID3 reads the text-bearing frames (TXXX, T***, PRIV, WXXX) of the
// ID3v2.3/2.4 tags in data. It never throws; malformed input yields fewer
// frames.
function parseID3(data) {
  const frames = [];
  if (!(data instanceof Uint8Array)) return frames;
  let off = 0;
  const end = Math.min(data.length, MAX_ID3_BYTES);
  const syncsafe = (o) => ((data[o] & 0x7f) << 21) | ((data[o + 1] & 0x7f) << 14) | ((data[o + 2] & 0x7f) << 7) | (data[o + 3] & 0x7f);
  while (off + 10 <= end && data[off] === 0x49 && data[off + 1] === 0x44 && data[off + 2] === 0x33) {
    const major = data[off + 3];
    const tagEnd = Math.min(end, off + 10 + syncsafe(off + 6));
    let p = off + 10;
    while (p + 10 <= tagEnd && frames.length < MAX_ID3_FRAMES && data[p] !== 0) {
      const id = String.fromCharCode(data[p], data[p + 1], data[p + 2], data[p + 3]);
      const size = major >= 4 ? syncsafe(p + 4) : (data[p + 4] << 24) | (data[p + 5] << 16) | (data[p + 6] << 8) | data[p + 7];
      const body = data.subarray(p + 10, Math.min(tagEnd, p + 10 + size));
      p += 10 + size;
      const f = readFrame(id, body);
      if (f) frames.push(f);
    }
    off = tagEnd;
  }
  return frames;
}

function decodeText(enc, bytes) {
  const label = enc === 1 ? "utf-16" : enc === 2 ? "utf-16be" : enc === 3 ? "utf-8" : "iso-8859-1";
  return new TextDecoder(label).decode(bytes).replace(/\0+$/, "");
}

function readFrame(id, body) {
  if (body.length === 0) return null;
  if (id === "PRIV") {
    const z = body.indexOf(0);
    const owner = decodeText(0, body.subarray(0, z < 0 ? body.length : z));
    const rest = z < 0 ? new Uint8Array() : body.subarray(z + 1);
    return { id, key: owner, value: decodeText(3, rest) };
  }
  if (id === "TXXX" || id === "WXXX") {
    const enc = body[0];
    const wide = enc === 1 || enc === 2;
    let z = 1;
    while (z < body.length && !(body[z] === 0 && (!wide || (body[z + 1] === 0 && (z - 1) % 2 === 0)))) z++;
    const key = decodeText(enc, body.subarray(1, z));
    const value = decodeText(id === "WXXX" ? 0 : enc, body.subarray(z + (wide ? 2 : 1)));
    return { id, key, value };
  }
  if (id[0] === "T") return { id, key: "", value: decodeText(body[0], body.subarray(1)) };
  return null;
}

playBtn.addEventListener("click", play);
stopBtn.addEventListener("click", () => {
  stop();
  setStatus("Stopped.");
});
levelsSel.addEventListener("change", () => {
  if (state.hls) state.hls.currentLevel = Number(levelsSel.value);
});
urlInput.addEventListener("keydown", (e) => {
  if (e.key === "Enter") play();
});
if (urlInput.value) play();
