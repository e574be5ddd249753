// The /stage page: paste a participant token, Join Stage, see everyone.
// All stage logic is in stagecast-stage.js; this file only draws tiles.
// window.stagecast.stage is the joined Stage (for debugging and tests).
import { joinStage, participantLabel, decodeToken } from "./stagecast-stage.js";

const $ = (id) => document.getElementById(id);
const tokenInput = $("token");
const joinBtn = $("join");
const leaveBtn = $("leave");
const muteAudioBtn = $("mute-audio");
const muteVideoBtn = $("mute-video");
const statusEl = $("status");
const tiles = $("tiles");

window.stagecast = { stage: null };
let stage = null;

// A token can come in the fragment (#token=..., never sent to a server) or
// the query string.
const initial = new URLSearchParams(location.hash.slice(1)).get("token") || new URLSearchParams(location.search).get("token");
if (initial) tokenInput.value = initial;
// ?simulcast=1 publishes three video layers.
const simulcast = new URLSearchParams(location.search).get("simulcast") === "1";

function setStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle("error", isError);
}

function tileFor(id, label, local) {
  let tile = tiles.querySelector(`.tile[data-participant-id="${CSS.escape(id)}"]`);
  if (!tile) {
    tile = document.createElement("div");
    tile.className = "tile " + (local ? "local" : "remote");
    tile.dataset.participantId = id;
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.muted = local; // never play our own microphone back
    const name = document.createElement("span");
    name.className = "label";
    const flags = document.createElement("span");
    flags.className = "flags";
    tile.append(video, name, flags);
    if (local) tiles.prepend(tile);
    else tiles.append(tile);
  }
  tile.querySelector(".label").textContent = label;
  return tile;
}

function removeTile(id) {
  const tile = tiles.querySelector(`.tile[data-participant-id="${CSS.escape(id)}"]`);
  if (!tile) return;
  const video = tile.querySelector("video");
  video.srcObject = null;
  tile.remove();
}

function showFlags(p) {
  const tile = tiles.querySelector(`.tile[data-participant-id="${CSS.escape(p.participantId)}"]`);
  if (!tile) return;
  const flags = [];
  if (p.audioMuted) flags.push("muted");
  if (p.videoMuted) flags.push("video off");
  tile.querySelector(".flags").textContent = flags.join(" · ");
}

function play(video, stream) {
  video.srcObject = stream;
  video.play().catch(() => {
    // Autoplay with sound was refused: play muted, unmute on a click.
    video.muted = true;
    video.play().catch(() => {});
    setStatus("Click anywhere to hear the other participants.");
    document.addEventListener("click", () => { video.muted = false; }, { once: true });
  });
}

function countText() {
  const n = stage ? stage.participants.size : 0;
  return `Joined as ${participantLabel(stage.self)}; ${n} other participant${n === 1 ? "" : "s"}.`;
}

function setJoined(joined) {
  joinBtn.disabled = joined;
  tokenInput.disabled = joined;
  leaveBtn.disabled = !joined;
  const publishing = joined && stage && stage.localStream;
  muteAudioBtn.disabled = !publishing;
  muteVideoBtn.disabled = !publishing;
}

async function join() {
  const token = tokenInput.value.trim();
  if (!token) {
    setStatus("Paste a participant token first.", true);
    return;
  }
  let claims;
  try {
    claims = decodeToken(token);
  } catch (e) {
    setStatus(e.message, true);
    return;
  }
  joinBtn.disabled = true;
  setStatus(claims.canPublish ? "Joining: allow the camera and microphone..." : "Joining to watch...");
  try {
    stage = await joinStage({
      token,
      simulcast: simulcast,
      onLocalStream(stream) {
        const self = { participantId: claims.participantId, userId: claims.userId, attributes: claims.attributes };
        const tile = tileFor(claims.participantId, participantLabel(self) + " (you)", true);
        play(tile.querySelector("video"), stream);
      },
      onParticipantJoined(p) {
        if (p.published && claims.canSubscribe) tileFor(p.participantId, participantLabel(p), false);
        showFlags(p);
        if (stage) setStatus(countText());
      },
      onParticipantUpdated(p) {
        if (p.published && claims.canSubscribe) tileFor(p.participantId, participantLabel(p), false);
        showFlags(p);
      },
      onStream(p, stream) {
        const tile = tileFor(p.participantId, participantLabel(p), false);
        play(tile.querySelector("video"), stream);
        showFlags(p);
      },
      onStreamRemoved(p) {
        removeTile(p.participantId);
      },
      onParticipantLeft(p) {
        removeTile(p.participantId);
        if (stage) setStatus(countText());
      },
      onDisconnected(reason) {
        setStatus("Left the stage: " + reason, true);
        cleanup();
      },
      onError(err) {
        console.warn("stagecast:", err);
        setStatus(err.message, true);
      },
    });
  } catch (e) {
    stage = null;
    setStatus("Could not join: " + e.message, true);
    cleanup();
    return;
  }
  window.stagecast.stage = stage;
  setJoined(true);
  setStatus(countText() + (stage.localStream ? "" : " Watching only."));
}

function cleanup() {
  for (const tile of [...tiles.querySelectorAll(".tile")]) removeTile(tile.dataset.participantId);
  stage = null;
  window.stagecast.stage = null;
  setJoined(false);
  updateMuteButtons();
}

async function leave() {
  if (stage) await stage.leave();
  cleanup();
  setStatus("Left the stage.");
}

function updateMuteButtons() {
  const a = !!(stage && stage.isMuted("audio"));
  const v = !!(stage && stage.isMuted("video"));
  muteAudioBtn.textContent = a ? "Unmute audio" : "Mute audio";
  muteAudioBtn.setAttribute("aria-pressed", String(a));
  muteVideoBtn.textContent = v ? "Start video" : "Stop video";
  muteVideoBtn.setAttribute("aria-pressed", String(v));
}

joinBtn.addEventListener("click", join);
leaveBtn.addEventListener("click", leave);
muteAudioBtn.addEventListener("click", () => {
  if (!stage) return;
  stage.setMuted("audio", !stage.isMuted("audio"));
  updateMuteButtons();
});
muteVideoBtn.addEventListener("click", () => {
  if (!stage) return;
  stage.setMuted("video", !stage.isMuted("video"));
  updateMuteButtons();
});
window.addEventListener("pagehide", () => {
  if (stage) stage.leave();
});
