// stagecast-stage.js: join a Stagecast stage from a browser.
//
// A plain ES module with no dependencies; it uses only standard APIs
// (RTCPeerConnection, fetch, WebSocket, getUserMedia), so it runs in any
// current browser. Everything it needs is in the participant token: the
// stage id (topic), the participant id (jti), the WHIP endpoint (whip_url),
// the stage events WebSocket (events_url) and the capabilities.
//
//   import { joinStage, participantLabel } from "/static/stagecast-stage.js";
//
//   const stage = await joinStage({
//     token,                                   // a participant token (required)
//     onLocalStream(stream) { preview.srcObject = stream; },
//     onParticipantJoined(p) { ... },          // p: participant object, see below
//     onStream(p, stream) { video.srcObject = stream; },  // p's media arrived
//     onStreamRemoved(p) { ... },              // p stopped publishing
//     onParticipantUpdated(p) { ... },         // mute state or attributes changed
//     onParticipantLeft(p, reason) { ... },
//     onDisconnected(reason) { ... },          // the stage ended for us
//     onError(err) { ... },                    // a non-fatal problem (a failed subscribe)
//     // publish, subscribe (booleans), localStream, media (getUserMedia
//     // constraints), iceServers, simulcast (send three video layers)
//   });
//   stage.setMuted("audio", true);
//   await stage.leave();
//
// joinStage resolves once the events socket is open, our media is
// published (when the token can publish and options.publish is not false)
// and subscriptions to the participants already publishing are started.
// A token without the publish capability watches only.
//
// A participant object is the server's, as sent on the events socket:
//   { participantId, userId, attributes, published, audioMuted, videoMuted,
//     tracks: [{kind, codec}], joinedAt }

const ICE_GATHER_TIMEOUT_MS = 3000;
const SUBSCRIBE_RETRIES = 5;
const SUBSCRIBE_RETRY_MS = 500;
const RECONNECT_TRIES = 5;
const RECONNECT_MS = 500;
// Simulcast layers (options.simulcast): full, half and quarter size; the
// SFU sends each subscriber the best layer its bandwidth allows. Browsers
// drop the layers a small capture cannot fill.
const SIMULCAST_ENCODINGS = [
  { rid: "f", maxBitrate: 1500000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500000 },
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150000 },
];

/**
 * Decodes a participant token's claims (without verifying the signature;
 * the server does that). Throws on a token that is not a JWT.
 * @param {string} token
 */
export function decodeToken(token) {
  const parts = String(token || "").trim().split(".");
  if (parts.length !== 3) throw new Error("not a participant token (expected a JWT)");
  let claims;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch (e) {
    throw new Error("not a participant token (bad payload)");
  }
  const caps = claims.capabilities || {};
  return {
    participantId: claims.jti,
    stageArn: claims.resource,
    stageId: claims.topic,
    whipUrl: claims.whip_url,
    eventsUrl: claims.events_url,
    userId: claims.user_id || "",
    attributes: claims.attributes || {},
    canPublish: !!caps.allow_publish,
    canSubscribe: !!caps.allow_subscribe,
    expiresAt: claims.exp ? new Date(claims.exp * 1000) : null,
  };
}

/**
 * The name to show for a participant: its "userId" attribute (as the IVS
 * sample app sets it), else its user id, else its "username" attribute,
 * else its participant id.
 */
export function participantLabel(p) {
  const a = (p && p.attributes) || {};
  return a.userId || (p && p.userId) || a.username || (p && p.participantId) || "";
}

/** StageError carries the HTTP status and error code of a failed request. */
export class StageError extends Error {
  constructor(message, status = 0, code = "") {
    super(message);
    this.name = "StageError";
    this.status = status;
    this.code = code;
  }
}

/**
 * Joins the stage a participant token names. See the top of this file.
 * @returns {Promise<Stage>}
 */
export async function joinStage(options) {
  const stage = new Stage(options);
  try {
    await stage._join();
  } catch (e) {
    await stage.leave();
    throw e;
  }
  return stage;
}

/** Stage is one joined participant's view of a stage. */
export class Stage {
  constructor(options) {
    if (!options || !options.token) throw new Error("joinStage: a token is required");
    this.options = options;
    this.token = String(options.token).trim();
    this.claims = decodeToken(this.token);
    /** This participant, as the server knows it (set on join). */
    this.self = null;
    /** The other participants by participant id. */
    this.participants = new Map();
    /** The published camera and microphone stream, or null. */
    this.localStream = null;
    this.state = "new"; // new, joined, left
    this._ws = null;
    this._publisher = null; // {pc, location}
    this._subs = new Map(); // participantId -> {pc, location, stream, closed}
    this._resubscribes = new Map(); // participantId -> resubscriptions after a failure
    this._muted = { audio: false, video: false };
    this._ownStream = false;
  }

  _emit(name, ...args) {
    const f = this.options[name];
    if (typeof f !== "function") return;
    try {
      f(...args);
    } catch (e) {
      console.error(`stagecast: ${name} handler threw`, e);
    }
  }

  async _join() {
    const c = this.claims;
    if (!c.stageId || !c.eventsUrl || !c.whipUrl) throw new Error("participant token lacks stage endpoints");
    if (c.expiresAt && c.expiresAt.getTime() < Date.now()) throw new Error("participant token has expired");
    const snapshot = await this._connectEvents();
    this.self = snapshot.self || { participantId: c.participantId, userId: c.userId, attributes: c.attributes };
    this.state = "joined";
    for (const p of snapshot.participants || []) {
      if (p.participantId !== this.self.participantId) this._add(p);
    }
    const publish = this.options.publish ?? c.canPublish;
    if (publish) await this._publish();
    for (const p of this.participants.values()) {
      if (p.published) this._subscribe(p);
    }
  }

  // _connectEvents opens the events socket and resolves with its first
  // message, the snapshot.
  _connectEvents() {
    const url = this.claims.eventsUrl.replace(/\/$/, "") + "/" + encodeURIComponent(this.claims.stageId);
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(url, [this.token]);
      } catch (e) {
        reject(new StageError("events socket: " + e.message));
        return;
      }
      this._ws = ws;
      let settled = false;
      ws.onmessage = (ev) => {
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch (e) {
          return;
        }
        if (!settled) {
          if (msg.type === "snapshot") {
            settled = true;
            resolve(msg);
          } else if (msg.type === "disconnected") {
            settled = true;
            const e = new StageError("disconnected: " + (msg.reason || ""));
            e.reason = msg.reason || "disconnected";
            reject(e);
          }
          return;
        }
        this._onEvent(msg);
      };
      ws.onclose = (ev) => {
        if (!settled) {
          settled = true;
          reject(new StageError(`events socket refused (code ${ev.code}); the token may be invalid, expired or revoked`, 401));
          return;
        }
        if (this.state === "joined" && this._ws === ws) this._reconnect(0);
      };
    });
  }

  // _reconnect opens the events socket again after it dropped (the media
  // keeps flowing meanwhile) and catches up from the new snapshot; after
  // RECONNECT_TRIES failures, or when the server says we are disconnected,
  // the stage ends.
  async _reconnect(attempt) {
    this._ws = null;
    await sleep(RECONNECT_MS * (attempt + 1));
    if (this.state !== "joined") return;
    let snapshot;
    try {
      snapshot = await this._connectEvents();
    } catch (e) {
      if (this.state !== "joined") return;
      if (!e.reason && attempt + 1 < RECONNECT_TRIES) return this._reconnect(attempt + 1);
      this._ended(e.reason || "connection to the stage lost");
      return;
    }
    if (this.state !== "joined") return;
    if (snapshot.self) this.self = snapshot.self;
    const present = new Set();
    for (const p of snapshot.participants || []) {
      if (p.participantId === this.self.participantId) continue;
      present.add(p.participantId);
      this._add(p);
      if (p.published) this._subscribe(p);
      else this._unsubscribe(p.participantId, true);
    }
    for (const p of [...this.participants.values()]) {
      if (!present.has(p.participantId)) this._remove(p, "left");
    }
    for (const kind of ["audio", "video"]) {
      if (this._muted[kind]) this.setMuted(kind, true);
    }
  }

  _onEvent(msg) {
    const p = msg.participant;
    const isSelf = p && this.self && p.participantId === this.self.participantId;
    switch (msg.type) {
      case "participant_joined":
        if (!isSelf) this._add(p);
        break;
      case "participant_published":
        if (isSelf) break;
        this._add(p);
        this._subscribe(this.participants.get(p.participantId));
        break;
      case "participant_unpublished":
        if (isSelf) break;
        this._add(p);
        this._unsubscribe(p.participantId, true);
        break;
      case "participant_updated":
        if (isSelf) {
          this.self = p;
          break;
        }
        this._add(p);
        break;
      case "participant_left":
        if (isSelf) break;
        this._remove(p, msg.reason || "");
        break;
      case "disconnected":
        this._ended(msg.reason || "disconnected");
        break;
    }
  }

  // _add records a participant and reports it as joined or updated.
  _add(p) {
    const known = this.participants.has(p.participantId);
    this.participants.set(p.participantId, p);
    this._emit(known ? "onParticipantUpdated" : "onParticipantJoined", p);
  }

  _remove(p, reason) {
    this._unsubscribe(p.participantId, false);
    const known = this.participants.get(p.participantId);
    this.participants.delete(p.participantId);
    this._resubscribes.delete(p.participantId);
    this._emit("onParticipantLeft", known || p, reason);
  }

  async _publish() {
    let stream = this.options.localStream;
    if (!stream) {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw new Error("camera access needs a secure context (https or localhost)");
      }
      stream = await navigator.mediaDevices.getUserMedia(this.options.media || { audio: true, video: { width: 1280, height: 720 } });
      this._ownStream = true;
    }
    this.localStream = stream;
    for (const t of stream.getTracks()) t.enabled = !this._muted[t.kind];
    this._emit("onLocalStream", stream);
    await this._sendMedia(0);
  }

  // _sendMedia publishes the local stream over a new WHIP session; when
  // its media path fails it starts another, up to SUBSCRIBE_RETRIES times.
  async _sendMedia(attempt) {
    const stream = this.localStream;
    const pc = this._newPeerConnection();
    for (const track of stream.getTracks()) {
      const init = { direction: "sendonly", streams: [stream] };
      if (track.kind === "video" && this.options.simulcast) init.sendEncodings = SIMULCAST_ENCODINGS;
      pc.addTransceiver(track, init);
    }
    const pub = { pc, location: null };
    this._publisher = pub;
    pc.onconnectionstatechange = () => {
      if (pc.connectionState !== "failed" || this.state !== "joined" || this._publisher !== pub) return;
      this._delete(pub.location);
      pc.close();
      if (attempt >= SUBSCRIBE_RETRIES) {
        this._publisher = null;
        this._emit("onError", new StageError("publishing failed: the media connection was lost"));
        return;
      }
      this._sendMedia(attempt + 1).catch((e) => this._emit("onError", e));
    };
    pub.location = await this._whip(pc, this.claims.whipUrl);
  }

  _subscribe(p) {
    if (!p || this.state !== "joined" || this._subs.has(p.participantId)) return;
    if (!this.claims.canSubscribe || this.options.subscribe === false) return;
    const sub = { pc: null, location: null, stream: new MediaStream(), closed: false, announced: false };
    this._subs.set(p.participantId, sub);
    const url = this.claims.whipUrl.replace(/\/$/, "") + "/subscribe/" + encodeURIComponent(p.participantId);
    const attempt = async (n) => {
      if (sub.closed) return;
      const pc = this._newPeerConnection();
      sub.pc = pc;
      const kinds = p.tracks && p.tracks.length ? [...new Set(p.tracks.map((t) => t.kind))] : ["audio", "video"];
      for (const kind of kinds) pc.addTransceiver(kind, { direction: "recvonly" });
      pc.onconnectionstatechange = () => {
        // A lost media path (network change, server restart): subscribe
        // again while the participant still publishes.
        if (pc.connectionState !== "failed" || sub.closed || sub.pc !== pc) return;
        this._unsubscribe(p.participantId, true);
        const now = this.participants.get(p.participantId);
        const tries = (this._resubscribes.get(p.participantId) || 0) + 1;
        this._resubscribes.set(p.participantId, tries);
        if (now && now.published && tries <= SUBSCRIBE_RETRIES) this._subscribe(now);
        else this._emit("onError", new StageError(`lost ${participantLabel(p)}'s media`));
      };
      pc.ontrack = (ev) => {
        if (sub.closed) return;
        sub.stream.addTrack(ev.track);
        if (!sub.announced) {
          sub.announced = true;
          this._emit("onStream", this.participants.get(p.participantId) || p, sub.stream);
        }
      };
      try {
        sub.location = await this._whip(pc, url);
      } catch (e) {
        pc.close();
        // The publisher's tracks can appear a moment after its event.
        if (!sub.closed && n < SUBSCRIBE_RETRIES && (e.status === 404 || e.status === 0 || e.status >= 500)) {
          await sleep(SUBSCRIBE_RETRY_MS * (n + 1));
          return attempt(n + 1);
        }
        if (!sub.closed) {
          this._subs.delete(p.participantId);
          this._emit("onError", new StageError(`subscribe to ${participantLabel(p)}: ${e.message}`, e.status, e.code));
        }
        return;
      }
      if (sub.closed) {
        this._delete(sub.location);
        pc.close();
      }
    };
    attempt(0);
  }

  _unsubscribe(participantId, announce) {
    const sub = this._subs.get(participantId);
    if (!sub) return;
    this._subs.delete(participantId);
    sub.closed = true;
    if (sub.location) this._delete(sub.location);
    if (sub.pc) sub.pc.close();
    for (const t of sub.stream.getTracks()) t.stop();
    if (announce) this._emit("onStreamRemoved", this.participants.get(participantId) || { participantId });
  }

  _newPeerConnection() {
    return new RTCPeerConnection({ iceServers: this.options.iceServers || [], bundlePolicy: "max-bundle" });
  }

  // _whip sends pc's offer (with every ICE candidate: no trickle) to url and
  // applies the answer; it returns the session's resource URL.
  async _whip(pc, url) {
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    let resp;
    try {
      resp = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/sdp", Authorization: "Bearer " + this.token },
        body: pc.localDescription.sdp,
      });
    } catch (e) {
      throw new StageError("WHIP request failed: " + e.message, 0);
    }
    const body = await resp.text();
    if (resp.status !== 201 && resp.status !== 200) {
      let code = "", message = body;
      try {
        const j = JSON.parse(body);
        code = j.error || "";
        message = j.message || j.error || body;
      } catch (e) {
        // not JSON: keep the text
      }
      throw new StageError(`WHIP ${resp.status}: ${message}`, resp.status, code);
    }
    const loc = resp.headers.get("Location");
    await pc.setRemoteDescription({ type: "answer", sdp: body });
    return loc ? new URL(loc, url).toString() : null;
  }

  _delete(location) {
    if (!location) return;
    fetch(location, { method: "DELETE", headers: { Authorization: "Bearer " + this.token }, keepalive: true }).catch(() => {});
  }

  /** Whether our audio or video ("audio" | "video") is muted. */
  isMuted(kind) {
    return !!this._muted[kind];
  }

  /**
   * Mutes or unmutes our audio or video: the track keeps flowing (silence
   * or black frames) and the others are told through the events socket.
   */
  setMuted(kind, muted) {
    if (kind !== "audio" && kind !== "video") throw new Error('kind must be "audio" or "video"');
    this._muted[kind] = !!muted;
    if (this.localStream) {
      for (const t of this.localStream.getTracks()) if (t.kind === kind) t.enabled = !muted;
    }
    if (this._ws && this._ws.readyState === WebSocket.OPEN) {
      this._ws.send(JSON.stringify({ type: "mute", kind, muted: !!muted }));
    }
  }

  /** The RTCPeerConnection receiving a participant's media, if any. */
  peerConnectionFor(participantId) {
    const sub = this._subs.get(participantId);
    return sub ? sub.pc : null;
  }

  /** The RTCPeerConnection publishing our media, if any. */
  get publisherConnection() {
    return this._publisher ? this._publisher.pc : null;
  }

  _ended(reason) {
    if (this.state !== "joined") return;
    this._teardown();
    this._emit("onDisconnected", reason);
  }

  _teardown() {
    this.state = "left";
    for (const id of [...this._subs.keys()]) this._unsubscribe(id, false);
    if (this._publisher) {
      this._delete(this._publisher.location);
      this._publisher.pc.close();
      this._publisher = null;
    }
    if (this.localStream && this._ownStream) {
      for (const t of this.localStream.getTracks()) t.stop();
    }
    if (this._ws) {
      this._ws.onclose = null;
      this._ws.onmessage = null;
      try {
        this._ws.close(1000, "leave");
      } catch (e) {
        // already closed
      }
      this._ws = null;
    }
  }

  /** Leaves the stage: ends every WHIP session and closes the socket. */
  async leave() {
    if (this.state === "left") return;
    this._teardown();
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// iceGathered resolves when pc has gathered its candidates, or after
// ICE_GATHER_TIMEOUT_MS with what it has (host candidates come first).
function iceGathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, ICE_GATHER_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}
