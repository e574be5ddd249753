// id3.js: a small reader of the ID3v2 tags carried as HLS timed metadata
// (what PutMetadata inserts, as hls.js hands them over in
// FRAG_PARSING_METADATA). An ES module with no dependencies.

// Limits: a cue is small (IVS caps PutMetadata at 1 KiB); anything past
// these is ignored, not parsed.
const MAX_ID3_BYTES = 64 * 1024;
const MAX_ID3_FRAMES = 32;

// parseID3 reads the text-bearing frames (TXXX, T***, PRIV, WXXX) of the
// ID3v2.3/2.4 tags in data. It never throws; malformed input yields fewer
// frames.
export function parseID3(data) {
  const frames = [];
  if (!(data instanceof Uint8Array)) return frames;
  let off = 0;
  const end = Math.min(data.length, MAX_ID3_BYTES);
  const syncsafe = (o) => ((data[o] & 0x7f) << 21) | ((data[o + 1] & 0x7f) << 14) | ((data[o + 2] & 0x7f) << 7) | (data[o + 3] & 0x7f);
  while (off + 10 <= end && data[off] === 0x49 && data[off + 1] === 0x44 && data[off + 2] === 0x33) {
    const major = data[off + 3];
    const flags = data[off + 5];
    const tagEnd = Math.min(end, off + 10 + syncsafe(off + 6));
    let p = off + 10;
    if (flags & 0x40 && p + 4 <= tagEnd) {
      // Extended header: its size counts itself in v2.4, not in v2.3.
      p += major >= 4 ? syncsafe(p) : 4 + u32(data, p);
    }
    while (p + 10 <= tagEnd && frames.length < MAX_ID3_FRAMES && data[p] !== 0) {
      const id = String.fromCharCode(data[p], data[p + 1], data[p + 2], data[p + 3]);
      const size = major >= 4 ? syncsafe(p + 4) : u32(data, p + 4);
      if (size > tagEnd - p - 10) break;
      const f = readFrame(id, data.subarray(p + 10, p + 10 + size));
      if (f) frames.push(f);
      p += 10 + size;
    }
    off = tagEnd + (major >= 4 && flags & 0x10 ? 10 : 0); // v2.4 footer
  }
  return frames;
}

function u32(data, o) {
  return ((data[o] << 24) | (data[o + 1] << 16) | (data[o + 2] << 8) | data[o + 3]) >>> 0;
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
