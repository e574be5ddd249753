// Package origin is the HTTP delivery of live channels: the multivariant
// playlist at a channel's IVS-form playback URL, rendition playlists
// (LL-HLS with blocking reloads for LOW latency channels, plain HLS for
// NORMAL), init segments, segments and parts from the segstore.
//
// URLs (mounted under PathPrefix, "/api/video/v1/"):
//
//	<region>.<account>.channel.<id>.m3u8                      multivariant
//	<region>.<account>.channel.<id>/<rendition>/playlist.m3u8  rendition playlist
//	<region>.<account>.channel.<id>/<rendition>/<file>         init, segment or part (see package hls)
//
// Playlists refer to their children by relative URIs; a ?token= given on
// a playlist is appended to every URI in it, so private channels play in
// unmodified players. Every request of a channel goes through the
// Authorizer (when set); an error is a 403 with a short reason.
//
// Blocking reloads (_HLS_msn, _HLS_part) and requests for the hinted
// next part wait on the rendition's snapshot channel and give up when the
// client goes away (request context) or after Options.BlockTimeout (503).
// A request more than two segments, or more than three parts, beyond the
// live edge is a 400, as the LL-HLS spec asks.
//
// Caching: playlists max-age=1; blocking playlist responses (keyed by
// their query) max-age=60; init, segments and parts are immutable (their
// names carry the stream's epoch). CORS is open.
//
// Viewers counts distinct viewers per channel (token, or client IP and
// User-Agent) seen on playlist requests within Options.ViewerWindow.
//
// The package starts no goroutines; handlers block only on the waits
// above.
package origin
