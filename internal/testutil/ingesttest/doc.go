// Package ingesttest holds what the ingest protocol servers' tests share:
// a recording ingest.Sink, a searchable log buffer, ffmpeg publishers and
// checks of the units a server produced. It is imported by tests only.
package ingesttest
