// Package cmaftest holds test helpers for the packaging packages: it
// turns an MPEG-TS recording (as ffmpeg writes it) into media tracks and
// units, and feeds them into a hub in real time or faster. It starts no
// goroutines of its own; Feed blocks its caller.
package cmaftest
