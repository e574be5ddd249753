// Package cmdrun runs one short-lived command for an event rule's exec
// target: argv (no shell), the event on stdin, combined output captured up
// to MaxOutputBytes, and a deadline from the caller's context.
//
// It lives under internal/transcode because that is the only tree allowed
// to start child processes; it shares nothing with the ffmpeg supervisor.
//
// Run blocks until the process has exited and been waited for. The child
// runs in its own process group; when ctx ends the group gets SIGTERM,
// then SIGKILL after Grace, so a shell's children die with it.
package cmdrun
