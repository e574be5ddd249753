package app

import (
	"net/http"
	"strings"

	"github.com/stagecast/stagecast/internal/web"
)

// baseRoutes mounts the media listener's own routes: health checks and each
// stage's token-verification key. Subsystems add theirs in their wire
// functions (playback, WHIP, stage events, pages).
func (a *App) baseRoutes() {
	mux := a.mux
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	// GET /stages/{id}/public-key.pem: the P-384 public key that verifies
	// the participant tokens CreateParticipantToken mints for that stage.
	mux.HandleFunc("GET /stages/{file}/public-key.pem", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("file")
		if strings.ContainsAny(id, "/.") {
			http.NotFound(w, r)
			return
		}
		pem, err := a.Stages.StagePublicKey(r.Context(), a.Identity.ARN("stage", id))
		if err != nil {
			http.Error(w, "stage not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write([]byte(pem))
	})
	a.metricsRoute()
	// The embedded pages: /, /stage, /playback[/<channel>], /broadcast, /static/.
	web.Mount(mux, web.Options{PlaybackURL: a.Identity.PlaybackURL})
}
