package recording

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/recording/objstore"
)

// findVersitygw looks for the versitygw binary (.ci/install-versitygw
// installs it).
func findVersitygw(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	cands := []string{"/usr/local/bin/versitygw"}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			cands = append(cands, filepath.Join(d, "bin", "versitygw"))
		}
	}
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	t.Skip("versitygw not found on PATH, in /usr/local/bin or $(go env GOPATH)/bin: run .ci/install-versitygw")
	return ""
}

// startVersitygw runs a versitygw S3 server over a temporary directory on
// a free 127.0.0.1 port and returns a store for it.
func startVersitygw(t *testing.T) *objstore.S3 {
	t.Helper()
	bin := findVersitygw(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	root := t.TempDir()
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--port", addr, "posix", root)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY=testaccess", "ROOT_SECRET_KEY=testsecret0123456789")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	})
	st := objstore.NewS3(objstore.S3Config{Endpoint: "http://" + addr, Region: "us-east-1",
		AccessKeyID: "testaccess", SecretAccessKey: "testsecret0123456789", PathStyle: true, Timeout: 10 * time.Second})
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := st.CreateBucket(ctx, testBucket)
		cancel()
		if err == nil {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw on %s not ready: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestS3RecordingOnVersitygw(t *testing.T) {
	t.Parallel()
	st := startVersitygw(t)
	rs, us := makeRenditions(t, 6, [2]int{320, 240})
	pub := &fakePublisher{}
	m := NewManager(Config{Store: st, SegmentDuration: 2 * time.Second}, pub, nil)
	prefix, err := m.StreamStarted(StreamInfo{ChannelARN: testChannel, StreamID: "st-s3",
		RecordingConfig: recordingConfig(0, false), Renditions: rs})
	if err != nil {
		t.Fatal(err)
	}
	feedAll(t, rs, us, 4, 0)
	m.StreamEnded(testChannel, "st-s3")
	m.Close()

	ctx := context.Background()
	keys, err := st.List(ctx, testBucket, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix+"/") {
			t.Errorf("object %q outside the recording prefix %q", k, prefix)
		}
	}
	for _, want := range []string{"events/recording-started.json", "events/recording-ended.json", "media/hls/master.m3u8",
		"media/hls/240p30/playlist.m3u8", "media/hls/240p30/0.ts"} {
		found := false
		for _, k := range keys {
			found = found || k == prefix+"/"+want
		}
		if !found {
			t.Errorf("no object %s/%s in %v", prefix, want, keys)
		}
	}
	// Download the recording and play it from disk.
	dir := t.TempDir()
	for _, k := range keys {
		b, err := st.Get(ctx, testBucket, k)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(dir, filepath.FromSlash(prefix))
	pl, whole := checkRendition(t, filepath.Join(root, "media/hls/240p30"), 320, 240)
	if !pl.Ended || whole.VideoFrames < 170 {
		t.Errorf("ended %v, %d video frames of 180", pl.Ended, whole.VideoFrames)
	}
	master := probe(t, filepath.Join(root, "media/hls/master.m3u8"))
	if master.VideoFrames != whole.VideoFrames {
		t.Errorf("master playlist plays %d frames, the rendition %d", master.VideoFrames, whole.VideoFrames)
	}
	md := readJSON(t, filepath.Join(root, "events/recording-ended.json"))
	if md.RecordingStatus != "RECORDING_ENDED" {
		t.Errorf("status %s", md.RecordingStatus)
	}
	if got := fmt.Sprint(pub.statuses()); got != "[Recording Start Recording End]" {
		t.Errorf("events %s", got)
	}
}
