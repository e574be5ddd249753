package cmdrun

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunWritesStdin(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "out.json")
	out, err := Runner{}.Run(context.Background(), []string{"sh", "-c", `cat > "$0"; echo done`, file}, []byte(`{"a":1}`))
	if err != nil {
		t.Fatalf("run: %v (%s)", err, out)
	}
	if strings.TrimSpace(string(out)) != "done" {
		t.Fatalf("output %q", out)
	}
	got, err := os.ReadFile(file)
	if err != nil || string(got) != `{"a":1}` {
		t.Fatalf("file = %q, %v", got, err)
	}
}

func TestRunNonZeroExit(t *testing.T) {
	t.Parallel()
	out, err := Runner{}.Run(context.Background(), []string{"sh", "-c", "echo boom >&2; exit 3"}, nil)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(string(out), "boom") {
		t.Fatalf("output %q lacks stderr", out)
	}
}

func TestRunKilledAtDeadline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The shell's child (sleep) holds the output pipe: killing only the
	// shell would leave Run waiting for the sleep.
	_, err := Runner{Grace: 200 * time.Millisecond}.Run(ctx, []string{"sh", "-c", "sleep 10; echo late"}, nil)
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Fatalf("Run returned after %s: the sleep was not killed", took)
	}
}

func TestRunMissingCommand(t *testing.T) {
	t.Parallel()
	if _, err := (Runner{}).Run(context.Background(), []string{"/nonexistent/cmd"}, nil); err == nil {
		t.Fatal("want an error for a missing command")
	}
	if _, err := (Runner{}).Run(context.Background(), nil, nil); err == nil {
		t.Fatal("want an error for an empty argv")
	}
}
