// Package mix sums the participants' decoded audio on the composition's
// output clock. Each input is s16le 48 kHz stereo PCM written whenever its
// decoder produces it; Mix pulls one frame (20 ms) from every input on the
// output clock. An input starts contributing once it has buffered the
// prebuffer (jitter absorption); an input that runs dry contributes silence
// and primes again; an input that runs ahead is trimmed to the maximum
// latency, oldest samples first. The sum goes through a limiter (gain
// reduction ramped across the frame, slow release) and a final clamp, so it
// never wraps around.
package mix
