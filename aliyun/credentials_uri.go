package aliyun

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

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
	dialer := &net.Dialer{Timeout: stsConnectTimeout}
	return &uriFetcher{
		url:  rawURL,
		host: host,
		client: &http.Client{
			Timeout: stsConnectTimeout + stsReadTimeout,
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           dialer.DialContext,
				TLSHandshakeTimeout:   stsConnectTimeout,
				ResponseHeaderTimeout: stsReadTimeout,
				DisableKeepAlives:     true,
			},
		},
	}
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
	var d struct {
		AccessKeyID     string `json:"AccessKeyId"`
		AccessKeySecret string `json:"AccessKeySecret"`
		SecurityToken   string `json:"SecurityToken"`
		Expiration      string `json:"Expiration"`
	}
	bad := func(msg string) (sessionCredential, error) {
		return sessionCredential{}, &reasonError{daemon.ReasonServer, fmt.Errorf("credentials URI on %s: %s", f.host, msg)}
	}
	if json.Unmarshal(body, &d) != nil {
		return bad(fmt.Sprintf("the answer is not a JSON credential (%d bytes)", len(body)))
	}
	var missing []string
	for _, fl := range []struct{ name, v string }{
		{"AccessKeyId", d.AccessKeyID}, {"AccessKeySecret", d.AccessKeySecret}, {"SecurityToken", d.SecurityToken}, {"Expiration", d.Expiration},
	} {
		if fl.v == "" {
			missing = append(missing, fl.name)
		}
	}
	if len(missing) > 0 {
		return bad("the answer has no " + strings.Join(missing, ", "))
	}
	exp, err := time.Parse(stsTimeLayout, d.Expiration)
	if err != nil {
		return bad("Expiration is not a time of the form " + stsTimeLayout)
	}
	return sessionCredential{AccessKeyID: d.AccessKeyID, AccessKeySecret: d.AccessKeySecret, SecurityToken: d.SecurityToken, Expiration: exp}, nil
}
