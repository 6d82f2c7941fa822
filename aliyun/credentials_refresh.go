package aliyun

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"go.uber.org/zap"

	"github.com/joinhintd/joinhintd/daemon"
)

// credentialRefreshMargin is how long before its Expiration a temporary
// credential is replaced: the SDK's 180 s. A request signed just before the
// margin still has minutes to reach the API, and a refresh that fails inside
// the margin leaves those minutes to retry while the cached credential works.
const credentialRefreshMargin = 3 * time.Minute

// credentialFetchTimeout bounds one refresh (the SDK gives GetCredentials no
// context): a metadata read is three calls of at most 2 s, an AssumeRole 15 s.
const credentialFetchTimeout = 20 * time.Second

// CredentialError is a failure to get credentials: no API request was signed.
// Its message names the source and what failed, never a secret.
type CredentialError struct {
	Source string // e.g. "ram-role", "env+assume-role"
	err    error
}

func (e *CredentialError) Error() string {
	return fmt.Sprintf("%s credentials: %v", e.Source, e.err)
}

// Unwrap returns the cause (an *STSError, a metadata or file error); like
// the message, it holds no secret.
func (e *CredentialError) Unwrap() error { return e.err }

// Reason implements daemon.Classified: the cause's reason when it has one
// (an STS code, a metadata transport failure), else auth, as a credential
// that cannot be had is fixed by configuration, not by retrying sooner.
func (e *CredentialError) Reason() daemon.Reason {
	var c daemon.Classified
	if errors.As(e.err, &c) {
		return c.Reason()
	}
	var ne interface{ Timeout() bool }
	if errors.As(e.err, &ne) || errors.Is(e.err, context.DeadlineExceeded) {
		return daemon.ReasonNetwork
	}
	return daemon.ReasonAuth
}

// refreshingProvider caches a temporary credential from fetch and fetches a
// new one when at most credentialRefreshMargin is left. When a refresh fails
// while the cached credential still works, it keeps signing with that one and
// logs a warning. One fetch runs at a time; safe for concurrent use.
type refreshingProvider struct {
	source string
	fetch  func(context.Context) (sessionCredential, error)
	now    func() time.Time
	log    *zap.Logger

	mu  sync.Mutex
	cur *sessionCredential
}

// GetCredentials implements credentials.CredentialsProvider.
func (p *refreshingProvider) GetCredentials() (*credentials.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.cur != nil && p.cur.Expiration.Sub(now) > credentialRefreshMargin {
		return p.sdk(p.cur), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), credentialFetchTimeout)
	defer cancel()
	c, err := p.fetch(ctx)
	if err == nil && !c.Expiration.After(now) {
		err = fmt.Errorf("the new credential expired at %s, before it arrived (is this machine's clock right?)", c.Expiration.UTC().Format(time.RFC3339))
	}
	if err != nil {
		err = &CredentialError{Source: p.source, err: err}
		if p.cur != nil && now.Before(p.cur.Expiration) {
			p.log.Warn("credential refresh failed; signing with the cached credential until it expires",
				zap.String("credential_source", p.source),
				zap.Time("expires", p.cur.Expiration),
				zap.Error(err))
			return p.sdk(p.cur), nil
		}
		return nil, err
	}
	p.log.Debug("credential fetched",
		zap.String("credential_source", p.source),
		zap.String("access_key_id", c.AccessKeyID),
		zap.Time("expires", c.Expiration))
	p.cur = &c
	return p.sdk(p.cur), nil
}

// GetProviderName implements credentials.CredentialsProvider: the SDK sends
// it as x-acs-credentials-provider.
func (p *refreshingProvider) GetProviderName() string { return p.source }

func (p *refreshingProvider) sdk(c *sessionCredential) *credentials.Credentials {
	return &credentials.Credentials{
		AccessKeyId:     c.AccessKeyID,
		AccessKeySecret: c.AccessKeySecret,
		SecurityToken:   c.SecurityToken,
		ProviderName:    p.source,
	}
}

// staticProvider serves one fixed credential (keys and, for STS, a token).
type staticProvider struct {
	source string
	cred   credentials.Credentials
}

// GetCredentials implements credentials.CredentialsProvider.
func (p *staticProvider) GetCredentials() (*credentials.Credentials, error) {
	c := p.cred
	c.ProviderName = p.source
	return &c, nil
}

// GetProviderName implements credentials.CredentialsProvider.
func (p *staticProvider) GetProviderName() string { return p.source }
