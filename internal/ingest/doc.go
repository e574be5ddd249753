// Package ingest is the contract between the protocol servers under it
// (ingest/rtmp, ingest/srt, ...) and the live sessions that receive their
// media (package live). A protocol server authenticates nothing itself: it
// hands the stream key it was given to Sink.Publish, which answers with a
// Session to write units into, or an error the server logs and turns into a
// refused connection.
package ingest
