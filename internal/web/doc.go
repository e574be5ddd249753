// Package web serves the pages embedded in the binary: the stage app
// (/stage: join a stage with a participant token, publish camera and
// microphone over WHIP, watch the other participants), the low-latency
// player (/playback and /playback/<channelId>, hls.js in low-latency mode
// with live latency, renditions and timed metadata), a small index at /,
// and their static assets under /static/, among them the reusable ES
// module /static/stagecast-stage.js and the vendored hls.js.
//
// The pages are plain HTML and ES modules: there is no build step, at
// build time or at run time. They talk to the server only through the
// public protocols (the WHIP endpoint and the stage events WebSocket named
// in a participant token, and the channel's playback URL), so they work
// unchanged when copied to another origin.
//
// Mount registers the routes on a ServeMux. The handlers keep no state
// beyond the embedded files and start no goroutines; every request is
// answered from memory. HTML pages are sent with Cache-Control: no-cache,
// assets with a strong ETag (a hash of their content) and a short max-age,
// and the vendored files, whose names carry their version, as immutable.
package web
