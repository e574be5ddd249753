// Package layout computes where each stage participant is drawn in a
// server-side composition: the IVS grid and picture-in-picture (pip)
// layouts. It is pure: participants and a canvas size in, one rectangle per
// visible participant out, in a deterministic order.
//
// # Grid
//
// Participants are ordered by the numeric value of the
// participantOrderAttribute (when set), then by join order. Every tile has
// the aspect ratio of videoAspectRatio (VIDEO 16:9, SQUARE 1:1, PORTRAIT
// 3:4; AUTO fills whole cells). The number of columns is the one that gives
// the largest tiles; tiles are packed with gridGap pixels between them (no
// gap at the canvas edges), the block is centred and an incomplete last row
// is centred too. A participant whose featuredParticipantAttribute is
// "true" gets the featured slot: the left two thirds of a landscape canvas
// (top two thirds of a portrait one), drawn CONTAIN unless videoFillMode
// says otherwise; the others form a grid in the rest. omitStoppedVideo
// leaves out participants that publish no video.
//
// # Pip
//
// The pip participant (pipParticipantAttribute "true", otherwise the
// second participant in order) is drawn on top, pipWidth x pipHeight
// (default a quarter of the canvas width, canvas aspect ratio), pipOffset
// pixels from the edges of pipPosition's corner. The other participants fill
// the canvas as a grid (with the featured slot rule), gridGap apart. When the
// pip participant is alone, pipBehavior DYNAMIC draws it full canvas and
// STATIC keeps it in its window.
package layout
