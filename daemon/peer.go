package daemon

import (
	"context"
	"errors"
	"time"
)

// Peer is one Vault server found by discovery: one ECS instance.
// Address is the address the configured address type selects.
type Peer struct {
	InstanceID  string `json:"instance_id"`
	Name        string `json:"name"`
	Hostname    string `json:"hostname"`
	Address     string `json:"address"`
	PrivateIPv4 string `json:"private_ipv4"`
	PublicIPv4  string `json:"public_ipv4"`
	IPv6        string `json:"ipv6"`
	Zone        string `json:"zone"`
	VpcID       string `json:"vpc_id"`
	Self        bool   `json:"self"`
}

// Discoverer finds the current peer set. Implementations return either every
// matching peer, sorted by InstanceID, or an error: never a partial list.
// Discover is called from one goroutine at a time.
type Discoverer interface {
	Discover(ctx context.Context) ([]Peer, error)
}

// Reason classifies a failed refresh for metrics, logs and the retry policy.
type Reason string

// The failure reasons, as used in joinhintd_refresh_failures_total{reason}.
const (
	ReasonThrottled Reason = "throttled"
	ReasonAuth      Reason = "auth"
	ReasonServer    Reason = "server"
	ReasonNetwork   Reason = "network"
	ReasonOther     Reason = "other"
)

// Classified is implemented by errors that know their failure Reason.
type Classified interface {
	error
	Reason() Reason
}

// ReasonOf returns the Reason of the first Classified error in err's chain,
// ReasonNetwork for a deadline, and ReasonOther otherwise.
func ReasonOf(err error) Reason {
	var c Classified
	if errors.As(err, &c) {
		return c.Reason()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ReasonNetwork
	}
	return ReasonOther
}

// APIObserver records one cloud API call. metrics.Metrics implements it; the
// aliyun package calls it once per HTTP request it makes. code is "Success",
// the API's error code, "transport" or "decode".
type APIObserver interface {
	ObserveAPIRequest(action, code string, d time.Duration)
	// TagQueryCapped records a refresh whose tag query reached the API's
	// 1,000-instance cap: peers beyond it may be missing.
	TagQueryCapped()
}

// Detailed is implemented by errors that carry the cloud API's error code and
// request id, so logs can name them without knowing the cloud's types.
type Detailed interface {
	error
	ErrorCode() string
	RequestID() string
}
