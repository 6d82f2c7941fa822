package ecstest

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// timestampLayout is the only Timestamp form accepted: ISO 8601 UTC,
// yyyy-MM-ddTHH:mm:ssZ.
const timestampLayout = "2006-01-02T15:04:05Z"

// authParams are the common parameters every signed request must carry, in
// the order their absence is reported.
func authParams() []string {
	return []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"}
}

// route checks what the gateway needs to find the API: path, method, Action,
// Version (ECS 2014-05-26 or STS 2015-04-01) and Format.
func route(r *http.Request, p url.Values) *apiError {
	if r.URL.Path != "/" || (r.Method != http.MethodGet && r.Method != http.MethodPost) {
		return errAPINotFound()
	}
	if p.Get("Action") == "" {
		return errMissing("Action")
	}
	if p.Get("Version") == "" {
		return errMissing("Version")
	}
	switch p.Get("Version") {
	case APIVersion:
		if p.Get("Action") != ActionDescribeInstances {
			return errActionNotFound()
		}
	case STSVersion:
		if a := p.Get("Action"); a != ActionAssumeRole && a != ActionAssumeRoleWithOIDC {
			return errActionNotFound()
		}
	default:
		return errInvalidVersion()
	}
	if f := p.Get("Format"); !strings.EqualFold(f, "JSON") {
		return errFormat(f)
	}
	return nil
}

// authenticate checks the signature and everything around it (see the
// package documentation for the order) and returns the caller's credential.
// A request that passes consumes its nonce.
func (s *Server) authenticate(method string, p url.Values, now time.Time) (Credential, *apiError) {
	for _, name := range authParams() {
		if p.Get(name) == "" {
			return Credential{}, errMissing(name)
		}
	}
	if p.Get("SignatureMethod") != "HMAC-SHA1" {
		return Credential{}, errSignatureMethod()
	}
	if p.Get("SignatureVersion") != "1.0" {
		return Credential{}, errSignatureVersion()
	}
	ts, err := time.Parse(timestampLayout, p.Get("Timestamp"))
	if err != nil {
		return Credential{}, errTimestampFormat()
	}
	if d := now.Sub(ts); d > skew || d < -skew {
		return Credential{}, errTimestampExpired()
	}
	ak := p.Get("AccessKeyId")
	s.mu.Lock()
	cred, ok := s.creds[ak]
	s.mu.Unlock()
	if !ok {
		return Credential{}, errAccessKeyNotFound()
	}
	if e := checkToken(cred, p, now); e != nil {
		return Credential{}, e
	}
	sts := StringToSign(method, p)
	want := signString(sts, cred.AccessKeySecret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(p.Get("Signature"))) != 1 {
		return Credential{}, errSignature(sts)
	}
	if !s.useNonce(ak, p.Get("SignatureNonce"), now) {
		return Credential{}, errNonceUsed()
	}
	return cred, nil
}

// checkToken applies the STS rules and expiry.
func checkToken(cred Credential, p url.Values, now time.Time) *apiError {
	tok := p.Get("SecurityToken")
	expired := !cred.Expires.IsZero() && !now.Before(cred.Expires)
	if cred.SecurityToken == "" {
		if tok != "" {
			return errTokenMismatch()
		}
		if expired {
			return errAccessKeyInactive()
		}
		return nil
	}
	switch {
	case tok == "":
		return errMissingSecurityToken()
	case subtle.ConstantTimeCompare([]byte(tok), []byte(cred.SecurityToken)) != 1:
		return errTokenMismatch()
	case expired:
		return errTokenExpired()
	}
	return nil
}

// useNonce records nonce for ak and reports whether it was unused within the
// last 15 minutes.
func (s *Server) useNonce(ak, nonce string, now time.Time) bool {
	key := ak + "\n" + nonce
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.nonces[key]; ok && now.Sub(t) <= skew {
		return false
	}
	s.nonces[key] = now
	if len(s.nonces) >= s.noncePruneAt {
		for k, t := range s.nonces {
			if now.Sub(t) > skew {
				delete(s.nonces, k)
			}
		}
		s.noncePruneAt = max(1024, 2*len(s.nonces))
	}
	return true
}
