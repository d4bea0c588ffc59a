// Package awserr classifies the errors aws-sdk-go-v2 returns as permanent
// (retrying the same call cannot succeed: a missing queue or stream, denied
// access, bad credentials or signature, a disabled KMS key, an invalid
// request) or transient (throttling, 5xx, connection faults, timeouts).
// lakekit's long-running loops retry transient errors with backoff, up to a
// bound, and stop at once on permanent ones.
//
// It looks at the error's smithy.APIError code first (the SDK wraps it in
// an OperationError and, after its own retries, a MaxAttemptsError: both
// unwrap to it), then at the HTTP status, then at the client-side
// validation errors, and takes everything else (net, DNS, timeouts,
// deserialization of a cut-off answer) as transient.
package awserr

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// The permanent codes, by what they say is wrong. Both the JSON-protocol
// names and the legacy query-protocol names that SQS still sends in
// x-amzn-query-error are listed.
var (
	// Who is calling: credentials, signatures, the account. Every call made
	// with these credentials fails alike.
	identityCodes = set(
		"AuthFailure", "IncompleteSignature", "InvalidAccessKeyId", "InvalidClientTokenId",
		"InvalidSignatureException", "MissingAuthenticationToken", "MissingAuthenticationTokenException",
		"NotAuthorized", "OptInRequired", "SignatureDoesNotMatch", "UnrecognizedClientException",
		"InvalidSecurity", "AllAccessDisabled", "AccountProblem", "InvalidToken",
		"TokenRefreshRequired", "NotSignedUp", "AuthorizationHeaderMalformed",
	)
	// What is called: the queue, bucket, stream or table does not exist
	// (here), or its KMS key cannot be used. Every call to it fails alike.
	targetCodes = set(
		"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "InvalidAddress",
		"KmsAccessDenied", "KMS.AccessDeniedException", "KmsDisabled", "KMS.DisabledException",
		"KmsInvalidKeyUsage", "KMS.InvalidKeyUsageException", "KmsInvalidState", "KMS.InvalidStateException",
		"KmsNotFound", "KMS.NotFoundException", "KmsOptInRequired", "KMS.OptInRequired",
		"ResourceNotFoundException", "KMSAccessDeniedException", "KMSDisabledException",
		"KMSNotFoundException", "KMSInvalidStateException", "KMSOptInRequired",
		"NoSuchBucket", "InvalidBucketName", "PermanentRedirect",
	)
	// Denied by policy. A policy may cover only some keys or prefixes, so
	// other calls to the same target may still succeed.
	deniedCodes = set("AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation")
	// The request itself is wrong; another request may be fine.
	inputCodes = set(
		"UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation",
		"InvalidParameterValue", "InvalidParameterCombination", "MissingParameter",
		"InvalidAttributeName", "InvalidAttributeValue",
		"InvalidArgumentException", "ValidationException",
	)
)

// Codes that are worth retrying after a pause.
var transientCodes = set(
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
	"RequestThrottledException", "TooManyRequestsException", "ProvisionedThroughputExceededException",
	"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "SlowDown",
	"PriorRequestNotComplete", "EC2ThrottledException", "TransactionInProgressException",
	"OverLimit", "KmsThrottled", "KMS.ThrottlingException", "KMSThrottlingException",
	"RequestTimeout", "RequestTimeoutException", "RequestExpired", "ExpiredToken",
	"ExpiredTokenException", "IDPCommunicationError", "ExpiredIteratorException",
	"InternalError", "InternalFailure", "InternalServerError", "InternalServiceError",
	"ServiceUnavailable", "ServiceUnavailableException", "ServiceUnavailableError",
	"ResourceInUseException",
)

func set(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[strings.ToLower(c)] = true
	}
	return m
}

// Code returns the AWS error code inside err ("" when err carries none,
// as with a connection fault).
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Permanent reports whether retrying the call that returned err cannot
// help. It is false for nil and for context errors: a caller checks its own
// context first; a per-call timeout is transient.
func Permanent(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := strings.ToLower(ae.ErrorCode())
		switch {
		case identityCodes[code], targetCodes[code], deniedCodes[code], inputCodes[code]:
			return true
		case transientCodes[code]:
			return false
		}
		if s := statusCode(err); s != 0 {
			return s >= 400 && s < 500 && s != 408 && s != 429
		}
		return ae.ErrorFault() == smithy.FaultClient
	}
	// The SDK's input validation returns InvalidParamsError by value.
	var invalid smithy.InvalidParamsError
	var invalidPtr *smithy.InvalidParamsError
	return errors.As(err, &invalid) || errors.As(err, &invalidPtr)
}

// statusCode is the HTTP status of the answer behind err, 0 if none.
func statusCode(err error) int {
	var rs interface{ HTTPStatusCode() int }
	if errors.As(err, &rs) {
		return rs.HTTPStatusCode()
	}
	return 0
}

// Fatal reports whether err says that no call to the same target with the
// same credentials can succeed, whatever its input: bad credentials or
// signature, a missing queue, bucket or stream, an unusable KMS key. A loop
// over many items (objects to copy, messages to send) stops at the first
// such error instead of failing every item alike. Access denied by policy
// is not Fatal (a policy may allow some keys and not others): see Denied.
func Fatal(err error) bool {
	code := strings.ToLower(Code(err))
	return code != "" && (identityCodes[code] || targetCodes[code])
}

// Denied reports whether err is an access-denied answer from a policy.
func Denied(err error) bool {
	return deniedCodes[strings.ToLower(Code(err))]
}
