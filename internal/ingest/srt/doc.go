// Package srt is the SRT ingest server: callers publish MPEG-TS to
// srt://<host>:9000?streamid=<streamKey>&passphrase=<passphrase>, as IVS
// documents. The stream id holds the stream key, plain or in the forms
// "#!::r=<key>,m=publish" and "publish:<key>"; the passphrase is the
// channel's srt.passphrase, which the server fetches with
// Sink.SRTPassphrase during the handshake. Unknown keys, play requests,
// missing, unexpected or wrong encryption are rejected in the handshake
// with an SRT rejection code and one logged line (never the key).
//
// After the handshake the transport stream is demuxed (mediacommon's
// mpegts.Reader) into media.Units: H.264 and H.265 access units as NAL units
// without start codes, AAC frames without ADTS headers; timestamps unwrapped
// from the 33-bit 90 kHz clock (audio rescaled to its sample rate), the
// stream's first timestamp placed at 1 s so none is negative. Units
// are buffered (bounded) until every video track showed its parameter sets
// and a key frame, so the Request passed to Sink.Publish carries SPS/PPS
// and the picture size. SRT has no unpublish message: a caller that closes
// its socket while sending is a clean end (Session.Close(nil)); one that
// went silent until the peer idle timeout is reported as a failure.
//
// Goroutines: Server.Run owns one goroutine per connection request (the
// passphrase lookup happens there, not in the accept loop); an accepted
// connection owns a pump goroutine that moves payloads from gosrt into a
// bounded queue (gosrt drops packets when its own read queue is full, so
// reading never waits for the demuxer or Publish), and a publishing one
// owns another that waits on Session.Done. Run returns after all of them
// exited. gosrt's own goroutines stop when the
// listener closes.
//
// Main types: Server (New, Run), Config; StreamKeyFromStreamID for the
// stream id rules.
package srt
