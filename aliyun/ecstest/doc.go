// Package ecstest is an httptest-style fake of the Alibaba Cloud ECS RPC API
// (DescribeInstances, version 2014-05-26), of STS (AssumeRole and
// AssumeRoleWithOIDC, version 2015-04-01) and of the ECS instance metadata
// service, speaking the real wire protocol so that the real Go SDK can talk to
// it over HTTP on 127.0.0.1.
//
// It is deliberately as strict as the real service where the real service is
// strict: every request must carry a valid RPC signature v1 (HMAC-SHA1 over the
// RFC 3986 canonical query, empty parameters included), a Timestamp within 15
// minutes of the fake clock, a fresh SignatureNonce, a known AccessKeyId and,
// for STS credentials, the matching SecurityToken. Paging follows the real
// defaults and limits (PageSize 10 by default, at most 100; MaxResults clamped to
// 10..100; NextToken is an opaque server-side cursor; a tag-filtered query shows
// at most 1,000 instances), and a credential without ecs:DescribeInstances gets
// an empty list rather than an error, as on the real API.
//
// The fake is usable outside tests (the demo command embeds it): nothing here
// depends on package testing, and servers bind to 127.0.0.1 only.
//
// # Request processing order
//
// A request to [Server] is checked in this order; the first failure answers:
//
//  1. path "/" and method GET or POST (else 404 InvalidApi.NotFound);
//  2. Action and Version present (MissingAction, MissingVersion), Version
//     2014-05-26 or the STS 2015-04-01 (InvalidVersion), Action
//     DescribeInstances, or for STS AssumeRole or AssumeRoleWithOIDC
//     (InvalidAction.NotFound, 404); STS requests then go on as described
//     under "STS" below;
//  3. Format=JSON (case-insensitive). Format absent or XML is answered with the
//     fake's own code ecstest.FormatNotImplemented (400): the real API would
//     answer XML, which this fake does not implement;
//  4. AccessKeyId, Signature, SignatureMethod, SignatureVersion, SignatureNonce,
//     Timestamp present (Missing<Name>, 400, "<Name> is mandatory for this
//     action."); SignatureMethod HMAC-SHA1 (InvalidSignatureMethod, 400);
//     SignatureVersion 1.0 (InvalidSignatureVersion, 400); Timestamp in
//     yyyy-MM-ddTHH:mm:ssZ (InvalidTimeStamp.Format) and within 15 minutes of the
//     clock (InvalidTimeStamp.Expired);
//  5. AccessKeyId known (InvalidAccessKeyId.NotFound, 404); for an STS
//     credential SecurityToken present (MissingSecurityToken), equal
//     (InvalidSecurityToken.MismatchWithAccessKey) and unexpired
//     (InvalidSecurityToken.Expired); a SecurityToken sent with a permanent key
//     is refused as InvalidSecurityToken.MismatchWithAccessKey; a permanent key
//     past its Expires is InvalidAccessKeyId.Inactive;
//  6. signature (SignatureDoesNotMatch, 400, with the "server string to sign
//     is:" suffix the SDK compares against its own);
//  7. nonce unused within 15 minutes for this AccessKeyId (SignatureNonceUsed);
//  8. injected faults (see [Fault]): they hit authenticated DescribeInstances
//     calls only, like real gateway throttling;
//  9. DescribeInstances parameters (RegionId, filters, paging);
//  10. permission: a Denied credential gets Forbidden.RAM (403) for DryRun and
//     an empty list otherwise; DryRun=true then answers DryRunOperation (400).
//
// Paging: with MaxResults or NextToken present the token method is used and
// PageNumber/PageSize are ignored; the response then carries PageNumber 1,
// PageSize = the effective MaxResults and TotalCount = all matches (capped at
// 1,000 for tag queries), which clients must not rely on (the real values are
// unconfirmed). NextToken is empty on the last page and never set by the
// PageNumber method. A token is a server-side cursor bound to the filters of
// the query that produced it (any other query, or an unknown token, gets
// InvalidParameter.NextToken); it stays valid for reuse. Instances are ordered
// by InstanceId. Parameter errors: InvalidParam.PageSize (PageSize not 1..100),
// InvalidParam.PageNumber (< 1), InvalidParameter.MaxResults (negative or not a
// number).
//
// Codes this fake chose where ecs-api.md leaves them open (all "real-looking",
// none confirmed): MissingRegionId and the other Missing<Name> codes follow the
// gateway's documented Missing{ParameterName} pattern; InvalidApi.NotFound
// (404) for a wrong path or method; InvalidVersion (400); InvalidSignatureMethod
// and InvalidSignatureVersion (400); InvalidAccessKeyId.Inactive (400);
// InvalidParameter (400) for a malformed Tag.N name, query string or IP list;
// InvalidInstanceIds.Malformed (400) for a bad or over-long InstanceIds.
// InvalidAccessKeyId.NotFound is answered with 404 as ecs-api.md's table says,
// although the gateway's common error table lists 400: classify by Code.
//
// # STS
//
// The same [Server] answers the STS API (Version 2015-04-01) on the same
// address, told apart by Version: AssumeRole and AssumeRoleWithOIDC (steps
// 1-3 above apply to them too; other STS actions get InvalidAction.NotFound).
// AssumeRole is checked like DescribeInstances (steps 4-7: any registered
// credential, STS ones included) and then needs RoleArn (MissingRoleArn),
// RoleSessionName (MissingRoleSessionName; InvalidParameter.RoleSessionName
// unless 2-64 of A-Z a-z 0-9 . @ - _), DurationSeconds 900..3600 when given
// (InvalidParameter.DurationSeconds) and a role registered with
// [Server.AddRole] (EntityNotExist.Role, 404). AssumeRoleWithOIDC is not
// signed: it needs OIDCProviderArn (MissingOIDCProviderArn), a non-empty
// OIDCToken (AuthenticationFail.OIDCToken.Invalid, 401), the same session
// parameters, a provider registered with [Server.AddOIDCProvider]
// (AuthenticationFail.NoPermission, 401), exactly its token
// (AuthenticationFail.OIDCToken.Invalid, 401) and a registered role. A
// success answers {RequestId, AssumedRoleUser{Arn, AssumedRoleId},
// Credentials{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}} (plus
// OIDCTokenInfo for OIDC) and registers the issued credential, so
// DescribeInstances signed with it and its SecurityToken works until it
// expires. Faults never hit STS calls; Calls records them like any other.
// EntityNotExist.Role and the AuthenticationFail codes follow STS's error
// table; the statuses and messages of the others are this fake's choice.
//
// Filters the fake does not implement (SecurityGroupId, ImageId, InstanceType,
// ResourceGroupId, Filter.N.*, ...) are refused with ecstest.FilterNotImplemented
// (400) rather than silently ignored, so a test never passes by accident.
//
// # Metadata service
//
// [MetadataServer] serves PUT /latest/api/token (TTL header 1..21600 else 400,
// X-Forwarded-For 403, 404 when TokenRefused), token-checked GETs (unknown or
// expired token 401; no token 403 when TokenRequired), the items region-id,
// instance-id, zone-id, private-ipv4, hostname and vpc-id as text/plain (404 when
// empty or unknown), the /latest/meta-data/ listing, and the role under
// ram/security-credentials/ (Metadata.RoleDocument and RoleStatus serve a
// malformed or failing answer instead). It also answers proxy-form requests,
// so the SDK's hard-coded http://100.100.100.200 can be pointed at it with
// HTTP_PROXY.
//
// All exported methods of [Server] and [MetadataServer] are safe for concurrent
// use, including while requests are being served.
package ecstest
