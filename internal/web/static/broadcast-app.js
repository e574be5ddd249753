// The /broadcast page: publish the camera and microphone to a stage over
// WHIP without subscribing to anyone (for example as a source for a
// server-side composition). window.stagecast.stage is the joined Stage.
import { joinStage, decodeToken } from "./stagecast-stage.js";

const $ = (id) => document.getElementById(id);
const tokenInput = $("token");
const startBtn = $("start");
const stopBtn = $("stop");
const statusEl = $("status");
const preview = $("preview");
window.stagecast = { stage: null };

const initial = new URLSearchParams(location.hash.slice(1)).get("token") || new URLSearchParams(location.search).get("token");
if (initial) tokenInput.value = initial;

function setStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle("error", isError);
}

function reset() {
  window.stagecast.stage = null;
  preview.srcObject = null;
  startBtn.disabled = false;
  tokenInput.disabled = false;
  stopBtn.disabled = true;
}

startBtn.addEventListener("click", async () => {
  const token = tokenInput.value.trim();
  try {
    if (!decodeToken(token).canPublish) throw new Error("this token cannot publish");
  } catch (e) {
    setStatus(e.message, true);
    return;
  }
  startBtn.disabled = true;
  tokenInput.disabled = true;
  setStatus("Starting: allow the camera and microphone...");
  try {
    window.stagecast.stage = await joinStage({
      token,
      publish: true,
      subscribe: false,
      onLocalStream(stream) { preview.srcObject = stream; },
      onDisconnected(reason) { setStatus("Stopped: " + reason, true); reset(); },
      onError(err) { setStatus(err.message, true); },
    });
  } catch (e) {
    setStatus("Could not start: " + e.message, true);
    reset();
    return;
  }
  stopBtn.disabled = false;
  setStatus("Broadcasting.");
});

stopBtn.addEventListener("click", async () => {
  if (window.stagecast.stage) await window.stagecast.stage.leave();
  reset();
  setStatus("Stopped.");
});
window.addEventListener("pagehide", () => window.stagecast.stage && window.stagecast.stage.leave());
