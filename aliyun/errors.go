package aliyun

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/joinhintd/joinhintd/daemon"
)

// Metric codes for calls that got no API error code.
const (
	codeSuccess   = "Success"
	codeTransport = "transport"
	codeDecode    = "decode"
	// codeCredentials: no request was sent, the credentials could not be had.
	codeCredentials = "credentials"
)

// APIError is a failed ECS API call: the ECS error code (or "transport" /
// "decode"), the request id when the API gave one, and the failure Reason.
// Its message never holds a secret: the SDK's echo of the string to sign,
// which carries the STS token, is cut off.
type APIError struct {
	Action     string
	Code       string
	Request    string // request id
	HTTPStatus int
	Message    string
	reason     daemon.Reason
	err        error
	// accessKeyID is the AccessKey ID the request was signed with (an
	// identifier, not a secret), for advice such as "key X is unknown".
	accessKeyID string
}

func (e *APIError) Error() string {
	return callError(e.Action, e.Code, e.HTTPStatus, e.Message, "")
}

// callError formats a failed API call as "Action: Code (HTTP n): Message",
// with " [request id R]" when requestID is not "".
func callError(action, code string, status int, message, requestID string) string {
	var b strings.Builder
	b.WriteString(action)
	b.WriteString(": ")
	b.WriteString(code)
	if status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", status)
	}
	if message != "" {
		b.WriteString(": ")
		b.WriteString(message)
	}
	if requestID != "" {
		b.WriteString(" [request id ")
		b.WriteString(requestID)
		b.WriteString("]")
	}
	return b.String()
}

// Unwrap returns the SDK or transport error. Its text may hold the string to
// sign: never log it directly.
func (e *APIError) Unwrap() error { return e.err }

// Reason implements daemon.Classified.
func (e *APIError) Reason() daemon.Reason { return e.reason }

// ErrorCode implements daemon.Detailed.
func (e *APIError) ErrorCode() string { return e.Code }

// RequestID implements daemon.Detailed.
func (e *APIError) RequestID() string { return e.Request }

// classify turns the error of one SDK call into an *APIError.
func classify(action string, err error) *APIError {
	e := &APIError{Action: action, err: err}
	var se *sdkerrors.ServerError
	var ce *sdkerrors.ClientError
	var cred *CredentialError
	switch {
	case errors.As(err, &cred):
		// Nothing was sent: the signer could not get credentials.
		e.Code = codeCredentials
		e.Message = cred.Error()
		e.reason = cred.Reason()
	case errors.As(err, &se):
		e.HTTPStatus = se.HttpStatus()
		e.Request = se.RequestId()
		e.Code = se.ErrorCode()
		e.Message = safeMessage(se.Message())
		if e.Code == "" {
			// A non-JSON error page (a proxy, a load balancer): no code.
			e.Code = codeDecode
			e.Message = fmt.Sprintf("answer without an ECS error code (%d bytes)", len(se.Message()))
		}
		e.reason = reasonForCode(e.Code, e.HTTPStatus)
	case errors.As(err, &ce) && ce.ErrorCode() == sdkerrors.JsonUnmarshalErrorCode:
		e.Code = codeDecode
		e.Message = "the answer is not the JSON DescribeInstances returns"
		e.reason = daemon.ReasonServer
	default:
		// Connection refused or reset, timeouts (*url.Error), a body cut
		// short (io.ErrUnexpectedEOF, unwrapped by the SDK), TLS failures.
		e.Code = codeTransport
		e.Message = transportMessage(err)
		e.reason = daemon.ReasonNetwork
	}
	return e
}

// reasonForCode classifies by the ECS error code, falling back to the HTTP
// status only for answers without a code: the status of some codes differs
// between regions and documents.
func reasonForCode(code string, status int) daemon.Reason {
	switch {
	case strings.HasPrefix(code, "Throttling"):
		return daemon.ReasonThrottled
	case code == "ServiceUnavailable", strings.HasPrefix(code, "InternalError"),
		strings.HasPrefix(code, "UnknownError"):
		return daemon.ReasonServer
	case strings.HasPrefix(code, "InvalidAccessKeyId"), code == "SignatureDoesNotMatch",
		code == "IncompleteSignature", strings.HasPrefix(code, "Forbidden"),
		code == "NoPermission", strings.HasPrefix(code, "InvalidSecurityToken"),
		code == "MissingSecurityToken", code == "InvalidAccessKeySecret",
		strings.HasPrefix(code, "InvalidTimeStamp"):
		return daemon.ReasonAuth
	case code == codeDecode && status >= 500:
		return daemon.ReasonServer
	case code == codeDecode && status == 429:
		return daemon.ReasonThrottled
	default:
		return daemon.ReasonOther
	}
}

// safeMessage drops everything from the SDK's "server string to sign is:"
// on: that echo holds every signed parameter, the STS token among them.
func safeMessage(msg string) string {
	if i := strings.Index(msg, "server string to sign is"); i >= 0 {
		msg = strings.TrimRight(msg[:i], " :")
	}
	const limit = 300
	if len(msg) > limit {
		msg = msg[:limit] + "..."
	}
	return msg
}

// transportMessage describes a transport failure without the request URL:
// its query string holds the signature and the STS token.
func transportMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		host := ""
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
		return safeMessage(fmt.Sprintf("%s %s: %v", ue.Op, host, ue.Err))
	}
	return safeMessage(err.Error())
}
