package bidi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/coder/websocket"
)

// maxMessage bounds one message from the browser (a large evaluation
// result or a long console line).
const maxMessage = 32 << 20

// conn is the BiDi WebSocket: commands with ids, their responses, and the
// events (log entries) the session subscribed to.
type conn struct {
	ws     *websocket.Conn
	cancel context.CancelFunc // stops the reader
	done   chan struct{}      // closed when the reader returned

	mu      sync.Mutex
	nextID  int64                   // guarded by mu
	pending map[int64]chan response // guarded by mu
	readErr error                   // guarded by mu: why the reader stopped
	logs    []LogEntry              // guarded by mu
}

// message is any message from the browser: a command's result or error, or
// an event.
type message struct {
	Type       string          `json:"type"` // success, error, event
	ID         *int64          `json:"id"`
	Result     json.RawMessage `json:"result"`
	Error      string          `json:"error"`
	Message    string          `json:"message"`
	Stacktrace string          `json:"stacktrace"`
	Method     string          `json:"method"`
	Params     json.RawMessage `json:"params"`
}

type response struct {
	result json.RawMessage
	err    error
}

// CommandError is an error response to a BiDi command.
type CommandError struct {
	Method  string
	Code    string // the protocol's error code, e.g. "no such frame"
	Message string
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("bidi: %s: %s: %s", e.Method, e.Code, e.Message)
}

// LogEntry is a console message or an uncaught error in a page.
type LogEntry struct {
	Context string // the browsing context (tab) it came from
	Level   string // debug, info, warn, error
	Type    string // console, javascript (an uncaught error)
	Text    string
	Source  string // where it was logged: file:line, when known
}

func (e LogEntry) String() string {
	s := e.Level + ": " + e.Text
	if e.Source != "" {
		s += " (" + e.Source + ")"
	}
	return s
}

// dial opens the socket at url and starts its reader.
func dial(ctx context.Context, url string) (*conn, error) {
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(maxMessage)
	readCtx, cancel := context.WithCancel(context.Background())
	c := &conn{ws: ws, cancel: cancel, done: make(chan struct{}), pending: map[int64]chan response{}}
	go c.read(readCtx)
	return c, nil
}

// read delivers responses and records log events until the socket fails;
// then every waiting call gets the error.
func (c *conn) read(ctx context.Context) {
	defer close(c.done)
	var err error
	for {
		var data []byte
		_, data, err = c.ws.Read(ctx)
		if err != nil {
			break
		}
		var m message
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch {
		case m.Type == "event":
			if m.Method == "log.entryAdded" {
				c.addLog(m.Params)
			}
		case m.ID != nil:
			c.mu.Lock()
			ch := c.pending[*m.ID]
			delete(c.pending, *m.ID)
			c.mu.Unlock()
			if ch == nil {
				continue
			}
			if m.Type == "error" {
				ch <- response{err: &CommandError{Code: m.Error, Message: m.Message}}
			} else {
				ch <- response{result: m.Result}
			}
		}
	}
	c.mu.Lock()
	c.readErr = fmt.Errorf("%w: %w", errClosed, err)
	for id, ch := range c.pending {
		ch <- response{err: c.readErr}
		delete(c.pending, id)
	}
	c.mu.Unlock()
}

// call sends a command and waits for its result.
func (c *conn) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	ch := make(chan response, 1)
	c.mu.Lock()
	if c.readErr != nil {
		err := c.readErr
		c.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}
	data, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		forget()
		return nil, fmt.Errorf("%s: encode: %w", method, err)
	}
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		forget()
		return nil, fmt.Errorf("%s: send: %w", method, err)
	}
	select {
	case r := <-ch:
		var ce *CommandError
		if errors.As(r.err, &ce) {
			ce.Method = method
		}
		return r.result, r.err
	case <-ctx.Done():
		forget()
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// close closes the socket and waits for the reader.
func (c *conn) close() {
	_ = c.ws.Close(websocket.StatusNormalClosure, "")
	c.cancel()
	<-c.done
}

// addLog records a log.entryAdded event.
func (c *conn) addLog(params json.RawMessage) {
	var p struct {
		Level  string `json:"level"`
		Type   string `json:"type"`
		Text   string `json:"text"`
		Source struct {
			Context string `json:"context"`
		} `json:"source"`
		StackTrace struct {
			CallFrames []struct {
				URL        string `json:"url"`
				LineNumber int    `json:"lineNumber"`
			} `json:"callFrames"`
		} `json:"stackTrace"`
	}
	if json.Unmarshal(params, &p) != nil {
		return
	}
	e := LogEntry{Context: p.Source.Context, Level: p.Level, Type: p.Type, Text: p.Text}
	if f := p.StackTrace.CallFrames; len(f) > 0 {
		e.Source = fmt.Sprintf("%s:%d", f[0].URL, f[0].LineNumber+1)
	}
	c.mu.Lock()
	c.logs = append(c.logs, e)
	c.mu.Unlock()
}

// logsOf returns the entries logged in a context ("" = all).
func (c *conn) logsOf(context string) []LogEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []LogEntry
	for _, e := range c.logs {
		if context == "" || e.Context == context {
			out = append(out, e)
		}
	}
	return out
}
