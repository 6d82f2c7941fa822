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
)

// Metadata reads the ECS instance metadata service at a configurable base
// URL. It uses hardened mode (a session token from PUT /latest/api/token sent
// on every read) and falls back to plain reads when the token call is
// refused. Safe for concurrent use.
type Metadata struct {
	base   string
	client *http.Client

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

// NewMetadata returns a client for the metadata service at base, e.g.
// http://100.100.100.200.
func NewMetadata(base string) *Metadata {
	return &Metadata{
		base: strings.TrimRight(base, "/"),
		client: &http.Client{
			Timeout: metadataTimeout,
			// Never through a proxy: the service is link-local.
			Transport: &http.Transport{Proxy: nil, ResponseHeaderTimeout: metadataTimeout},
		},
	}
}

// ErrMetadataNotFound is returned for an item the service does not have.
var ErrMetadataNotFound = errors.New("not found")

// Get returns the metadata item at path below /latest/meta-data/, e.g.
// "region-id".
func (m *Metadata) Get(ctx context.Context, item string) (string, error) {
	token, err := m.sessionToken(ctx)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.base+"/latest/meta-data/"+item, nil)
	if err != nil {
		return "", fmt.Errorf("metadata %s: %w", item, err)
	}
	if token != "" {
		req.Header.Set(metadataTokenHeader, token)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("metadata %s: %w", item, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, metadataMaxItemBytes))
	if err != nil {
		return "", fmt.Errorf("metadata %s: %w", item, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", fmt.Errorf("metadata %s: %w", item, ErrMetadataNotFound)
	case resp.StatusCode == http.StatusUnauthorized && token != "":
		// The token expired early or the service restarted: forget it.
		m.mu.Lock()
		m.token = ""
		m.mu.Unlock()
		return "", fmt.Errorf("metadata %s: session token refused (HTTP 401)", item)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("metadata %s: HTTP %d", item, resp.StatusCode)
	}
	v := strings.TrimSpace(string(body))
	if v == "" {
		return "", fmt.Errorf("metadata %s: empty answer", item)
	}
	return v, nil
}

// sessionToken returns a valid hardened-mode token, "" in plain mode.
func (m *Metadata) sessionToken(ctx context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.plain {
		return "", nil
	}
	if m.token != "" && time.Until(m.expiry) > time.Minute {
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
	if resp.StatusCode != http.StatusOK {
		// An older service without hardened mode: read without a token.
		m.plain = true
		return "", nil
	}
	m.token = strings.TrimSpace(string(body))
	m.expiry = time.Now().Add(metadataTokenTTL)
	return m.token, nil
}
