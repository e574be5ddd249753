package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stagecast/stagecast/internal/events"
)

// maxResponseBytes bounds what the client reads from a response.
const maxResponseBytes = 16 << 20

// Client calls the admin API with SigV4-signed requests.
type Client struct {
	// Endpoint is the control API base URL (http://host:port).
	Endpoint string
	Region   string
	// AccessKeyID and SecretAccessKey sign the requests (service "ivs").
	AccessKeyID, SecretAccessKey string
	HTTP                         *http.Client
}

// Error is a non-2xx answer.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status) }

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Endpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ivs", c.Region, time.Now()); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e errorBody
		if json.Unmarshal(raw, &e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(raw))
		}
		return &Error{Status: resp.StatusCode, Message: e.Message}
	}
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// List returns every rule with its statistics.
func (c *Client) List(ctx context.Context) ([]RuleInfo, error) {
	var out struct {
		Rules []RuleInfo `json:"rules"`
	}
	err := c.do(ctx, http.MethodGet, Prefix+"rules", nil, &out)
	return out.Rules, err
}

// Get returns one rule.
func (c *Client) Get(ctx context.Context, name string) (RuleInfo, error) {
	var out RuleInfo
	err := c.do(ctx, http.MethodGet, Prefix+"rules/"+url.PathEscape(name), nil, &out)
	return out, err
}

// Create creates a rule; the answer carries its secrets.
func (c *Client) Create(ctx context.Context, r events.Rule) (RuleInfo, error) {
	var out RuleInfo
	err := c.do(ctx, http.MethodPost, Prefix+"rules", r, &out)
	return out, err
}

// Delete deletes a rule.
func (c *Client) Delete(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, Prefix+"rules/"+url.PathEscape(name), nil, nil)
}

// DeadLetters lists a rule's dead letters ("" = all rules).
func (c *Client) DeadLetters(ctx context.Context, rule string) ([]events.DeadLetter, error) {
	path := Prefix + "dead-letters"
	if rule != "" {
		path = Prefix + "rules/" + url.PathEscape(rule) + "/dead-letters"
	}
	var out struct {
		DeadLetters []events.DeadLetter `json:"dead_letters"`
	}
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out.DeadLetters, err
}
