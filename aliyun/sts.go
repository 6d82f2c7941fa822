package aliyun

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/joinhintd/joinhintd/daemon"
)

// The STS API joinhintd calls (RPC style, signature v1, like ECS).
const (
	stsVersion                = "2015-04-01"
	actionAssumeRole          = "AssumeRole"
	actionAssumeRoleWithOIDC  = "AssumeRoleWithOIDC"
	defaultSTSEndpoint        = "sts.aliyuncs.com"
	stsConnectTimeout         = 5 * time.Second
	stsReadTimeout            = 10 * time.Second
	stsMaxBody                = 1 << 20
	stsTimeLayout             = "2006-01-02T15:04:05Z"
	defaultRoleSessionName    = "joinhintd"
	defaultRoleSessionSeconds = 3600
)

// stsClient calls AssumeRole and AssumeRoleWithOIDC. It is small on purpose:
// the SDK's STS callers hard-code https and their errors echo answers. Every
// parameter travels in the POST body, so no URL (which ends up in transport
// errors) ever carries a token or a signature. Safe for concurrent use.
type stsClient struct {
	scheme, host string
	now          func() time.Time
	client       *http.Client
}

func newSTSClient(scheme, host string, now func() time.Time) *stsClient {
	return &stsClient{scheme: scheme, host: host, now: now, client: credentialHTTPClient()}
}

// credentialHTTPClient is the HTTP client of the STS and credentials-URI
// calls: bounded connect and read times, and no idle connections, as one
// call an hour gains nothing from them. A proxy from the environment is how
// a node without Internet access may reach a public endpoint; loopback is
// never proxied.
func credentialHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: stsConnectTimeout}
	return &http.Client{
		Timeout: stsConnectTimeout + stsReadTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   stsConnectTimeout,
			ResponseHeaderTimeout: stsReadTimeout,
			DisableKeepAlives:     true,
		},
	}
}

// sessionCredential is a temporary credential and when it stops working.
type sessionCredential struct {
	AccessKeyID, AccessKeySecret, SecurityToken string
	Expiration                                  time.Time
}

// credentialFields is how STS, the metadata service and a credentials URI
// all write a temporary credential.
type credentialFields struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken"`
	Expiration      string `json:"Expiration"`
}

// session checks that every field is there and that Expiration has the
// services' layout. Its error says it of what (e.g. "the answer") and names
// the fields (after prefix, e.g. "Credentials."), never a value: the values
// are the secrets.
func (f credentialFields) session(what, prefix string) (sessionCredential, error) {
	var missing []string
	for _, fl := range [...]struct{ name, v string }{
		{"AccessKeyId", f.AccessKeyID}, {"AccessKeySecret", f.AccessKeySecret},
		{"SecurityToken", f.SecurityToken}, {"Expiration", f.Expiration},
	} {
		if fl.v == "" {
			missing = append(missing, prefix+fl.name)
		}
	}
	if len(missing) > 0 {
		return sessionCredential{}, fmt.Errorf("%s has no %s", what, strings.Join(missing, ", "))
	}
	exp, err := time.Parse(stsTimeLayout, f.Expiration)
	if err != nil {
		return sessionCredential{}, fmt.Errorf("%s's %sExpiration is not a time of the form %s", what, prefix, stsTimeLayout)
	}
	return sessionCredential{AccessKeyID: f.AccessKeyID, AccessKeySecret: f.AccessKeySecret, SecurityToken: f.SecurityToken, Expiration: exp}, nil
}

// STSError is a failed STS call: the STS error code (or "transport" /
// "decode"), the request id when STS gave one, and the failure reason. Like
// APIError, its message never holds a secret.
type STSError struct {
	Action     string
	Code       string
	Request    string
	HTTPStatus int
	Message    string
	reason     daemon.Reason
}

// Error carries the request id: a CredentialError around it is what the
// loop logs, and that has none of its own.
func (e *STSError) Error() string {
	return callError(e.Action, e.Code, e.HTTPStatus, e.Message, e.Request)
}

// Reason implements daemon.Classified.
func (e *STSError) Reason() daemon.Reason { return e.reason }

// ErrorCode implements daemon.Detailed.
func (e *STSError) ErrorCode() string { return e.Code }

// RequestID implements daemon.Detailed.
func (e *STSError) RequestID() string { return e.Request }

// assumeRole calls AssumeRole signed with src.
func (c *stsClient) assumeRole(ctx context.Context, src *credentials.Credentials, roleArn, session string) (sessionCredential, error) {
	p := url.Values{}
	p.Set("RoleArn", roleArn)
	p.Set("RoleSessionName", session)
	p.Set("DurationSeconds", strconv.Itoa(defaultRoleSessionSeconds))
	return c.call(ctx, actionAssumeRole, p, src)
}

// assumeRoleWithOIDC calls AssumeRoleWithOIDC, which is not signed: the OIDC
// token is the proof.
func (c *stsClient) assumeRoleWithOIDC(ctx context.Context, providerArn, roleArn, token, session string) (sessionCredential, error) {
	p := url.Values{}
	p.Set("OIDCProviderArn", providerArn)
	p.Set("RoleArn", roleArn)
	p.Set("OIDCToken", token)
	p.Set("RoleSessionName", session)
	p.Set("DurationSeconds", strconv.Itoa(defaultRoleSessionSeconds))
	return c.call(ctx, actionAssumeRoleWithOIDC, p, nil)
}

// call sends one STS request, signed with signer unless it is nil.
func (c *stsClient) call(ctx context.Context, action string, p url.Values, signer *credentials.Credentials) (sessionCredential, error) {
	p.Set("Action", action)
	p.Set("Version", stsVersion)
	p.Set("Format", "JSON")
	p.Set("Timestamp", c.now().UTC().Format(stsTimeLayout))
	if signer != nil {
		p.Set("AccessKeyId", signer.AccessKeyId)
		p.Set("SignatureMethod", "HMAC-SHA1")
		p.Set("SignatureVersion", "1.0")
		p.Set("SignatureNonce", nonce())
		if signer.SecurityToken != "" {
			p.Set("SecurityToken", signer.SecurityToken)
		}
		p.Set("Signature", rpcSignature(http.MethodPost, p, signer.AccessKeySecret))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.scheme+"://"+c.host+"/", strings.NewReader(p.Encode()))
	if err != nil {
		return sessionCredential{}, &STSError{Action: action, Code: codeTransport, Message: "bad STS endpoint " + c.host, reason: daemon.ReasonOther}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return sessionCredential{}, &STSError{Action: action, Code: codeTransport, Message: transportMessage(err), reason: daemon.ReasonNetwork}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, stsMaxBody))
	if err != nil {
		return sessionCredential{}, &STSError{Action: action, Code: codeTransport, HTTPStatus: resp.StatusCode, Message: transportMessage(err), reason: daemon.ReasonNetwork}
	}
	if resp.StatusCode != http.StatusOK {
		return sessionCredential{}, stsFailure(action, resp.StatusCode, body)
	}
	return parseSTSCredential(action, body)
}

// stsFailure reads an error answer: the same JSON shape as ECS errors.
func stsFailure(action string, status int, body []byte) *STSError {
	var doc struct {
		RequestID string `json:"RequestId"`
		Code      string `json:"Code"`
		Message   string `json:"Message"`
	}
	e := &STSError{Action: action, HTTPStatus: status}
	if json.Unmarshal(body, &doc) != nil || doc.Code == "" {
		// A proxy's or load balancer's page: no code, and never echoed.
		e.Code = codeDecode
		e.Message = fmt.Sprintf("answer without an STS error code (%d bytes)", len(body))
		e.reason = reasonForCode(codeDecode, status)
		return e
	}
	e.Code, e.Request, e.Message = doc.Code, doc.RequestID, safeMessage(doc.Message)
	e.reason = reasonForCode(e.Code, status)
	if strings.HasPrefix(e.Code, "EntityNotExist") || strings.HasPrefix(e.Code, "AuthenticationFail") {
		e.reason = daemon.ReasonAuth
	}
	return e
}

// parseSTSCredential reads a successful answer; it never echoes the body,
// which holds the secret.
func parseSTSCredential(action string, body []byte) (sessionCredential, error) {
	var doc struct {
		RequestID   string           `json:"RequestId"`
		Credentials credentialFields `json:"Credentials"`
	}
	bad := func(msg string) (sessionCredential, error) {
		return sessionCredential{}, &STSError{Action: action, Code: codeDecode, Request: doc.RequestID, HTTPStatus: http.StatusOK, Message: msg, reason: daemon.ReasonServer}
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return bad(fmt.Sprintf("the answer is not the JSON %s returns (%d bytes)", action, len(body)))
	}
	c, err := doc.Credentials.session("the answer", "Credentials.")
	if err != nil {
		return bad(err.Error())
	}
	return c, nil
}

// rpcSignature is the RPC signature v1 of params (every one but Signature,
// empty values included) for method: Base64(HMAC-SHA1(secret + "&",
// METHOD&%2F&encode(canonical query))).
func rpcSignature(method string, params url.Values, secret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var q strings.Builder
	for _, k := range keys {
		for _, v := range params[k] {
			if q.Len() > 0 {
				q.WriteByte('&')
			}
			q.WriteString(rfc3986(k))
			q.WriteByte('=')
			q.WriteString(rfc3986(v))
		}
	}
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	io.WriteString(mac, method+"&"+rfc3986("/")+"&"+rfc3986(q.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// rfc3986 percent-encodes every byte but A-Z a-z 0-9 - _ . ~, with upper-case
// hex: what the signature needs (space is %20, * is %2A, ~ stays).
func rfc3986(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
	return b.String()
}

// nonce is a fresh SignatureNonce.
func nonce() string { return rand.Text() }
