// Package mediatest makes test media with ffmpeg for the packaging
// packages' tests (cmaf, origin): it runs child processes, so it lives
// under testutil, and imports nothing of the server so that those packages'
// internal tests can use it without an import cycle.
package mediatest
