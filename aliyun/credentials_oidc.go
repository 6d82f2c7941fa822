package aliyun

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxOIDCToken bounds the token file read: a JWT is a few KB.
const maxOIDCToken = 64 << 10

// oidcFetcher exchanges the OIDC token in a file for an STS credential with
// AssumeRoleWithOIDC (RRSA). The file is read on every fetch: the platform
// rotates the token in place.
type oidcFetcher struct {
	sts                           *stsClient
	roleArn, providerArn, session string
	tokenFile                     string
}

func (f *oidcFetcher) fetch(ctx context.Context) (sessionCredential, error) {
	token, err := readToken(f.tokenFile)
	if err != nil {
		return sessionCredential{}, err
	}
	return f.sts.assumeRoleWithOIDC(ctx, f.providerArn, f.roleArn, token, f.session)
}

// readToken reads a token file; its errors name the file, not the content.
func readToken(path string) (string, error) {
	token, err := readSmallFile(path, maxOIDCToken)
	if err != nil {
		return "", fmt.Errorf("OIDC token file: %w", err)
	}
	return token, nil
}

// readSmallFile returns the contents of the file at path, surrounding white
// space trimmed. A file larger than limit bytes, or empty, is an error that
// names the file; no error quotes its content.
func readSmallFile(path string, limit int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return "", fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s: empty", path)
	}
	return s, nil
}
