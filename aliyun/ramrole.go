package aliyun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/joinhintd/joinhintd/daemon"
)

// roleCredentialsItem is the metadata directory of ECS RAM role credentials:
// it lists the attached role, and <item><role> is that role's credential.
const roleCredentialsItem = "ram/security-credentials/"

// roleNameRE is what a RAM role name looks like (RAM allows letters, digits,
// "." and "-", up to 64 characters; "_" and "@" are let through).
var roleNameRE = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// ramRoleFetcher reads the credential of the ECS RAM role attached to this
// instance through our Metadata client, so --metadata-endpoint and hardened
// mode apply (the SDK's provider hard-codes http://100.100.100.200 and
// dereferences nil on a document without Code or Expiration). Every problem
// with the answer is an error; nothing here panics.
type ramRoleFetcher struct {
	md   *Metadata
	role string // "": the role the service lists, asked on every fetch
}

// fetch implements refreshingProvider.fetch.
func (f *ramRoleFetcher) fetch(ctx context.Context) (sessionCredential, error) {
	role := f.role
	if role == "" {
		var err error
		if role, err = f.attachedRole(ctx); err != nil {
			return sessionCredential{}, err
		}
	}
	doc, err := f.md.Get(ctx, roleCredentialsItem+url.PathEscape(role))
	if errors.Is(err, ErrMetadataNotFound) {
		return sessionCredential{}, fmt.Errorf("the instance has no RAM role %q (metadata %s%s: not found); attach it, or fix --ram-role", role, roleCredentialsItem, role)
	}
	if err != nil {
		return sessionCredential{}, err
	}
	c, err := parseRoleDocument(doc)
	if err != nil {
		return sessionCredential{}, &reasonError{daemon.ReasonServer, fmt.Errorf("role %q: %w", role, err)}
	}
	return c, nil
}

// attachedRole asks the service which role is attached: the first line of
// the directory listing.
func (f *ramRoleFetcher) attachedRole(ctx context.Context) (string, error) {
	list, err := f.md.Get(ctx, roleCredentialsItem)
	if errors.Is(err, ErrMetadataNotFound) {
		return "", fmt.Errorf("no RAM role is attached to this instance (metadata %s: not found); attach one, or name it with --ram-role", roleCredentialsItem)
	}
	if err != nil {
		return "", err
	}
	role, _, _ := strings.Cut(list, "\n")
	role = strings.TrimSuffix(strings.TrimSpace(role), "/")
	switch {
	case role == "":
		return "", fmt.Errorf("no RAM role is attached to this instance (metadata %s lists none)", roleCredentialsItem)
	case !roleNameRE.MatchString(role):
		// Never echoed: a confused service may answer with anything.
		return "", &reasonError{daemon.ReasonServer, fmt.Errorf("metadata %s: the answer is not a role name (%d bytes)", roleCredentialsItem, len(list))}
	}
	return role, nil
}

// parseRoleDocument checks a role credential document: Code "Success", the
// three secrets present and an Expiration in the service's layout. Its errors
// name fields, never their values (the values are the secrets).
func parseRoleDocument(doc string) (sessionCredential, error) {
	var d struct {
		Code *string `json:"Code"`
		credentialFields
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return sessionCredential{}, fmt.Errorf("the credential document is not the JSON the metadata service sends (%d bytes)", len(doc))
	}
	switch {
	case d.Code == nil:
		return sessionCredential{}, fmt.Errorf("the credential document has no Code")
	case *d.Code != "Success":
		// Never echoed: nothing of a credential document is.
		return sessionCredential{}, fmt.Errorf("the credential document's Code is not Success (%d bytes)", len(*d.Code))
	}
	return d.session("the credential document", "")
}

// reasonError gives err a daemon.Reason.
type reasonError struct {
	reason daemon.Reason
	err    error
}

func (e *reasonError) Error() string         { return e.err.Error() }
func (e *reasonError) Unwrap() error         { return e.err }
func (e *reasonError) Reason() daemon.Reason { return e.reason }
