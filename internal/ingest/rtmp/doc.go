// Package rtmp is the RTMP and RTMPS ingest server. Publishers connect to
// rtmp://<host>:1935/app/<streamKey> (or rtmps://<host>:4443/app/<streamKey>,
// the same server on a TLS listener); the stream key is the stream name and
// "app" the only application. Each connection is handed to an ingest.Sink,
// which authenticates the key and returns the session media is written to.
//
// Flow per connection: RTMP handshake, connect and publish commands (bounded
// by the handshake timeout); play requests, other application names and
// malformed keys are refused; a key the Sink does not know is refused before
// any media is accepted (Sink.SRTPassphrase answers ErrUnknownStreamKey for
// every protocol); then about two seconds of media are read to learn the
// tracks (gortmplib's analysis), Sink.Publish is called with them, and
// frames are converted to media.Units (H.264/H.265 NAL units without start
// codes, parameter sets from configuration messages prepended to the next
// picture; AV1 temporal units without temporal delimiters; AAC/Opus
// frames, AAC times rebuilt from the frame count because RTMP rounds to
// milliseconds; 90 kHz video and sample-rate audio clocks) and written to
// the session. FCUnpublish/deleteStream is a clean end (Session.Close(nil));
// a dropped or silent connection is reported as a failure; when
// Session.Done fires the connection is closed and Close(nil) reported; a
// parser panic is recovered, logged and reported as a failure.
//
// Goroutines: Server.Run owns one goroutine per connection, and each
// publishing connection owns one more that waits on Session.Done. Run
// returns after all of them exited. Nothing blocks on the Sink beyond the
// Publish and SRTPassphrase calls; Session.Write never blocks.
//
// Main types: Server (New, Run), Config; TLSConfig and
// SelfSignedCertificate for RTMPS; StreamKeyFromPath for the URL rules.
package rtmp
