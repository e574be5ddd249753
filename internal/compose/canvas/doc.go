// Package canvas draws decoded participant video into the composition
// canvas: planar yuv420p frames, a bilinear scaler that honours the IVS fill
// modes (COVER crops, CONTAIN letterboxes, FILL stretches), and a reader for
// the YUV4MPEG2 stream the per-participant decoders write. Everything here
// is pure Go on byte slices; it allocates only when a frame size changes.
package canvas
