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
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("OIDC token file: %w", err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxOIDCToken+1))
	if err != nil {
		return "", fmt.Errorf("OIDC token file %s: %w", path, err)
	}
	if len(b) > maxOIDCToken {
		return "", fmt.Errorf("OIDC token file %s is larger than %d bytes", path, maxOIDCToken)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("OIDC token file %s is empty", path)
	}
	return token, nil
}
