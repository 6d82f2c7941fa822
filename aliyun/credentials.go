package aliyun

// Credentials: where the keys that sign DescribeInstances come from.
//
// NewCredentialsProvider picks one source when it is built, so the start log
// can name it, and never walks a chain at request time. With Source "auto"
// (the default) the first source whose inputs are present wins:
//
//  1. static: access_key_id and access_key_secret of --auto-join.
//  2. env: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET,
//     with ALIBABA_CLOUD_SECURITY_TOKEN for an STS credential.
//  3. alicloud-env: the Terraform-style ALICLOUD_ACCESS_KEY and
//     ALICLOUD_SECRET_KEY, with ALICLOUD_ACCESS_KEY_STS_TOKEN for STS.
//  4. oidc (RRSA): when ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN
//     and ALIBABA_CLOUD_OIDC_TOKEN_FILE are all set, AssumeRoleWithOIDC
//     (unsigned) with the token file, read again on every refresh.
//  5. profile: the Aliyun CLI profile ~/.aliyun/config.json (profile
//     ALIBABA_CLOUD_PROFILE, else the file's current one; skipped when
//     ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true), else the credentials file
//     ALIBABA_CLOUD_CREDENTIALS_FILE or ~/.alibabacloud/credentials (profile
//     ALIBABA_CLOUD_PROFILE, else "default"). The SDK's providers read them,
//     and only a file that exists is chosen.
//  6. credentials-uri: ALIBABA_CLOUD_CREDENTIALS_URI, a URL answering
//     {AccessKeyId, AccessKeySecret, SecurityToken, Expiration}.
//  7. ram-role: the ECS RAM role, through the metadata service at
//     MetadataEndpoint (--metadata-endpoint), hardened mode as configured.
//     The role is RAMRole (--ram-role), else ALIBABA_CLOUD_ECS_METADATA, else
//     the one the service lists. "auto" leaves it out when
//     ALIBABA_CLOUD_ECS_METADATA_DISABLED=true; otherwise it is the last
//     resort, and off ECS its first refresh fails.
//
// Then, when ALIBABA_CLOUD_ROLE_ARN is set and neither is the source oidc nor
// ALIBABA_CLOUD_OIDC_PROVIDER_ARN set (the ARN is then OIDC's), the chosen
// source only signs AssumeRole for that role (session name
// ALIBABA_CLOUD_ROLE_SESSION_NAME, default "joinhintd", 3600 s), and the role's
// credential signs the API calls; the source name gains "+assume-role".
//
// Another Source forces that one source; its inputs missing is a one-line
// configuration error that names them. Inputs given by halves (a key without
// its secret, a token without keys, some of the OIDC variables, a
// credentials file that does not exist) are an error in "auto" too: stopping
// at start beats signing with credentials nobody meant.
//
// Temporary credentials (oidc, credentials-uri, ram-role, +assume-role) are
// cached and fetched again when credentialRefreshMargin (3 min) or less is
// left; when that fails while the cached one still works, it goes on signing
// with that one and logs a warning. Errors and logs name sources, files and
// variables, never a secret, an STS token or the metadata token.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"go.uber.org/zap"
)

// CredentialOptions configures NewCredentialsProvider. It holds secrets:
// never log it.
type CredentialOptions struct {
	// Source is "auto" ("" too) or one of CredentialSources to force it.
	Source string
	// AccessKeyID and AccessKeySecret are the static keys of --auto-join.
	AccessKeyID, AccessKeySecret string
	// RAMRole names the ECS RAM role (--ram-role); "": the attached one.
	RAMRole string
	// MetadataEndpoint is the metadata service's base URL; "":
	// DefaultMetadataEndpoint.
	MetadataEndpoint string
	// MetadataHardened requires the metadata session token
	// (--metadata-hardened): a refused token call is an error, never a
	// reason to read without one. ALIBABA_CLOUD_IMDSV1_DISABLED=true sets it
	// too.
	MetadataHardened bool
	// STSEndpoint is HOST[:PORT] of STS for AssumeRole and
	// AssumeRoleWithOIDC. "": sts-vpc.<Region>.aliyuncs.com when Network is
	// "vpc" (a node without Internet access reaches only VPC endpoints),
	// else sts.aliyuncs.com.
	STSEndpoint string
	// STSScheme is "https" ("" too) or "http", which is refused for a
	// non-loopback STSEndpoint unless InsecureEndpoint is set.
	STSScheme string
	// InsecureEndpoint allows STSScheme "http" to a non-loopback endpoint
	// (--insecure-endpoint).
	InsecureEndpoint bool
	// Region and Network ("public" or "vpc") choose the default STS endpoint.
	Region, Network string
	// Getenv reads the environment; nil: os.Getenv. The SDK's profile
	// providers read HOME, ALIBABA_CLOUD_CREDENTIALS_FILE and
	// ALIBABA_CLOUD_CLI_PROFILE_DISABLED from the process environment
	// themselves, so with another Getenv keep those the same.
	Getenv func(string) string
	// Now is the clock for expiry and request timestamps; nil: time.Now.
	Now func() time.Time
	// Log receives refresh warnings; nil: none.
	Log *zap.Logger
}

// The credential sources, as --credential-source takes them.
const (
	SourceAuto           = "auto"
	SourceStatic         = "static"
	SourceEnv            = "env"
	SourceAlicloudEnv    = "alicloud-env"
	SourceOIDC           = "oidc"
	SourceProfile        = "profile"
	SourceCredentialsURI = "credentials-uri"
	SourceRAMRole        = "ram-role"
	// assumeRoleSuffix marks a source wrapped in AssumeRole.
	assumeRoleSuffix = "+assume-role"
)

// CredentialSources returns the values --credential-source accepts, "auto"
// first and then in the order "auto" tries them.
func CredentialSources() []string {
	return []string{SourceAuto, SourceStatic, SourceEnv, SourceAlicloudEnv, SourceOIDC, SourceProfile, SourceCredentialsURI, SourceRAMRole}
}

// CredentialOptions returns the credential settings c carries, logging
// refresh warnings to log (nil: none).
func (c *Config) CredentialOptions(log *zap.Logger) CredentialOptions {
	return CredentialOptions{
		Source:           c.CredentialSource,
		AccessKeyID:      c.AccessKeyID,
		AccessKeySecret:  c.AccessKeySecret,
		RAMRole:          c.RAMRole,
		MetadataEndpoint: c.MetadataEndpoint,
		MetadataHardened: c.MetadataHardened,
		STSEndpoint:      c.STSEndpoint,
		STSScheme:        c.STSScheme,
		Region:           c.Region,
		Network:          c.Network,
		InsecureEndpoint: c.InsecureEndpoint,
		Getenv:           c.Getenv,
		Log:              log,
	}
}

// NewCredentialsProvider builds the provider for o and returns it with the
// source name for the start log (e.g. "ram-role", "env+assume-role"). It does
// no network I/O; an error is a configuration error, one line naming what to
// fix. The provider is safe for concurrent use.
func NewCredentialsProvider(o CredentialOptions) (credentials.CredentialsProvider, string, error) {
	b := newCredentialBuilder(o)
	src := o.Source
	if src == "" {
		src = SourceAuto
	}
	if !slices.Contains(CredentialSources(), src) {
		return nil, "", fmt.Errorf("invalid --credential-source %q: want %s", src, strings.Join(CredentialSources(), ", "))
	}
	var (
		p   credentials.CredentialsProvider
		err error
	)
	if src == SourceAuto {
		p, src, err = b.auto()
	} else {
		p, err = b.forced(src)
	}
	if err != nil {
		return nil, "", err
	}
	// With ALIBABA_CLOUD_OIDC_PROVIDER_ARN set, the role ARN is OIDC's (the
	// RRSA webhook sets both), a role that trusts the OIDC provider, not
	// whatever other source won.
	if arn := b.getenv("ALIBABA_CLOUD_ROLE_ARN"); arn != "" && src != SourceOIDC && b.getenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN") == "" {
		if p, err = b.assumeRole(p, src, arn); err != nil {
			return nil, "", err
		}
		src += assumeRoleSuffix
	}
	return p, src, nil
}

// credentialBuilder turns options and environment into one provider.
type credentialBuilder struct {
	o      CredentialOptions
	getenv func(string) string
	now    func() time.Time
	log    *zap.Logger
}

func newCredentialBuilder(o CredentialOptions) *credentialBuilder {
	b := &credentialBuilder{o: o, getenv: o.Getenv, now: o.Now, log: o.Log}
	if b.getenv == nil {
		b.getenv = os.Getenv
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.log == nil {
		b.log = zap.NewNop()
	}
	return b
}

// sourceFunc builds one source. missing, when not "", says which inputs are
// absent: the source does not apply. err is a configuration error.
type sourceFunc func() (p credentials.CredentialsProvider, missing string, err error)

func (b *credentialBuilder) source(name string) sourceFunc {
	switch name {
	case SourceStatic:
		return b.static
	case SourceEnv:
		return b.env
	case SourceAlicloudEnv:
		return b.alicloudEnv
	case SourceOIDC:
		return b.oidc
	case SourceProfile:
		return b.profile
	case SourceCredentialsURI:
		return b.credentialsURI
	default:
		return b.ramRole
	}
}

// auto returns the first source that applies.
func (b *credentialBuilder) auto() (credentials.CredentialsProvider, string, error) {
	for _, name := range CredentialSources()[1:] {
		if name == SourceRAMRole && isTrue(b.getenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED")) {
			break
		}
		p, missing, err := b.source(name)()
		if err != nil {
			return nil, "", fmt.Errorf("credentials: %w", err)
		}
		if missing == "" {
			return p, name, nil
		}
	}
	return nil, "", fmt.Errorf("no credentials: give access_key_id and access_key_secret in --auto-join, " +
		"set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, use a profile file, " +
		"or run on ECS with a RAM role (ALIBABA_CLOUD_ECS_METADATA_DISABLED=true turns that source off)")
}

// forced builds the one source named.
func (b *credentialBuilder) forced(name string) (credentials.CredentialsProvider, error) {
	p, missing, err := b.source(name)()
	switch {
	case err != nil:
		return nil, fmt.Errorf("--credential-source %s: %w", name, err)
	case missing != "":
		return nil, fmt.Errorf("--credential-source %s: %s", name, missing)
	}
	return p, nil
}

func (b *credentialBuilder) static() (credentials.CredentialsProvider, string, error) {
	id, secret := b.o.AccessKeyID, b.o.AccessKeySecret
	switch {
	case id == "" && secret == "":
		return nil, "access_key_id and access_key_secret are not in --auto-join", nil
	case id == "" || secret == "":
		return nil, "", fmt.Errorf("--auto-join needs both access_key_id and access_key_secret")
	}
	return keysProvider(SourceStatic, id, secret, ""), "", nil
}

func (b *credentialBuilder) env() (credentials.CredentialsProvider, string, error) {
	return b.keysFromEnv(SourceEnv, "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")
}

func (b *credentialBuilder) alicloudEnv() (credentials.CredentialsProvider, string, error) {
	return b.keysFromEnv(SourceAlicloudEnv, "ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_ACCESS_KEY_STS_TOKEN")
}

// keysFromEnv reads a key pair, and an STS token when set, from variables.
func (b *credentialBuilder) keysFromEnv(source, idVar, secretVar, tokenVar string) (credentials.CredentialsProvider, string, error) {
	id, secret, token := b.getenv(idVar), b.getenv(secretVar), b.getenv(tokenVar)
	switch {
	case id == "" && secret == "" && token == "":
		return nil, idVar + " and " + secretVar + " are not set", nil
	case id == "" && secret == "":
		return nil, "", fmt.Errorf("%s is set but %s and %s are not", tokenVar, idVar, secretVar)
	case secret == "":
		return nil, "", fmt.Errorf("%s is set but %s is not", idVar, secretVar)
	case id == "":
		return nil, "", fmt.Errorf("%s is set but %s is not", secretVar, idVar)
	}
	return keysProvider(source, id, secret, token), "", nil
}

func keysProvider(source, id, secret, token string) credentials.CredentialsProvider {
	return &staticProvider{source: source, cred: credentials.Credentials{AccessKeyId: id, AccessKeySecret: secret, SecurityToken: token}}
}

func (b *credentialBuilder) oidc() (credentials.CredentialsProvider, string, error) {
	vars := []string{"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE"}
	var missing []string
	for _, v := range vars {
		if b.getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	switch {
	case len(missing) == 0:
	case slices.Equal(missing, vars[1:]), len(missing) == len(vars):
		// Nothing of OIDC, or only the role ARN, which asks for AssumeRole.
		return nil, notSet(missing), nil
	default:
		return nil, "", fmt.Errorf("OIDC needs %s, but %s", strings.Join(vars, ", "), notSet(missing))
	}
	roleArn, providerArn, tokenFile := b.getenv(vars[0]), b.getenv(vars[1]), b.getenv(vars[2])
	if err := checkRoleArn(roleArn); err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(tokenFile); err != nil {
		return nil, "", fmt.Errorf("ALIBABA_CLOUD_OIDC_TOKEN_FILE: %w", err)
	}
	sts, err := b.stsClient()
	if err != nil {
		return nil, "", err
	}
	session, err := b.sessionName()
	if err != nil {
		return nil, "", err
	}
	f := &oidcFetcher{sts: sts, roleArn: roleArn, providerArn: providerArn, tokenFile: tokenFile, session: session}
	return b.refreshing(SourceOIDC, f.fetch), "", nil
}

func (b *credentialBuilder) profile() (credentials.CredentialsProvider, string, error) {
	home := b.getenv("HOME")
	name := b.getenv("ALIBABA_CLOUD_PROFILE")
	cliOff := isTrue(b.getenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED"))
	var looked []string
	if home != "" && !cliOff {
		cli := filepath.Join(home, ".aliyun", "config.json")
		if fileExists(cli) {
			inner := credentials.NewCLIProfileCredentialsProviderBuilder().WithProfileName(name).Build()
			return &sdkProfileProvider{source: SourceProfile, file: cli, inner: inner}, "", nil
		}
		looked = append(looked, cli)
	}
	file := b.getenv("ALIBABA_CLOUD_CREDENTIALS_FILE")
	switch {
	case file != "" && !fileExists(file):
		return nil, "", fmt.Errorf("ALIBABA_CLOUD_CREDENTIALS_FILE %s does not exist", file)
	case file == "" && home != "":
		file = filepath.Join(home, ".alibabacloud", "credentials")
		if !fileExists(file) {
			looked = append(looked, file)
			file = ""
		}
	}
	if file != "" {
		inner := credentials.NewProfileCredentialsProviderBuilder().WithProfileName(name).Build()
		return &sdkProfileProvider{source: SourceProfile, file: file, inner: inner}, "", nil
	}
	var why []string
	if len(looked) > 0 {
		why = append(why, "no "+strings.Join(looked, " nor "))
	}
	if home == "" {
		why = append(why, "HOME is not set")
	}
	if cliOff {
		why = append(why, "ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true")
	}
	return nil, "no profile file: " + strings.Join(why, "; "), nil
}

func (b *credentialBuilder) credentialsURI() (credentials.CredentialsProvider, string, error) {
	raw := b.getenv("ALIBABA_CLOUD_CREDENTIALS_URI")
	if raw == "" {
		return nil, "ALIBABA_CLOUD_CREDENTIALS_URI is not set", nil
	}
	// Never echoed: a URI may carry a token in its query.
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("invalid ALIBABA_CLOUD_CREDENTIALS_URI: want an http or https URL")
	}
	f := newURIFetcher(raw, u.Host)
	return b.refreshing(SourceCredentialsURI, f.fetch), "", nil
}

func (b *credentialBuilder) ramRole() (credentials.CredentialsProvider, string, error) {
	role := b.o.RAMRole
	if role == "" {
		role = b.getenv("ALIBABA_CLOUD_ECS_METADATA")
	}
	if role != "" && !roleNameRE.MatchString(role) {
		return nil, "", fmt.Errorf("invalid --ram-role %q: want a RAM role name (letters, digits, '.', '-')", role)
	}
	endpoint := b.o.MetadataEndpoint
	if endpoint == "" {
		endpoint = DefaultMetadataEndpoint
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("invalid --metadata-endpoint %q: want a URL such as %s", endpoint, DefaultMetadataEndpoint)
	}
	hardened := b.o.MetadataHardened || isTrue(b.getenv("ALIBABA_CLOUD_IMDSV1_DISABLED"))
	md := NewMetadata(endpoint, WithMetadataHardened(hardened), WithMetadataClock(b.now))
	f := &ramRoleFetcher{md: md, role: role}
	return b.refreshing(SourceRAMRole, f.fetch), "", nil
}

// assumeRole wraps src: its credential signs AssumeRole for roleArn.
func (b *credentialBuilder) assumeRole(src credentials.CredentialsProvider, source, roleArn string) (credentials.CredentialsProvider, error) {
	if err := checkRoleArn(roleArn); err != nil {
		return nil, err
	}
	sts, err := b.stsClient()
	if err != nil {
		return nil, err
	}
	session, err := b.sessionName()
	if err != nil {
		return nil, err
	}
	fetch := func(ctx context.Context) (sessionCredential, error) {
		cc, err := src.GetCredentials()
		if err != nil {
			return sessionCredential{}, fmt.Errorf("the credential to assume the role with: %w", err)
		}
		return sts.assumeRole(ctx, cc, roleArn, session)
	}
	return b.refreshing(source+assumeRoleSuffix, fetch), nil
}

func (b *credentialBuilder) refreshing(source string, fetch func(context.Context) (sessionCredential, error)) *refreshingProvider {
	return &refreshingProvider{source: source, fetch: fetch, now: b.now, log: b.log}
}

// stsClient returns the STS client the options describe.
func (b *credentialBuilder) stsClient() (*stsClient, error) {
	scheme := b.o.STSScheme
	if scheme == "" {
		scheme = "https"
	}
	if scheme != "https" && scheme != "http" {
		return nil, fmt.Errorf("invalid --sts-scheme %q: want https or http", scheme)
	}
	host := b.o.STSEndpoint
	switch {
	case host != "":
		if strings.Contains(host, "/") || strings.TrimSpace(host) != host {
			return nil, fmt.Errorf("invalid --sts-endpoint %q: want HOST[:PORT] without scheme or path", host)
		}
	case b.o.Network == "vpc":
		if b.o.Region == "" {
			return nil, fmt.Errorf("--network vpc needs a region to reach STS at sts-vpc.<region>.aliyuncs.com: give --region or --sts-endpoint")
		}
		host = "sts-vpc." + b.o.Region + ".aliyuncs.com"
	default:
		host = defaultSTSEndpoint
	}
	if scheme == "http" && !b.o.InsecureEndpoint && !isLoopbackHost(host) {
		return nil, fmt.Errorf("--sts-scheme http would send credentials in clear text to %s: use https, or give --insecure-endpoint if you really mean it", host)
	}
	return newSTSClient(scheme, host, b.now), nil
}

// sessionNameRE is what STS takes as RoleSessionName.
var sessionNameRE = regexp.MustCompile(`^[A-Za-z0-9._@-]{2,64}$`)

func (b *credentialBuilder) sessionName() (string, error) {
	s := b.getenv("ALIBABA_CLOUD_ROLE_SESSION_NAME")
	if s == "" {
		return defaultRoleSessionName, nil
	}
	if !sessionNameRE.MatchString(s) {
		return "", fmt.Errorf("invalid ALIBABA_CLOUD_ROLE_SESSION_NAME %q: want 2 to 64 letters, digits, '.', '@', '-' or '_'", s)
	}
	return s, nil
}

func checkRoleArn(arn string) error {
	if !strings.HasPrefix(arn, "acs:ram::") || !strings.Contains(arn, ":role/") {
		return fmt.Errorf("invalid ALIBABA_CLOUD_ROLE_ARN %q: want acs:ram::ACCOUNT_ID:role/ROLE_NAME", arn)
	}
	return nil
}

// notSet says which variables are not set, in a sentence.
func notSet(vars []string) string {
	switch len(vars) {
	case 1:
		return vars[0] + " is not set"
	default:
		return strings.Join(vars[:len(vars)-1], ", ") + " and " + vars[len(vars)-1] + " are not set"
	}
}

func isTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// fileExists reports whether path exists. A file that exists but cannot be
// read counts: the provider then says why.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
