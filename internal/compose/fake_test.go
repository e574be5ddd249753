package compose

import (
	"context"
	"sync"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/stream"
)

// hubSource adapts a stream.Reader to Source.
type hubSource struct {
	*stream.Reader
	tracks []media.Track
}

func (h hubSource) Tracks() []media.Track { return h.tracks }

// fakeStages is a stage whose publishers the test sets.
type fakeStages struct {
	mu          sync.Mutex
	hubs        map[string]*stream.Hub
	pubs        []Publisher
	watches     []chan []Publisher
	keyRequests int
	subscribes  int
}

func newFakeStages() *fakeStages { return &fakeStages{hubs: map[string]*stream.Hub{}} }

func (f *fakeStages) Watch(_ context.Context, stageARN string) (<-chan []Publisher, error) {
	ch := make(chan []Publisher, 64)
	f.mu.Lock()
	ch <- append([]Publisher(nil), f.pubs...)
	f.watches = append(f.watches, ch)
	f.mu.Unlock()
	return ch, nil
}

func (f *fakeStages) Subscribe(ctx context.Context, stageARN, id string) (Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subscribes++
	h := f.hubs[id]
	if h == nil {
		h = stream.NewHub(nil, nil)
		f.hubs[id] = h
	}
	return hubSource{Reader: h.NewReader("compose", 0), tracks: h.Tracks()}, nil
}

// set publishes a new publisher list (with hubs for their media).
func (f *fakeStages) set(pubs []Publisher, hubs map[string]*stream.Hub) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pubs = pubs
	for id, h := range hubs {
		f.hubs[id] = h
	}
	for _, w := range f.watches {
		w <- append([]Publisher(nil), pubs...)
	}
}

func (f *fakeStages) RequestKeyFrame(context.Context, string, string) error {
	f.mu.Lock()
	f.keyRequests++
	f.mu.Unlock()
	return nil
}
