package bidi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Tab is one browsing context (a top-level tab).
type Tab struct {
	b  *Browser
	id string
}

// NewTab opens a new tab in the foreground (about:blank).
func (b *Browser) NewTab(ctx context.Context) (*Tab, error) {
	res, err := b.conn.call(ctx, "browsingContext.create", map[string]any{"type": "tab"})
	if err != nil {
		return nil, err
	}
	var out struct {
		Context string `json:"context"`
	}
	if err := json.Unmarshal(res, &out); err != nil || out.Context == "" {
		return nil, fmt.Errorf("bidi: browsingContext.create: unexpected result %s", res)
	}
	return &Tab{b: b, id: out.Context}, nil
}

// Tabs returns the open top-level tabs (including the one Firefox opens at
// start).
func (b *Browser) Tabs(ctx context.Context) ([]*Tab, error) {
	res, err := b.conn.call(ctx, "browsingContext.getTree", map[string]any{"maxDepth": 0})
	if err != nil {
		return nil, err
	}
	var out struct {
		Contexts []struct {
			Context string `json:"context"`
		} `json:"contexts"`
	}
	if err := json.Unmarshal(res, &out); err != nil {
		return nil, fmt.Errorf("bidi: browsingContext.getTree: %w", err)
	}
	tabs := make([]*Tab, 0, len(out.Contexts))
	for _, c := range out.Contexts {
		tabs = append(tabs, &Tab{b: b, id: c.Context})
	}
	return tabs, nil
}

// Console returns every log entry of every tab so far.
func (b *Browser) Console() []LogEntry { return b.conn.logsOf("") }

// ID is the tab's browsing context id.
func (tb *Tab) ID() string { return tb.id }

// Navigate loads url and returns once the page's load event fired.
func (tb *Tab) Navigate(ctx context.Context, url string) error {
	_, err := tb.b.conn.call(ctx, "browsingContext.navigate", map[string]any{
		"context": tb.id, "url": url, "wait": "complete",
	})
	return err
}

// Activate brings the tab to the foreground.
func (tb *Tab) Activate(ctx context.Context) error {
	_, err := tb.b.conn.call(ctx, "browsingContext.activate", map[string]any{"context": tb.id})
	return err
}

// Close closes the tab.
func (tb *Tab) Close(ctx context.Context) error {
	_, err := tb.b.conn.call(ctx, "browsingContext.close", map[string]any{"context": tb.id})
	return err
}

// Console returns the tab's console messages and uncaught errors so far.
func (tb *Tab) Console() []LogEntry { return tb.b.conn.logsOf(tb.id) }

// Errors returns the tab's console errors and uncaught exceptions so far.
func (tb *Tab) Errors() []LogEntry {
	var out []LogEntry
	for _, e := range tb.Console() {
		if e.Level == "error" || e.Type == "javascript" {
			out = append(out, e)
		}
	}
	return out
}

// EvalError is an exception thrown by an evaluated expression (or the
// rejection of the promise it returned).
type EvalError struct {
	Expression string
	Text       string // the page's message, e.g. "TypeError: v is null"
	Line       int    // 1-based, within the expression
	Column     int
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("bidi: evaluate %.80q: %s (line %d, column %d)", strings.TrimSpace(e.Expression), e.Text, e.Line, e.Column)
}

// Eval evaluates a JavaScript expression in the tab's page, awaits it when
// it is a promise, and decodes the value into out (a pointer, as for
// json.Unmarshal; nil to ignore the value). The evaluation counts as a user
// gesture (so play() and the like are allowed). A thrown exception or a
// rejected promise is an *EvalError; a value JSON cannot carry (a DOM node,
// a function, NaN) is an error when out is not nil.
func (tb *Tab) Eval(ctx context.Context, expr string, out any) error {
	res, err := tb.b.conn.call(ctx, "script.evaluate", map[string]any{
		"expression":      expr,
		"target":          map[string]any{"context": tb.id},
		"awaitPromise":    true,
		"resultOwnership": "none",
		"userActivation":  true,
	})
	if err != nil {
		return err
	}
	var r struct {
		Type             string          `json:"type"` // success, exception
		Result           json.RawMessage `json:"result"`
		ExceptionDetails struct {
			Text         string `json:"text"`
			LineNumber   int    `json:"lineNumber"`
			ColumnNumber int    `json:"columnNumber"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return fmt.Errorf("bidi: script.evaluate: unexpected result: %w", err)
	}
	if r.Type == "exception" {
		d := r.ExceptionDetails
		return &EvalError{Expression: expr, Text: d.Text, Line: d.LineNumber + 1, Column: d.ColumnNumber + 1}
	}
	if out == nil {
		return nil
	}
	if err := DecodeRemoteValue(r.Result, out); err != nil {
		return fmt.Errorf("bidi: evaluate %.80q: %w", strings.TrimSpace(expr), err)
	}
	return nil
}

// Poll evaluates expr every interval until its value is truthy (in
// JavaScript's sense) and decodes that value into out (nil to ignore it).
// Exceptions do not stop the polling (the page may still be loading); when
// ctx ends, the error says what the last evaluation gave.
func (tb *Tab) Poll(ctx context.Context, expr string, interval time.Duration, out any) error {
	wrapped := "(async () => { const v = await (" + expr + "\n); return v ? {ok: true, v} : {ok: false, v: String(v)}; })()"
	var last string
	for {
		var r struct {
			OK bool            `json:"ok"`
			V  json.RawMessage `json:"v"`
		}
		var raw json.RawMessage
		err := tb.Eval(ctx, wrapped, &raw)
		if err == nil {
			err = json.Unmarshal(raw, &r)
		}
		switch {
		case err == nil && r.OK:
			if out == nil {
				return nil
			}
			return json.Unmarshal(r.V, out)
		case err == nil:
			last = "value " + string(r.V)
		case ctx.Err() == nil: // (an error from the deadline says nothing new)
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bidi: poll %.80q: %w (last: %s)", strings.TrimSpace(expr), ctx.Err(), last)
		case <-time.After(interval):
		}
	}
}
