package aliyun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/joinhintd/joinhintd/daemon"
)

// Metadata reads the ECS instance metadata service at a configurable base
// URL. It uses hardened mode (a session token from PUT /latest/api/token sent
// on every read). When the token call is refused it falls back to plain reads,
// unless it was built WithMetadataHardened, in which case that refusal is an
// error. The token lives in memory only and never appears in an error. Safe
// for concurrent use.
type Metadata struct {
	base     string
	client   *http.Client
	hardened bool
	now      func() time.Time

	mu     sync.Mutex
	token  string
	expiry time.Time
	plain  bool // the token call was refused: read without a token
}

const (
	metadataTokenTTL     = 6 * time.Hour
	metadataTokenHeader  = "X-aliyun-ecs-metadata-token"
	metadataTTLHeader    = "X-aliyun-ecs-metadata-token-ttl-seconds"
	metadataTimeout      = 2 * time.Second
	metadataMaxItemBytes = 64 << 10
)

// MetadataOption configures NewMetadata.
type MetadataOption func(*Metadata)

// WithMetadataHardened makes the session token required (--metadata-hardened):
// a refused token call is then an error, never a reason to read without one.
func WithMetadataHardened(required bool) MetadataOption {
	return func(m *Metadata) { m.hardened = required }
}

// WithMetadataClock sets the clock that ages the session token (default
// time.Now).
func WithMetadataClock(now func() time.Time) MetadataOption {
	return func(m *Metadata) {
		if now != nil {
			m.now = now
		}
	}
}

// NewMetadata returns a client for the metadata service at base, e.g.
// http://100.100.100.200.
func NewMetadata(base string, opts ...MetadataOption) *Metadata {
	m := &Metadata{
		base: strings.TrimRight(base, "/"),
		now:  time.Now,
		client: &http.Client{
			Timeout: metadataTimeout,
			// Never through a proxy: the service is link-local.
			Transport: &http.Transport{Proxy: nil, ResponseHeaderTimeout: metadataTimeout},
		},
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// ErrMetadataNotFound is returned for an item the service does not have.
var ErrMetadataNotFound = errors.New("not found")

// Get returns the metadata item at path below /latest/meta-data/, e.g.
// "region-id". A read whose session token is refused (the token expired early
// or the service restarted) is tried once more with a fresh token.
func (m *Metadata) Get(ctx context.Context, item string) (string, error) {
	v, retry, err := m.get(ctx, item)
	if retry {
		v, _, err = m.get(ctx, item)
	}
	return v, err
}

// get makes one read; retry reports that a second read may succeed.
func (m *Metadata) get(ctx context.Context, item string) (v string, retry bool, err error) {
	token, err := m.sessionToken(ctx)
	if err != nil {
		return "", false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.base+"/latest/meta-data/"+item, nil)
	if err != nil {
		return "", false, fmt.Errorf("metadata %s: %w", item, err)
	}
	if token != "" {
		req.Header.Set(metadataTokenHeader, token)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return "", false, fmt.Errorf("metadata %s: %w", item, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, metadataMaxItemBytes))
	if err != nil {
		return "", false, fmt.Errorf("metadata %s: %w", item, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", false, fmt.Errorf("metadata %s: %w", item, ErrMetadataNotFound)
	case resp.StatusCode == http.StatusUnauthorized && token != "":
		m.forgetToken(token)
		return "", true, fmt.Errorf("metadata %s: session token refused (HTTP 401)", item)
	case resp.StatusCode == http.StatusForbidden && token == "":
		// Plain reads on a service that now requires a token: ask for one
		// again.
		m.mu.Lock()
		m.plain = false
		m.mu.Unlock()
		return "", true, fmt.Errorf("metadata %s: the service requires a session token (HTTP 403)", item)
	case resp.StatusCode == http.StatusTooManyRequests:
		// The service is rate limited: back off like the API's throttling.
		return "", false, &reasonError{daemon.ReasonThrottled, fmt.Errorf("metadata %s: HTTP %d", item, resp.StatusCode)}
	case resp.StatusCode >= 500:
		return "", false, &reasonError{daemon.ReasonServer, fmt.Errorf("metadata %s: HTTP %d", item, resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		return "", false, fmt.Errorf("metadata %s: HTTP %d", item, resp.StatusCode)
	}
	v = strings.TrimSpace(string(body))
	if v == "" {
		return "", false, fmt.Errorf("metadata %s: empty answer", item)
	}
	return v, false, nil
}

// forgetToken drops token unless another read has replaced it already.
func (m *Metadata) forgetToken(token string) {
	m.mu.Lock()
	if m.token == token {
		m.token = ""
	}
	m.mu.Unlock()
}

// sessionToken returns a valid hardened-mode token, "" in plain mode.
func (m *Metadata) sessionToken(ctx context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.plain {
		return "", nil
	}
	if m.token != "" && m.expiry.Sub(m.now()) > time.Minute {
		return m.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, m.base+"/latest/api/token", nil)
	if err != nil {
		return "", fmt.Errorf("metadata token: %w", err)
	}
	req.Header.Set(metadataTTLHeader, fmt.Sprint(int(metadataTokenTTL/time.Second)))
	resp, err := m.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("metadata token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, metadataMaxItemBytes))
	if err != nil {
		return "", fmt.Errorf("metadata token: %w", err)
	}
	token := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode != http.StatusOK && m.hardened:
		return "", fmt.Errorf("metadata token: HTTP %d, and hardened mode (--metadata-hardened) requires a session token", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		// An older service without hardened mode: read without a token.
		m.plain = true
		return "", nil
	case token == "":
		return "", fmt.Errorf("metadata token: empty answer")
	}
	m.token = token
	m.expiry = m.now().Add(metadataTokenTTL)
	return m.token, nil
}
