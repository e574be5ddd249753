package bidi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDecodeRemoteValue(t *testing.T) {
	type point struct {
		X, Y int
		Tags []string
	}
	var p point
	err := DecodeRemoteValue(json.RawMessage(`{"type":"object","value":[
		["x",{"type":"number","value":3}],
		["y",{"type":"number","value":"-0"}],
		["tags",{"type":"array","value":[{"type":"string","value":"a"},{"type":"string","value":"b"}]}],
		["extra",{"type":"undefined"}]]}`), &p)
	if err != nil {
		t.Fatal(err)
	}
	if p.X != 3 || p.Y != 0 || strings.Join(p.Tags, ",") != "a,b" {
		t.Fatalf("decoded %+v", p)
	}

	var big int64
	if err := DecodeRemoteValue(json.RawMessage(`{"type":"bigint","value":"9007199254740993"}`), &big); err != nil || big != 9007199254740993 {
		t.Fatalf("bigint: %d, %v", big, err)
	}
	var m map[string]any
	if err := DecodeRemoteValue(json.RawMessage(`{"type":"map","value":[[{"type":"number","value":1},{"type":"boolean","value":true}],["s",{"type":"regexp","value":{"pattern":"a+","flags":"g"}}]]}`), &m); err != nil {
		t.Fatal(err)
	}
	if m["1"] != true || m["s"] != "/a+/g" {
		t.Fatalf("map: %v", m)
	}
	var s *string
	if err := DecodeRemoteValue(json.RawMessage(`{"type":"null"}`), &s); err != nil || s != nil {
		t.Fatalf("null: %v, %v", s, err)
	}

	for name, raw := range map[string]string{
		"NaN":          `{"type":"number","value":"NaN"}`,
		"node":         `{"type":"node","sharedId":"x"}`,
		"unserialized": `{"type":"object","internalId":"1"}`,
		"object key":   `{"type":"map","value":[[{"type":"object","value":[]},{"type":"null"}]]}`,
		"no type":      `{"value":1}`,
		"bad bigint":   `{"type":"bigint","value":"12x"}`,
	} {
		var v any
		if err := DecodeRemoteValue(json.RawMessage(raw), &v); err == nil {
			t.Errorf("%s: decoded %v, want an error", name, v)
		}
	}
	var n int
	if err := DecodeRemoteValue(json.RawMessage(`{"type":"string","value":"x"}`), &n); err == nil {
		t.Error("a string decoded into an int")
	}
}

func TestWriteProfile(t *testing.T) {
	dir := t.TempDir()
	if err := writeProfile(dir, map[string]any{"b.int": 0, "a.str": `say "hi"`, "c.bool": true}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dir + "/user.js")
	if err != nil {
		t.Fatal(err)
	}
	want := "user_pref(\"a.str\", \"say \\\"hi\\\"\");\nuser_pref(\"b.int\", 0);\nuser_pref(\"c.bool\", true);\n"
	if string(data) != want {
		t.Fatalf("user.js:\n%s\nwant:\n%s", data, want)
	}
}

const testPage = `<!doctype html><title>bidi test</title><p id="p">hello</p>
<script>console.log("page loaded"); console.error("something bad"); setTimeout(() => { throw new Error("late boom"); }, 0);</script>`

// A real Firefox: navigation, evaluation (values, promises, exceptions),
// polling, the console, the media prefs, and a clean stop.
func TestFirefox(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(testPage))
	}))
	defer srv.Close()

	b := Start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tab, err := b.NewTab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Navigate(ctx, srv.URL+"/"); err != nil {
		t.Fatal(err)
	}

	var got struct {
		Text  string
		Sum   int
		Later []any
	}
	if err := tab.Eval(ctx, `(async () => ({text: document.getElementById("p").textContent, sum: 40 + 2,
		later: await new Promise(r => setTimeout(() => r([1, "two", null, true]), 50))}))()`, &got); err != nil {
		t.Fatal(err)
	}
	if got.Text != "hello" || got.Sum != 42 || len(got.Later) != 4 || got.Later[1] != "two" || got.Later[3] != true {
		t.Fatalf("eval: %+v", got)
	}

	var ee *EvalError
	err = tab.Eval(ctx, `null.x`, nil)
	if !errors.As(err, &ee) || !strings.Contains(ee.Text, "TypeError") {
		t.Fatalf("exception: %v", err)
	}
	err = tab.Eval(ctx, `Promise.reject(new Error("nope"))`, nil)
	if !errors.As(err, &ee) || !strings.Contains(ee.Text, "nope") {
		t.Fatalf("rejection: %v", err)
	}
	var node any
	if err := tab.Eval(ctx, `document.body`, &node); err == nil || !strings.Contains(err.Error(), "node") {
		t.Fatalf("a DOM node decoded: %v, %v", node, err)
	}

	// Poll waits for a truthy value and returns it.
	if err := tab.Eval(ctx, `setTimeout(() => { window.ready = "yes"; }, 300); 0`, nil); err != nil {
		t.Fatal(err)
	}
	var ready string
	if err := tab.Poll(ctx, `window.ready`, 50*time.Millisecond, &ready); err != nil || ready != "yes" {
		t.Fatalf("poll: %q, %v", ready, err)
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	err = tab.Poll(short, `window.never`, 50*time.Millisecond, nil)
	cancelShort()
	if err == nil || !strings.Contains(err.Error(), "undefined") {
		t.Fatalf("poll of a falsy value: %v", err)
	}

	// The console and uncaught errors of the page.
	var console []string
	for _, e := range tab.Console() {
		console = append(console, e.String())
	}
	joined := strings.Join(console, "\n")
	for _, want := range []string{"page loaded", "something bad", "late boom"} {
		if !strings.Contains(joined, want) {
			t.Errorf("console lacks %q:\n%s", want, joined)
		}
	}
	if n := len(tab.Errors()); n != 2 {
		t.Errorf("%d errors, want 2 (console.error and the uncaught one): %v", n, tab.Errors())
	}

	// The prefs: a fake camera without a prompt, and ICE candidates with
	// real addresses (not mDNS names).
	var media struct {
		Kinds []string
		SDP   string
	}
	if err := tab.Eval(ctx, `(async () => {
		const s = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
		const pc = new RTCPeerConnection();
		for (const tr of s.getTracks()) pc.addTrack(tr, s);
		await pc.setLocalDescription(await pc.createOffer());
		await new Promise(r => { if (pc.iceGatheringState === "complete") r(); pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === "complete") r(); }; });
		const out = {kinds: s.getTracks().map(t => t.kind).sort(), sdp: pc.localDescription.sdp};
		pc.close(); s.getTracks().forEach(t => t.stop());
		return out;
	})()`, &media); err != nil {
		t.Fatal(err)
	}
	if strings.Join(media.Kinds, ",") != "audio,video" {
		t.Errorf("getUserMedia gave %v", media.Kinds)
	}
	if !strings.Contains(media.SDP, " typ host") || strings.Contains(media.SDP, ".local ") {
		t.Errorf("offer has no host candidate with an address (or an mDNS one):\n%s", media.SDP)
	}

	// Close ends the process group and removes the profile; the tab then
	// fails with a clear error.
	pid := b.cmd.Process.Pid
	b.Close()
	if _, err := os.Stat(b.dir); !os.IsNotExist(err) {
		t.Errorf("profile dir still there: %v", err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("firefox's process group is still alive: %v", err)
	}
	if err := tab.Eval(ctx, `1`, nil); !errors.Is(err, errClosed) {
		t.Errorf("eval after close: %v", err)
	}
}

// FuzzDecodeRemoteValue: whatever a browser (or a broken one) sends as a
// serialized remote value, decoding returns a value or an error, never
// panics, and stays within maxRemoteDepth.
func FuzzDecodeRemoteValue(f *testing.F) {
	for _, seed := range []string{
		`{"type":"number","value":42}`,
		`{"type":"string","value":"x"}`,
		`{"type":"array","value":[{"type":"boolean","value":true},{"type":"null"}]}`,
		`{"type":"object","value":[["k",{"type":"number","value":"NaN"}]]}`,
		`{"type":"map","value":[[{"type":"string","value":"a"},{"type":"undefined"}]]}`,
		`{"type":"array","value":[{"type":"array","value":[{"type":"array","value":[]}]}]}`,
		`{"type":"bigint","value":"12345678901234567890"}`,
		`{"type":"object"}`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 1<<16 {
			return
		}
		var out any
		_ = DecodeRemoteValue(raw, &out)
	})
}
