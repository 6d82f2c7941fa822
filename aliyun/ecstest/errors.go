package ecstest

import (
	"fmt"
	"net/http"
)

// apiError is one error answer: the HTTP status and the Code and Message of
// the JSON error body.
type apiError struct {
	status  int
	code    string
	message string
	// denied adds an AccessDeniedDetail object to the body (Forbidden.RAM).
	denied bool
}

// Codes the fake invents for what it does not implement. They cannot be
// mistaken for real ECS codes.
const (
	codeFormatNotImplemented = "ecstest.FormatNotImplemented"
	codeFilterNotImplemented = "ecstest.FilterNotImplemented"
)

const (
	msgDryRun        = "Request validation has been passed with DryRun flag set."
	msgForbiddenRAM  = "User not authorized to operate on the specified resource, or this API doesn't support RAM."
	msgSignaturePref = "Specified signature is not matched with our calculation. server string to sign is:"
)

func errMissing(name string) *apiError {
	return &apiError{http.StatusBadRequest, "Missing" + name, name + " is mandatory for this action.", false}
}

func errInvalidParam(code, name string) *apiError {
	return &apiError{http.StatusBadRequest, code, fmt.Sprintf("The specified parameter %q is not valid.", name), false}
}

func errAPINotFound() *apiError {
	return &apiError{http.StatusNotFound, "InvalidApi.NotFound", "Specified api is not found, please check your url and method.", false}
}

func errActionNotFound() *apiError {
	return &apiError{http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.", false}
}

func errInvalidVersion() *apiError {
	return &apiError{http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid.", false}
}

func errFormat(got string) *apiError {
	return &apiError{http.StatusBadRequest, codeFormatNotImplemented,
		fmt.Sprintf("ecstest serves only Format=JSON (got %q); the real API answers XML when Format is absent or XML.", got), false}
}

func errSignatureMethod() *apiError {
	return &apiError{http.StatusBadRequest, "InvalidSignatureMethod", "Specified signature method is not supported.", false}
}

func errSignatureVersion() *apiError {
	return &apiError{http.StatusBadRequest, "InvalidSignatureVersion", "Specified signature version is not supported.", false}
}

func errTimestampFormat() *apiError {
	return &apiError{http.StatusBadRequest, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.", false}
}

func errTimestampExpired() *apiError {
	return &apiError{http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", false}
}

func errAccessKeyNotFound() *apiError {
	return &apiError{http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.", false}
}

func errAccessKeyInactive() *apiError {
	return &apiError{http.StatusBadRequest, "InvalidAccessKeyId.Inactive", "Specified access key is disabled.", false}
}

func errMissingSecurityToken() *apiError {
	return &apiError{http.StatusBadRequest, "MissingSecurityToken", "SecurityToken is mandatory for this action.", false}
}

func errTokenMismatch() *apiError {
	return &apiError{http.StatusBadRequest, "InvalidSecurityToken.MismatchWithAccessKey", "Specified SecurityToken mismatch with the AccessKey.", false}
}

func errTokenExpired() *apiError {
	return &apiError{http.StatusBadRequest, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.", false}
}

func errSignature(stringToSign string) *apiError {
	return &apiError{http.StatusBadRequest, "SignatureDoesNotMatch", msgSignaturePref + stringToSign, false}
}

func errNonceUsed() *apiError {
	return &apiError{http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.", false}
}

func errRegionNotFound() *apiError {
	return &apiError{http.StatusNotFound, "InvalidRegionId.NotFound", "The specified RegionId does not exist in our records.", false}
}

func errStatusNotFound() *apiError {
	return &apiError{http.StatusNotFound, "InvalidStatus.NotFound", "The specified Status is not found.", false}
}

func errNetworkTypeNotFound() *apiError {
	return &apiError{http.StatusNotFound, "InvalidNetworkType.NotFound", "The specified InstanceNetworkType is not found.", false}
}

func errTagMismatch() *apiError {
	return &apiError{http.StatusBadRequest, "InvalidTag.Mismatch", "The specified Tag.n.Key and Tag.n.Value are not match.", false}
}

func errTagCount() *apiError {
	return &apiError{http.StatusBadRequest, "InvalidTagCount", "The specified tags are beyond the permitted range.", false}
}

func errInstanceIDs() *apiError {
	return &apiError{http.StatusBadRequest, "InvalidInstanceIds.Malformed", "The specified parameter InstanceIds is not valid.", false}
}

func errNotImplemented(name string) *apiError {
	return &apiError{http.StatusBadRequest, codeFilterNotImplemented,
		fmt.Sprintf("ecstest does not implement the DescribeInstances filter %q; refusing rather than ignoring it.", name), false}
}

func errForbiddenRAM() *apiError {
	return &apiError{http.StatusForbidden, "Forbidden.RAM", msgForbiddenRAM, true}
}

func errDryRun() *apiError {
	return &apiError{http.StatusBadRequest, "DryRunOperation", msgDryRun, false}
}
