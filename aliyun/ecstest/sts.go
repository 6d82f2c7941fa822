package ecstest

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The STS API the same Server serves (see the package documentation, "STS").
const (
	STSVersion               = "2015-04-01"
	ActionAssumeRole         = "AssumeRole"
	ActionAssumeRoleWithOIDC = "AssumeRoleWithOIDC"
)

// Bounds of DurationSeconds: STS's minimum and a role's default maximum
// session duration.
const (
	minSessionSeconds     = 900
	maxSessionSeconds     = 3600
	defaultSessionSeconds = 3600
)

var sessionNameRE = regexp.MustCompile(`^[A-Za-z0-9._@-]{2,64}$`)

// AddRole registers a RAM role that AssumeRole and AssumeRoleWithOIDC may
// assume. Each successful call gets issue() (nil issue: a fresh random
// credential); empty AccessKeyID, AccessKeySecret or SecurityToken are filled
// with random values and a zero Expires becomes now + DurationSeconds. The
// issued credential is registered with the Server as by AddCredential, so
// DescribeInstances accepts it, signed with its secret and SecurityToken, until
// it expires. Registering arn again replaces its issuer.
func (s *Server) AddRole(arn string, issue func() Credential) {
	s.mu.Lock()
	s.roles[arn] = issue
	s.mu.Unlock()
}

// RemoveRole forgets role arn; credentials it issued stay valid.
func (s *Server) RemoveRole(arn string) {
	s.mu.Lock()
	delete(s.roles, arn)
	s.mu.Unlock()
}

// AddOIDCProvider registers an OIDC identity provider for
// AssumeRoleWithOIDC, which then accepts exactly token from it. Registering
// arn again replaces the token, as a platform rotating it would.
func (s *Server) AddOIDCProvider(arn, token string) {
	s.mu.Lock()
	s.oidc[arn] = token
	s.mu.Unlock()
}

// serveSTS answers an STS request that route accepted, recording it in
// Calls like any other.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, p url.Values, call Call) {
	var (
		resp any
		e    *apiError
	)
	if p.Get("Action") == ActionAssumeRole {
		resp, e = s.assumeRole(r.Method, p, call.Time)
	} else {
		resp, e = s.assumeRoleWithOIDC(p, call.Time)
	}
	call.Code = "Success"
	if e != nil {
		call.Code = e.code
	}
	s.record(call)
	id := newRequestID()
	setHeaders(w.Header(), id)
	if e != nil {
		w.WriteHeader(e.status)
		_, _ = w.Write(marshal(wireError{
			RequestID: id,
			HostID:    r.Host,
			Code:      e.code,
			Message:   e.message,
			Recommend: "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(e.code) + "&product=Sts&requestId=" + id,
		}))
		return
	}
	switch v := resp.(type) {
	case *wireAssumeRole:
		v.RequestID = id
	case *wireAssumeRoleWithOIDC:
		v.RequestID = id
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(marshal(resp))
}

// assumeRole serves AssumeRole: signed like DescribeInstances, by any
// registered credential (STS ones too: role chaining).
func (s *Server) assumeRole(method string, p url.Values, now time.Time) (any, *apiError) {
	if _, e := s.authenticate(method, p, now); e != nil {
		return nil, e
	}
	arn, session, seconds, e := sessionParams(p)
	if e != nil {
		return nil, e
	}
	c, e := s.issue(arn, seconds, now)
	if e != nil {
		return nil, e
	}
	return &wireAssumeRole{AssumedRoleUser: assumedUser(arn, session), Credentials: wireSTSCredentials(c)}, nil
}

// assumeRoleWithOIDC serves AssumeRoleWithOIDC: unsigned, the OIDC token is
// the proof; provider, token and role must be registered.
func (s *Server) assumeRoleWithOIDC(p url.Values, now time.Time) (any, *apiError) {
	provider, token := p.Get("OIDCProviderArn"), p.Get("OIDCToken")
	if provider == "" {
		return nil, errMissing("OIDCProviderArn")
	}
	if token == "" {
		return nil, &apiError{http.StatusUnauthorized, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken can not empty.", false}
	}
	arn, session, seconds, e := sessionParams(p)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	want, ok := s.oidc[provider]
	s.mu.Unlock()
	if !ok {
		return nil, &apiError{http.StatusUnauthorized, "AuthenticationFail.NoPermission", "No such OIDC Provider registered.", false}
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
		return nil, &apiError{http.StatusUnauthorized, "AuthenticationFail.OIDCToken.Invalid", "The Jwt content is invalid that cannot be recognized.", false}
	}
	c, e := s.issue(arn, seconds, now)
	if e != nil {
		return nil, e
	}
	return &wireAssumeRoleWithOIDC{
		AssumedRoleUser: assumedUser(arn, session),
		Credentials:     wireSTSCredentials(c),
		OIDCTokenInfo:   wireOIDCTokenInfo{Subject: "system:serviceaccount:vault:joinhintd", Issuer: "https://oidc.example.invalid", ClientIDs: "sts.aliyuncs.com"},
	}, nil
}

// sessionParams reads RoleArn, RoleSessionName and DurationSeconds.
func sessionParams(p url.Values) (arn, session string, seconds int, e *apiError) {
	arn, session = p.Get("RoleArn"), p.Get("RoleSessionName")
	switch {
	case arn == "":
		return "", "", 0, errMissing("RoleArn")
	case session == "":
		return "", "", 0, errMissing("RoleSessionName")
	case !sessionNameRE.MatchString(session):
		return "", "", 0, &apiError{http.StatusBadRequest, "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed.", false}
	}
	seconds = defaultSessionSeconds
	if v := p.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < minSessionSeconds || n > maxSessionSeconds {
			return "", "", 0, &apiError{http.StatusBadRequest, "InvalidParameter.DurationSeconds", "The Min/Max value of DurationSeconds is 15min/1hr.", false}
		}
		seconds = n
	}
	return arn, session, seconds, nil
}

// issue makes and registers a credential of role arn.
func (s *Server) issue(arn string, seconds int, now time.Time) (Credential, *apiError) {
	s.mu.Lock()
	issue, ok := s.roles[arn]
	s.mu.Unlock()
	if !ok {
		return Credential{}, &apiError{http.StatusNotFound, "EntityNotExist.Role", "The specified Role not exists .", false}
	}
	var c Credential
	if issue != nil {
		c = issue()
	}
	if c.AccessKeyID == "" {
		c.AccessKeyID = "STS.NT" + strings.ToUpper(newToken()[:20])
	}
	if c.AccessKeySecret == "" {
		c.AccessKeySecret = newToken()
	}
	if c.SecurityToken == "" {
		c.SecurityToken = "CAIS" + newToken() + newToken()
	}
	if c.Expires.IsZero() {
		c.Expires = now.Add(time.Duration(seconds) * time.Second)
	}
	s.AddCredential(c)
	return c, nil
}

type wireAssumedRoleUser struct {
	Arn           string `json:"Arn"`
	AssumedRoleID string `json:"AssumedRoleId"`
}

type wireSTSCredential struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken"`
	Expiration      string `json:"Expiration"`
}

type wireAssumeRole struct {
	RequestID       string              `json:"RequestId"`
	AssumedRoleUser wireAssumedRoleUser `json:"AssumedRoleUser"`
	Credentials     wireSTSCredential   `json:"Credentials"`
}

type wireOIDCTokenInfo struct {
	Subject   string `json:"Subject"`
	Issuer    string `json:"Issuer"`
	ClientIDs string `json:"ClientIds"`
}

type wireAssumeRoleWithOIDC struct {
	RequestID       string              `json:"RequestId"`
	AssumedRoleUser wireAssumedRoleUser `json:"AssumedRoleUser"`
	Credentials     wireSTSCredential   `json:"Credentials"`
	OIDCTokenInfo   wireOIDCTokenInfo   `json:"OIDCTokenInfo"`
}

func assumedUser(arn, session string) wireAssumedRoleUser {
	return wireAssumedRoleUser{Arn: arn + "/" + session, AssumedRoleID: "3" + digest("role/" + arn)[:17] + ":" + session}
}

func wireSTSCredentials(c Credential) wireSTSCredential {
	return wireSTSCredential{c.AccessKeyID, c.AccessKeySecret, c.SecurityToken, c.Expires.UTC().Format(timestampLayout)}
}
