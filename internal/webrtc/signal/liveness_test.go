package signal_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/stagecast/stagecast/internal/webrtc/sfu"
)

// blackhole is a TCP proxy whose traffic can be silently swallowed: the
// connections stay open but nothing passes, like a network that vanished.
type blackhole struct {
	ln     net.Listener
	frozen atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func newBlackhole(t *testing.T, target string) *blackhole {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln}
	b.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			b.mu.Lock()
			b.conns = append(b.conns, c, up)
			b.mu.Unlock()
			b.wg.Go(func() { b.pipe(up, c) })
			b.wg.Go(func() { b.pipe(c, up) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for _, c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
		b.wg.Wait()
	})
	return b
}

func (b *blackhole) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !b.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

func TestEventsAnnounceJoinPublishAndVanishedParticipantLeaves(t *testing.T) {
	st := newStage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	aTok, _ := st.token("alice", map[string]string{"seat": "1"})
	aEv, err := st.client(aTok).Events(ctx, st.id)
	if err != nil {
		t.Fatal(err)
	}
	defer aEv.Close()
	if snap, err := aEv.Next(ctx, sfu.EventSnapshot); err != nil || snap.Self.UserID != "alice" || len(snap.Participants) != 0 {
		t.Fatalf("alice snapshot: %+v %v", snap, err)
	}

	// Bob connects through a network that will vanish.
	hole := newBlackhole(t, strings.TrimPrefix(st.srv.MediaEndpoint(), "http://"))
	bTok, bID := st.token("bob", map[string]string{"seat": "2", "name": "Bob"})
	bob := st.client(bTok)
	bob.Base = "http://" + hole.ln.Addr().String()
	bEv, err := bob.Events(ctx, st.id)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := bEv.Next(ctx, sfu.EventSnapshot)
	if err != nil || len(snap.Participants) != 1 || snap.Participants[0].UserID != "alice" || snap.Participants[0].Attributes["seat"] != "1" {
		t.Fatalf("bob snapshot: %+v %v", snap, err)
	}
	j, err := aEv.Next(ctx, sfu.EventJoined)
	if err != nil || j.Participant.ParticipantID != bID || j.Participant.UserID != "bob" || j.Participant.Attributes["name"] != "Bob" {
		t.Fatalf("joined: %+v %v", j, err)
	}

	video := vp8Track(t)
	pub, err := bob.Publish(ctx, video)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Release()
	if err := pub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	feedCtx, stopFeed := context.WithCancel(ctx)
	var feedWG sync.WaitGroup
	feedWG.Go(func() { feedSynthetic(feedCtx, video) })
	defer func() { stopFeed(); feedWG.Wait() }()
	p, err := aEv.Next(ctx, sfu.EventPublished)
	if err != nil || p.Participant.ParticipantID != bID || !p.Participant.Published || len(p.Participant.Tracks) != 1 ||
		p.Participant.Tracks[0].Codec != "vp8" || p.Participant.UserID != "bob" {
		t.Fatalf("published: %+v %v", p, err)
	}

	// Mute is relayed as an update.
	if err := bEv.Send(ctx, map[string]any{"type": "mute", "kind": "video", "muted": true}); err != nil {
		t.Fatal(err)
	}
	if u, err := aEv.Next(ctx, sfu.EventUpdated); err != nil || !u.Participant.VideoMuted {
		t.Fatalf("updated: %+v %v", u, err)
	}

	session := st.activeSession(ctx)
	// Bob's network vanishes: no DELETE, no close frame, no FIN.
	hole.frozen.Store(true)
	pub.Vanish()
	stopFeed()
	vanished := time.Now()

	left, err := aEv.Next(ctx, sfu.EventLeft)
	if err != nil || left.Participant.ParticipantID != bID {
		t.Fatalf("left: %+v %v", left, err)
	}
	if d := time.Since(vanished); d > 10*time.Second {
		t.Fatalf("participant_left after %s", d)
	}
	for {
		out, err := st.srv.Realtime.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{
			StageArn: aws.String(st.arn), SessionId: aws.String(session)})
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]string{}
		for _, p := range out.Participants {
			states[aws.ToString(p.ParticipantId)] = string(p.State)
		}
		if states[bID] == "DISCONNECTED" {
			break
		}
		if time.Since(vanished) > 10*time.Second {
			t.Fatalf("bob still %q in ListParticipants %s after vanishing", states[bID], time.Since(vanished))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("vanished participant left after %s", time.Since(vanished).Round(100*time.Millisecond))

	// Deleting the stage disconnects the ones still there.
	if _, err := st.srv.Realtime.DeleteStage(ctx, &ivsrealtime.DeleteStageInput{Arn: aws.String(st.arn)}); err != nil {
		t.Fatalf("delete stage: %v", err)
	}
	if d, err := aEv.Next(ctx, sfu.EventDisconnected); err != nil || d.Reason != "stage deleted" {
		t.Fatalf("after stage deletion: %+v %v", d, err)
	}
}
