// The /playback page: hls.js in low-latency mode with live latency, the
// current rendition, a rendition picker and the timed metadata (ID3) cues.
// The URL comes from the input, ?url=, or the server (/playback/<channel>,
// ?channel=) through <meta name="stagecast-playback-url">.
// window.stagecastPlayer exposes {hls, video, stats(), cues} for debugging
// and tests.
import { parseID3 } from "./id3.js";

const $ = (id) => document.getElementById(id);
const urlInput = $("url");
const playBtn = $("play");
const stopBtn = $("stop");
const levelsSel = $("levels");
const statusEl = $("status");
const video = $("video");
const metaList = $("metadata");

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
