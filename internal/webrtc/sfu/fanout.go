package sfu

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// fanQueueLen bounds each fan-out worker's queue, in batches (one batch is
// one publisher packet for that worker's share of the subscribers): about
// half a second of a full stage's packets per worker. A full queue drops
// the batch, counted against each subscriber in it; the publisher's read
// loop never waits.
const fanQueueLen = 2048

// maxForwardDelay is how late a packet may still be sent: when the writers
// fall this far behind (the machine is out of CPU), older packets are
// dropped (and counted) rather than sent late, which only the receivers'
// NACKs and key frame requests can repair anyway.
const maxForwardDelay = 250 * time.Millisecond

// fanout sends forwarded packets on a small pool of writer goroutines, one
// per core, shared by every publisher. Each downtrack is pinned to one
// worker, so its packets leave in order. A publisher packet costs one queue
// operation per worker that has subscribers of it, not one goroutine wake
// per subscriber, which is what a writer goroutine per subscriber cost
// (about 10-20 % more CPU per forwarded Mbps in `stagecast bench stage`).
type fanout struct {
	workers []chan *fanBatch
	next    atomic.Uint32 // round-robin pinning of new downtracks
	lat     *latencyHist
	dropped *atomic.Uint64 // the server's count of dropped packets
	pool    sync.Pool      // *fanBatch
}

// fanBatch is one publisher packet for one worker's subscribers.
type fanBatch struct {
	pkts []outPacket
}

// outPacket is a rewritten header (per subscriber) over the publisher's
// payload (shared, never modified).
type outPacket struct {
	d   *downTrack
	hdr rtp.Header
	pl  []byte
	at  time.Time // when the publisher's read loop had it
}

func newFanout(workers, queue int, lat *latencyHist, dropped *atomic.Uint64) *fanout {
	f := &fanout{workers: make([]chan *fanBatch, max(workers, 1)), lat: lat, dropped: dropped}
	for i := range f.workers {
		f.workers[i] = make(chan *fanBatch, queue)
	}
	f.pool.New = func() any { return &fanBatch{pkts: make([]outPacket, 0, 32)} }
	return f
}

// pin returns the worker a new downtrack sends on.
func (f *fanout) pin() int { return int(f.next.Add(1)-1) % len(f.workers) }

// run is worker i's loop until ctx ends: it writes each batch's packets
// to their peer connections.
func (f *fanout) run(ctx context.Context, i int) {
	q := f.workers[i]
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-q:
			if len(b.pkts) > 0 && time.Since(b.pkts[0].at) > maxForwardDelay {
				// One publisher packet: every copy in the batch is as old.
				f.drop(b)
				continue
			}
			for j := range b.pkts {
				p := &b.pkts[j]
				if w := p.d.writer.Load(); w != nil {
					// Errors mean the connection is closing; the session
					// unbinds the track and the writer goes nil.
					_, _ = (*w).WriteRTP(&p.hdr, p.pl)
					f.lat.add(time.Since(p.at))
				}
			}
			f.put(b)
		}
	}
}

// drop counts every copy in b against its subscriber and the server, and
// recycles b.
func (f *fanout) drop(b *fanBatch) {
	for i := range b.pkts {
		b.pkts[i].d.sub.dropped.Add(1)
	}
	f.dropped.Add(uint64(len(b.pkts)))
	f.put(b)
}

func (f *fanout) put(b *fanBatch) {
	clear(b.pkts) // drop the references to payloads and downtracks
	b.pkts = b.pkts[:0]
	f.pool.Put(b)
}

// round gathers one publisher packet's batches, one per worker; a read
// loop reuses one round for all its packets.
type round struct {
	f       *fanout
	batches []*fanBatch
}

func (f *fanout) newRound() *round {
	return &round{f: f, batches: make([]*fanBatch, len(f.workers))}
}

func (r *round) add(p outPacket) {
	w := p.d.worker
	b := r.batches[w]
	if b == nil {
		b = r.f.pool.Get().(*fanBatch)
		r.batches[w] = b
	}
	b.pkts = append(b.pkts, p)
}

// flush hands the batches to their workers without waiting: a full queue
// drops its batch.
func (r *round) flush(srv *Server) {
	for w, b := range r.batches {
		if b == nil {
			continue
		}
		r.batches[w] = nil
		// Counted before the send: the worker owns b once it is queued.
		n, bytes := uint64(len(b.pkts)), uint64(0)
		for i := range b.pkts {
			bytes += uint64(len(b.pkts[i].pl))
		}
		select {
		case r.f.workers[w] <- b:
			srv.forwarded.Add(n)
			srv.fwdBytes.Add(bytes)
		default:
			r.f.drop(b)
		}
	}
}
