package ecstest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// percentEncode encodes s per RFC 3986 as the RPC signature requires: the
// unreserved characters A-Z a-z 0-9 - _ . ~ stay, every other byte of the UTF-8
// encoding becomes %XY with upper-case hex (so space is %20, never +, and * is
// %2A).
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0f])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return c == '-' || c == '_' || c == '.' || c == '~'
}

// canonicalQuery is the CanonicalizedQueryString: every parameter except
// Signature, empty values included, sorted by name in byte order, names and
// values percent-encoded, joined with "&". Repeated values of one name keep
// their order of arrival.
func canonicalQuery(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range params[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(percentEncode(k))
			b.WriteByte('=')
			b.WriteString(percentEncode(v))
		}
	}
	return b.String()
}

// StringToSign returns the RPC signature v1 string to sign for a request made
// with method (GET or POST) carrying params (query and form merged):
// METHOD&%2F&percentEncode(CanonicalizedQueryString).
func StringToSign(method string, params url.Values) string {
	return method + "&" + percentEncode("/") + "&" + percentEncode(canonicalQuery(params))
}

// Sign returns the RPC signature v1 of params for method:
// Base64(HMAC-SHA1(secret + "&", StringToSign)). A Signature parameter already
// in params is ignored. Tests that hand-craft requests use it with
// params.Set("Signature", Sign(...)).
func Sign(method string, params url.Values, secret string) string {
	return signString(StringToSign(method, params), secret)
}

func signString(stringToSign, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
