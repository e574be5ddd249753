package recording

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if goroutines started by this package outlive
// the tests (every Manager is closed by its test).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && os.Getenv(childEnvDir) == "" {
		if leaked := waitNoLeaks(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked by package recording:\n%s\n", leaked)
			code = 1
		}
	}
	if genDir != "" {
		_ = os.RemoveAll(genDir)
	}
	os.Exit(code)
}

func waitNoLeaks(within time.Duration) string {
	deadline := time.Now().Add(within)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			if strings.Contains(g, "stagecast/internal/recording.") && !strings.Contains(g, "TestMain") &&
				!strings.Contains(g, "waitNoLeaks") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
