// Package hls renders HLS playlists from segstore snapshots: LL-HLS media
// playlists (EXT-X-PART, EXT-X-PRELOAD-HINT, blocking-reload server
// control), plain HLS media playlists and the multivariant playlist. It
// also names the files a rendition playlist refers to and parses those
// names back (ParseName), so the origin and the playlists agree.
//
// File names, relative to the rendition playlist
// (<channel>/<rendition>/playlist.m3u8):
//
//	init-<epoch>-<gen>.mp4          init segment generation gen (fMP4)
//	seg-<epoch>-<msn>.m4s|.ts       media segment msn
//	part-<epoch>-<msn>-<idx>.m4s|.ts  part idx of segment msn
//
// The epoch is the stream's random token (segstore.Channel.Epoch), so a
// new stream never reuses a URI that caches may hold as immutable.
//
// Rendering is pure (no goroutines, no I/O); functions append to a byte
// slice so callers can cache the result per snapshot.
package hls
