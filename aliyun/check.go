package aliyun

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
)

// codeDryRunOperation is how the API says a DryRun request would succeed.
const codeDryRunOperation = "DryRunOperation"

// Check asks DescribeInstances with DryRun=true whether the credentials may
// list instances in the region. It returns nil when they may. Unlike a
// listing, which answers a caller without permission with an empty list, a
// dry run answers it with an error, so Check tells "no permission" from "no
// peers". The error is an *APIError; Explain turns it into advice.
func (d *Discoverer) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := d.request("")
	req.DryRun = requests.NewBoolean(true)
	_, err := d.do(req)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code == codeDryRunOperation {
		return nil
	}
	if err == nil {
		// A real API never lists instances for a dry run.
		return &APIError{Action: actionDescribeInstances, Code: codeDecode, reason: reasonForCode(codeDecode, 0),
			Message: "the dry run was answered with a listing; the endpoint does not behave like ECS"}
	}
	return err
}

// Explain turns a Check or Discover failure into one line that says what to
// fix. It never includes a secret: it names settings, not their values.
func Explain(err error, c *Config) string {
	var e *APIError
	if !errors.As(err, &e) {
		return err.Error()
	}
	code := e.Code
	switch {
	case strings.HasPrefix(code, "Forbidden"), code == "NoPermission":
		return fmt.Sprintf("no permission: the credentials may not call DescribeInstances in %s; grant the RAM action ecs:DescribeInstances (see deploy/ram-policy.json) [%s]", c.Region, code)
	case code == "InvalidAccessKeyId.NotFound":
		return fmt.Sprintf("bad AccessKey ID: %q is not known to Alibaba Cloud; check access_key_id or ALIBABA_CLOUD_ACCESS_KEY_ID [%s]", e.accessKeyID, code)
	case code == "InvalidAccessKeyId.Inactive":
		return fmt.Sprintf("the AccessKey %q is disabled; enable it or use another [%s]", e.accessKeyID, code)
	case code == "SignatureDoesNotMatch", code == "IncompleteSignature", code == "InvalidAccessKeySecret":
		return fmt.Sprintf("bad AccessKey secret: the secret does not belong to AccessKey %q; check access_key_secret or ALIBABA_CLOUD_ACCESS_KEY_SECRET [%s]", e.accessKeyID, code)
	case code == "InvalidSecurityToken.Expired":
		return fmt.Sprintf("the STS token has expired: fetch new temporary credentials (or use the ECS RAM role, which joinhintd refreshes itself) [%s]", code)
	case strings.HasPrefix(code, "InvalidSecurityToken"), code == "MissingSecurityToken":
		return fmt.Sprintf("the STS token does not match the AccessKey: set ALIBABA_CLOUD_SECURITY_TOKEN with the temporary AccessKey it came with [%s]", code)
	case strings.HasPrefix(code, "InvalidTimeStamp"):
		return fmt.Sprintf("the request time was refused: this machine's clock is off; fix NTP [%s]", code)
	case code == "InvalidRegionId.NotFound", code == "InvalidRegionId.Malformed":
		return fmt.Sprintf("unknown region %q: check --region (region ids look like cn-hangzhou) [%s]", c.Region, code)
	case code == codeCredentials:
		return fmt.Sprintf("cannot get credentials, so nothing was asked of the API: %s", e.Message)
	case e.reason == "network":
		return fmt.Sprintf("network failure: cannot reach the ECS API at %s://%s (%s); check --endpoint, --network and the route to it", c.EndpointScheme, c.EndpointHost(), e.Message)
	case e.reason == "throttled":
		return fmt.Sprintf("the ECS API is throttling this account (%s); try again in a minute", code)
	default:
		return e.Error()
	}
}
