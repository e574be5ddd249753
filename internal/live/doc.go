// Package live runs one live stream session per channel: it admits
// publishers (it is the ingest.Sink every protocol server hands its
// connections to), owns the session's hub, starts the session's pipeline
// (packagers, transcoder, recorder: built by the caller through a
// PipelineFactory), keeps the stream session record and the stream state
// the ivs API reports (it is the channels.LiveState), and emits "IVS Stream
// State Change" events.
//
// Lifecycle of a session: Publish with a valid stream key creates it
// (Session Created, Stream Start); the publisher's units flow into the hub;
// when the publisher goes away the session waits for the reconnect window:
// a publisher of the same channel with compatible tracks that comes back in
// time continues the same session (same stream id, same hub) and its first
// units carry Discontinuity, with timestamps shifted to continue where the
// previous publisher stopped. When the window passes, StopStream is called,
// or the node shuts down, the session ends (Stream End), its hub closes and
// its pipeline is closed.
//
// Manager.Run owns the window timers and the periodic stats; sessions never
// call out while holding the manager's lock.
package live
