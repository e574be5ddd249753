// Package loadgen drives stages with in-process pion participants: a WHIP
// and events-WebSocket client (Client, Peer, Events) used by the tests and
// by `stagecast bench stage`, and the stage benchmark itself (Run), which
// publishes synthetic 720p-like video and measures what subscribers get.
//
// The synthetic video is NOT decodable: payloads are random bytes behind a
// correct VP8 payload descriptor (key frame every 2 s, marker on the last
// packet of a frame, 90 kHz timestamps at 30 fps), with the sender's clock
// (unix nanoseconds) and a frame number embedded at a fixed offset so the
// subscribers can measure latency. It exercises forwarding, not decoding.
package loadgen
