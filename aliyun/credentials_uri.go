package aliyun

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/joinhintd/joinhintd/daemon"
)

// uriFetcher GETs a temporary credential from ALIBABA_CLOUD_CREDENTIALS_URI.
// It replaces the SDK's provider, whose errors quote the answer (the
// secret) and the URL. Errors here name the host only.
type uriFetcher struct {
	url, host string
	client    *http.Client
}

func newURIFetcher(rawURL, host string) *uriFetcher {
	return &uriFetcher{url: rawURL, host: host, client: credentialHTTPClient()}
}

func (f *uriFetcher) fetch(ctx context.Context) (sessionCredential, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return sessionCredential{}, fmt.Errorf("credentials URI on %s: bad request", f.host)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return sessionCredential{}, &reasonError{daemon.ReasonNetwork, fmt.Errorf("credentials URI: %s", transportMessage(err))}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, stsMaxBody))
	if err != nil {
		return sessionCredential{}, &reasonError{daemon.ReasonNetwork, fmt.Errorf("credentials URI on %s: %s", f.host, transportMessage(err))}
	}
	if resp.StatusCode != http.StatusOK {
		return sessionCredential{}, &reasonError{reasonForCode(codeDecode, resp.StatusCode), fmt.Errorf("credentials URI on %s: HTTP %d", f.host, resp.StatusCode)}
	}
	var d credentialFields
	if json.Unmarshal(body, &d) != nil {
		return sessionCredential{}, &reasonError{daemon.ReasonServer, fmt.Errorf("credentials URI on %s: the answer is not a JSON credential (%d bytes)", f.host, len(body))}
	}
	c, err := d.session("the answer", "")
	if err != nil {
		return sessionCredential{}, &reasonError{daemon.ReasonServer, fmt.Errorf("credentials URI on %s: %w", f.host, err)}
	}
	return c, nil
}
