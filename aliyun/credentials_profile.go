package aliyun

import (
	"fmt"
	"strings"
	"sync"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
)

// sdkProfileProvider runs one of the SDK's profile providers (the Aliyun CLI
// config or the credentials file) and makes it fit for a daemon: calls are
// serialised (the SDK's providers set fields unguarded on first use), a panic
// of an SDK provider a profile chains to becomes an error, and error texts
// that quote the file (its secrets) are replaced.
type sdkProfileProvider struct {
	source string
	file   string

	mu    sync.Mutex
	inner credentials.CredentialsProvider
}

// GetCredentials implements credentials.CredentialsProvider.
func (p *sdkProfileProvider) GetCredentials() (cc *credentials.Credentials, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			cc, err = nil, &CredentialError{Source: p.source, err: fmt.Errorf("%s: the SDK's provider for this profile failed on a malformed answer", p.file)}
		}
	}()
	c, err := p.inner.GetCredentials()
	if err != nil {
		return nil, &CredentialError{Source: p.source, err: fmt.Errorf("%s: %s", p.file, profileMessage(err))}
	}
	if c == nil || c.AccessKeyId == "" || c.AccessKeySecret == "" {
		return nil, &CredentialError{Source: p.source, err: fmt.Errorf("%s: the profile gives no AccessKey", p.file)}
	}
	out := *c
	out.ProviderName = p.source
	return &out, nil
}

// GetProviderName implements credentials.CredentialsProvider.
func (p *sdkProfileProvider) GetProviderName() string { return p.source }

// profileMessage is the SDK's error text unless that text may quote the
// file: its JSON decoder error of the CLI config carries the whole file, and
// an INI parse error carries the offending line.
func profileMessage(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unmarshal"):
		return "the file is not valid JSON"
	case strings.Contains(msg, "Can not open file"):
		return "the file cannot be read or is not a valid INI file"
	}
	return safeMessage(strings.TrimPrefix(msg, "ERROR: "))
}
